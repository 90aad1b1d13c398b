import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { ChatService } from "../../gen/chat/v1/chat_pb.js";

/** How the server knows its callers (its --auth flag), as far as the page needs to know. */
export type AuthMode = "off" | "guest" | "jwt";

/**
 * The mode of a server whose Login answered FAILED_PRECONDITION (it hands
 * out no guest tokens), using only what the contract promises: a ListRooms
 * without a token succeeds only where no tokens are checked (off); where
 * they are, it is UNAUTHENTICATED (jwt). No error message is parsed; any
 * other failure is thrown.
 *
 * The page asks this only then: it starts as a guest (the default mode) or
 * in the mode it learned before, so a page load calls nothing it knows will
 * fail (issue 19: the old probe was a ListRooms and an empty-name Login,
 * refused on every load of a default server).
 */
export async function modeWithoutGuests(rpc: Client<typeof ChatService>): Promise<AuthMode> {
  try {
    await rpc.listRooms({ limit: 1 });
    return "off";
  } catch (error) {
    const failure = ConnectError.from(error);
    if (failure.code === Code.Unauthenticated) return "jwt";
    throw failure;
  }
}
