import * as http2 from "node:http2";

/** The service's path prefix: Parley and the grpc-js baseline serve the same one. */
const SERVICE = "/chat.v1.ChatService/";

/** `authorization` of every call this agent starts (its job's token), or none. */
let authorization: string | undefined;

/** Send `authorization: Bearer <token>` on every call from now on (one job per agent process). */
export function useToken(token: string | undefined): void {
  authorization = token === undefined ? undefined : `Bearer ${token}`;
}

/**
 * Open an h2c session with large receive windows, so flow control never
 * throttles a load generator that reads as fast as it can.
 */
export async function connectH2(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url, {
    settings: { initialWindowSize: 4 << 20, enablePush: false },
  });
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  session.setLocalWindowSize(64 << 20);
  // Errors end up on the streams; a session error after connect must not crash the agent.
  session.on("error", () => undefined);
  return session;
}

/** One gRPC length-prefixed message (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Callbacks of one raw gRPC call. */
export interface CallHandlers {
  /** A chunk of the response body: length-prefixed messages, possibly cut anywhere. */
  onData(chunk: Buffer): void;
  /** The call ended; status is the grpc-status (0 = OK), or -1 when the stream failed. */
  onEnd?(status: number): void;
}

/**
 * Start a gRPC call on a session without any codec: the caller writes framed
 * requests and scans raw response bytes. `request`, if given, is written
 * and the request side ended (unary and server-streaming calls).
 */
export function startCall(
  session: http2.ClientHttp2Session,
  method: string,
  handlers: CallHandlers,
  request?: Buffer,
): http2.ClientHttp2Stream {
  const stream = session.request({
    ":method": "POST",
    ":path": SERVICE + method,
    "content-type": "application/grpc",
    te: "trailers",
    ...(authorization === undefined ? {} : { authorization }),
  });
  let status = -1;
  const readStatus = (headers: http2.IncomingHttpHeaders) => {
    const value = headers["grpc-status"];
    if (typeof value === "string") status = Number(value);
  };
  stream.on("response", readStatus);
  stream.on("trailers", readStatus);
  stream.on("data", handlers.onData);
  stream.on("error", () => undefined);
  stream.on("close", () => handlers.onEnd?.(status));
  if (request) stream.end(request);
  return stream;
}

/** A unary call: resolves with its grpc-status (0 = OK) once the call is over. */
export function unaryCall(
  session: http2.ClientHttp2Session,
  method: string,
  request: Buffer,
): Promise<number> {
  return new Promise((resolve) => {
    startCall(session, method, { onData: () => undefined, onEnd: resolve }, request);
  });
}
