import { Code, ConnectError } from "@connectrpc/connect";

/** How connect's binary codec begins the error of a message it cannot decode. */
const PARSE_BINARY = "parse binary: ";

/**
 * True for connect's error for a request message it could not decode from
 * the protobuf binary encoding: INTERNAL "parse binary: …". connect raises
 * it for bytes the client sent, so the fault is the client's; JSON it cannot
 * decode is already INVALID_ARGUMENT.
 */
export function isParseFault(error: unknown): error is ConnectError {
  return (
    error instanceof ConnectError &&
    error.code === Code.Internal &&
    error.rawMessage.startsWith(PARSE_BINARY)
  );
}

/**
 * The error a client is told for `error`: an undecodable request message as
 * INVALID_ARGUMENT in connect's own words ("parse binary: premature EOF"),
 * which is what a client can act on; anything else as it is.
 */
export function asClientFault(error: unknown): unknown {
  if (!isParseFault(error)) return error;
  return new ConnectError(error.rawMessage, Code.InvalidArgument, error.metadata);
}

/**
 * A request stream whose undecodable message fails with asClientFault's
 * error (client and bidi streams decode each message as it is read). It
 * costs one promise per message.
 */
export function clientFaultRequests<T>(requests: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = requests[Symbol.asyncIterator]();
      return {
        next: () =>
          it.next().catch((error: unknown) => {
            throw asClientFault(error);
          }),
        return: (value?: unknown) =>
          it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined as T }),
      };
    },
  };
}
