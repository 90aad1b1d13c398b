import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WebSocket } from "ws";
import { EchoRequestSchema, EchoResponseSchema } from "../../gen/chat/v1/chat_pb.js";

// A plain `ws` client of docs/protocols.md#websocket that does not use the
// client library: the frame layout is written out here by hand from the
// document, so tests of the server hold it to what the document says.

/** One frame's bytes: type, call id (uint32 BE), payload. */
export function wsFrame(type: number, id: number, payload: Uint8Array | string = new Uint8Array()) {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, body]);
}

/** OPEN of `/chat.v1.ChatService/<method>`, with more OPEN fields (headers, credit …). */
export const wsOpen = (id: number, method: string, extra: object = {}) =>
  wsFrame(1, id, JSON.stringify({ method: `/chat.v1.ChatService/${method}`, ...extra }));
export const wsMessage = (id: number, bytes: Uint8Array) => wsFrame(2, id, bytes);
export const wsHalfClose = (id: number) => wsFrame(3, id);
export const wsCancel = (id: number) => wsFrame(4, id);

/** A frame as received. */
export interface Received {
  type: number;
  id: number;
  payload: Buffer;
}

/** A raw socket that records every frame and its close. */
export interface RawWs {
  ws: WebSocket;
  frames: Received[];
  closed: Promise<{ code: number; reason: string }>;
  /** Wait until a frame of `type` for call `id` arrived; returns it. */
  waitFor(type: number, id: number): Promise<Received>;
  /** The END of call `id`, parsed. */
  end(id: number): Promise<{ error?: { code: string; message: string; details?: unknown } }>;
}

/** The socket URL of a server's base URL. */
export const wsUrlOf = (baseUrl: string) => `${baseUrl.replace("http", "ws")}/ws`;

/**
 * Open a raw socket to `baseUrl` and resolve once it is open. `options` go to
 * `ws` (autoPong: false makes a peer that never answers pings).
 */
export async function connectRawWs(
  baseUrl: string,
  headers: Record<string, string> = {},
  protocol = "parley.v1",
  options: { autoPong?: boolean } = {},
): Promise<RawWs> {
  const ws = new WebSocket(wsUrlOf(baseUrl), protocol === "" ? [] : [protocol], {
    headers,
    ...options,
  });
  const frames: Received[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on("message", (data: Buffer) =>
    frames.push({ type: data[0] as number, id: data.readUInt32BE(1), payload: data.subarray(5) }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const waitFor = async (type: number, id: number): Promise<Received> => {
    for (let i = 0; i < 500; i++) {
      const found = frames.find((f) => f.type === type && f.id === id);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(
      `no frame 0x${type.toString(16)} for call ${id}; got ${JSON.stringify(frames.map((f) => [f.type, f.id]))}`,
    );
  };
  const end = async (id: number) => JSON.parse((await waitFor(0x13, id)).payload.toString());
  return { ws, frames, closed, waitFor, end };
}

/** What an upgrade attempt got: 101 (then closed again) or the refusal's status and body. */
export function tryUpgrade(
  baseUrl: string,
  headers: Record<string, string> = {},
  protocols: string[] = ["parley.v1"],
): Promise<{ status: number; body: string; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrlOf(baseUrl), protocols, { headers });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => resolve({ status: 101, body: "", ws }));
    ws.on("error", (error) => {
      // 'unexpected-response' already answered; any other error is the test's.
      if (!String(error.message).startsWith("Unexpected server response")) reject(error);
    });
  });
}

/**
 * The socket still serves: an Echo round trip as call `id` (with these
 * request headers, a token for one); returns the echoed text.
 */
export async function wsEchoes(
  socket: RawWs,
  id: number,
  headers: Record<string, string> = {},
): Promise<string> {
  socket.ws.send(wsOpen(id, "Echo", { headers }));
  socket.ws.send(
    wsMessage(id, toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: "ok" }))),
  );
  socket.ws.send(wsHalfClose(id));
  const end = await socket.end(id);
  const reply = socket.frames.find((f) => f.type === 0x12 && f.id === id);
  if (end.error !== undefined || reply === undefined) {
    throw new Error(`the Echo ended ${JSON.stringify(end)}`);
  }
  return fromBinary(EchoResponseSchema, reply.payload).text;
}
