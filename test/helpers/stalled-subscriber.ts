import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { SubscribeRequestSchema } from "../../gen/chat/v1/chat_pb.js";
import { frame } from "./raw-grpc.js";

/** A gRPC Subscribe whose client stopped reading right after the first response (ready). */
export interface StalledSubscriber {
  /** Read on: resolves with what the stream held, its status and message, once it closes. */
  readRest(): Promise<{ bytes: number; status: string | undefined; message: string | undefined }>;
  close(): void;
}

/**
 * Open a Subscribe on its own HTTP/2 connection, wait for the first response
 * and then read nothing more: the stream's flow-control window fills and the
 * server's writes to it back up, as with a client that hangs. `headers` are
 * sent with the request (an authorization header, say).
 */
export function stalledSubscriber(
  baseUrl: string,
  room: string,
  author: string,
  headers: Record<string, string> = {},
): Promise<StalledSubscriber> {
  const request = toBinary(
    SubscribeRequestSchema,
    create(SubscribeRequestSchema, { room, author }),
  );
  return stalledStream(baseUrl, "Subscribe", request, headers);
}

/** As stalledSubscriber, for any server-streaming ChatService method and request bytes. */
export async function stalledStream(
  baseUrl: string,
  method: string,
  request: Uint8Array,
  headers: Record<string, string> = {},
): Promise<StalledSubscriber> {
  const session = http2.connect(baseUrl);
  const stream = session.request({
    ":method": "POST",
    ":path": `/chat.v1.ChatService/${method}`,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  let trailers: http2.IncomingHttpHeaders = {};
  stream.on("trailers", (t) => {
    trailers = t;
  });
  stream.end(frame(request));
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    stream.once("error", reject);
    stream.once("data", (chunk: Buffer) => {
      bytes += chunk.length;
      stream.pause();
      resolve();
    });
  });
  const closed = new Promise<void>((resolve) => stream.once("close", resolve));
  return {
    async readRest() {
      stream.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      stream.resume();
      await closed;
      const source = trailers["grpc-status"] === undefined ? {} : trailers;
      return {
        bytes,
        status: source["grpc-status"] as string | undefined,
        message: source["grpc-message"] as string | undefined,
      };
    },
    close() {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    },
  };
}
