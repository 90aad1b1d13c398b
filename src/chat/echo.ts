import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ChatService,
  type EchoRequest,
  type EchoResponse,
  EchoResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { BidiCore } from "../calls/method-core.js";
import { Reply } from "../calls/reply.js";
import { encodeEchoResponse } from "../wire/echo-codec.js";

/**
 * The Echo method: each request answered at once with its per-stream seq and
 * the time it arrived (by `now`, Date.now unless a test fixes it).
 */
export function echoCore(
  now: () => number = Date.now,
): BidiCore<Pick<EchoRequest, "text">, EchoResponse> {
  return {
    kind: "bidi_streaming",
    method: ChatService.method.echo,
    start(_scope, sink) {
      let seq = 0n;
      return {
        request({ text }) {
          seq++;
          const n = seq;
          const receivedAtMs = now();
          const reply = new Reply(
            () => encodeEchoResponse(text, n, receivedAtMs),
            () =>
              create(EchoResponseSchema, {
                text,
                seq: n,
                receivedAt: timestampFromMs(receivedAtMs),
              }),
          );
          // Read no further request while the client is not reading answers.
          return sink.send(reply) ? undefined : sink.drained();
        },
        end: () => sink.end(),
      };
    },
  };
}
