import { Code, ConnectError } from "@connectrpc/connect";
import { FrameReader } from "../../wire/envelope.js";
import type { GrpcCall } from "./grpc-call.js";

/**
 * The request message of a unary or server-streaming call, read as
 * connect-node reads it: the call waits for the end of the request, and
 * none or a second message is refused in connect's words. Its listeners go
 * once it is read, so an open stream keeps none of them.
 */
export function readSingleMessage(
  call: GrpcCall,
  kind: "unary" | "server_streaming",
  readMaxBytes: number,
): Promise<Uint8Array> {
  const { stream } = call;
  const reader = new FrameReader(readMaxBytes);
  let first: Uint8Array | undefined;
  return new Promise((resolve, reject) => {
    let unhook: (() => void) | undefined;
    const settle = (error: unknown, message?: Uint8Array) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      unhook?.();
      if (message !== undefined) resolve(message);
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      try {
        for (const message of reader.push(chunk)) {
          if (first !== undefined) {
            throw new ConnectError(
              `protocol error: received extra input message for ${kind} method`,
              Code.Unimplemented,
            );
          }
          first = message;
        }
      } catch (error) {
        settle(error);
      }
    };
    const onEnd = () => {
      try {
        // Node ends the request side of a stream the client reset, too: a
        // request that was cut off is not a request, whatever it held.
        if (stream.closed) throw new ConnectError("the client reset the stream", Code.Canceled);
        reader.end();
        if (first === undefined) {
          throw new ConnectError(
            `protocol error: missing input message for ${kind} method`,
            Code.Unimplemented,
          );
        }
        settle(undefined, first);
      } catch (error) {
        settle(error);
      }
    };
    stream.on("data", onData);
    stream.on("end", onEnd);
    unhook = call.onAbort((reason) => settle(reason));
  });
}
