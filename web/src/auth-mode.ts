import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { backoffDelay, sleep } from "../../src/client/backoff.js";
import { isRetryable } from "../../src/client/retryable.js";

/** How the server knows its callers (its --auth flag), as far as the page needs to know. */
export type AuthMode = "off" | "guest" | "jwt";

/**
 * Ask the server which mode it runs in, using only what the contract
 * promises: a ListRooms without a token succeeds only when no tokens are
 * checked (off); otherwise an empty Login name is INVALID_ARGUMENT where
 * Login hands out guest tokens and FAILED_PRECONDITION where it is off
 * (jwt). No error message is parsed. Waits, with backoff, while the server
 * cannot be reached; any other failure is thrown.
 */
export async function detectAuthMode(
  rpc: Client<typeof ChatService>,
  signal?: AbortSignal,
): Promise<AuthMode> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rpc.listRooms({ limit: 1 }, { signal });
      return "off";
    } catch (error) {
      const failure = ConnectError.from(error);
      if (failure.code === Code.Unauthenticated) return loginMode(rpc, signal);
      if (signal?.aborted || !isRetryable(failure)) throw failure;
      await sleep(backoffDelay(attempt, { initialDelayMs: 250, maxDelayMs: 5000 }), signal);
    }
  }
}

async function loginMode(
  rpc: Client<typeof ChatService>,
  signal: AbortSignal | undefined,
): Promise<AuthMode> {
  try {
    await rpc.login({ name: "" }, { signal });
  } catch (error) {
    const failure = ConnectError.from(error);
    if (failure.code === Code.InvalidArgument) return "guest";
    if (failure.code === Code.FailedPrecondition) return "jwt";
    throw failure;
  }
  throw new ConnectError("Login accepted an empty name", Code.Internal);
}
