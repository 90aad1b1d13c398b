import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import {
  ChatService,
  EchoRequestSchema,
  EchoResponseSchema,
} from "../../../gen/chat/v1/chat_pb.js";
import type { BidiCore, MethodCore } from "../../../src/calls/method-core.js";
import { directGrpc } from "../../../src/server/grpc-direct/direct-grpc.js";
import { frame, grpcStatus, rawCall } from "../../helpers/raw-grpc.js";

// The direct gRPC path's bidi reader, on an HTTP/2 server of its own: a core
// that asks to wait (returns a promise, as Chat does while a post is stored)
// gets no further request until it settles, even within one chunk of frames.

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * A bidi core that takes its time over each request (as Chat does while a
 * post is stored): request() returns a promise that settles on a later timer
 * turn, and the core records whether a request arrived before the previous
 * one's promise settled.
 */
function slowEchoCore(seen: string[], overlaps: string[]): BidiCore<{ text: string }, unknown> {
  return {
    kind: "bidi_streaming",
    method: ChatService.method.echo,
    start(_scope, sink) {
      let busy = false;
      let seq = 0n;
      return {
        request({ text }) {
          if (busy) overlaps.push(text);
          busy = true;
          seen.push(text);
          return new Promise<void>((resolve) => {
            setTimeout(() => {
              busy = false;
              seq++;
              sink.send(create(EchoResponseSchema, { text, seq }));
              resolve();
            }, 1);
          });
        },
        end: () => sink.end(),
      };
    },
  };
}

describe("the direct gRPC path's bidi reader", () => {
  it("hands requests of one chunk over one at a time, waiting on each promise the core returns", async () => {
    const seen: string[] = [];
    const overlaps: string[] = [];
    const take = directGrpc({
      methods: [{ core: slowEchoCore(seen, overlaps) as MethodCore }],
      policies: [],
      shutdownSignal: new AbortController().signal,
      readMaxBytes: 1 << 20,
      maxTimeoutMs: 60_000,
    });
    const server = http2.createServer();
    server.on("stream", (stream, headers) => {
      if (!take(stream, headers)) stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    closers.push(() => void session.close());

    const texts = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const body = Buffer.concat(
      texts.map((text) => frame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { text })))),
    );
    const answer = await rawCall(session, { path: "/chat.v1.ChatService/Echo", body });
    expect(grpcStatus(answer).status).toBe("0");
    expect(overlaps).toEqual([]);
    expect(seen).toEqual(texts);
    const replies: [string, bigint][] = [];
    for (let at = 0; at < answer.body.length; ) {
      const length = answer.body.readUInt32BE(at + 1);
      const reply = fromBinary(EchoResponseSchema, answer.body.subarray(at + 5, at + 5 + length));
      replies.push([reply.text, reply.seq]);
      at += 5 + length;
    }
    expect(replies).toEqual(texts.map((text, i) => [text, BigInt(i + 1)]));
  });
});
