import * as http2 from "node:http2";

/** Everything a raw HTTP/2 call got back. */
export interface RawAnswer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One length-prefixed gRPC message. */
export function frame(message: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flags;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** What a raw call sends. */
export interface RawRequest {
  /** e.g. "/chat.v1.ChatService/Send". */
  path: string;
  headers?: http2.OutgoingHttpHeaders;
  /** Sent whole, then the request side is closed (unless `keepOpen`). */
  body: Buffer;
  /** Leave the request side open (a client that never half-closes). */
  keepOpen?: boolean;
  /** Reset the stream with CANCEL once the first response bytes (or, with 0, the headers) arrive. */
  cancelAfterData?: boolean;
}

/** Send one raw request on `session`; resolves when the stream closes. */
export function rawCall(
  session: http2.ClientHttp2Session,
  request: RawRequest,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": request.path,
      "content-type": "application/grpc",
      te: "trailers",
      ...request.headers,
    });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      headers = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (c: Buffer) => {
      chunks.push(c);
      if (request.cancelAfterData) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on("error", reject);
    stream.on("close", () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
    if (request.keepOpen) stream.write(request.body);
    else if (request.body.length === 0) stream.end();
    else stream.end(request.body);
  });
}

/** grpc-status, grpc-message (as sent) and grpc-status-details-bin, wherever the answer put them. */
export function grpcStatus(answer: RawAnswer) {
  const source = answer.trailers["grpc-status"] !== undefined ? answer.trailers : answer.headers;
  return {
    status: source["grpc-status"],
    message: source["grpc-message"],
    details: source["grpc-status-details-bin"],
  };
}
