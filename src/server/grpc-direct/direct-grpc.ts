import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ChatService, SubscribeRequestSchema } from "../../../gen/chat/v1/chat_pb.js";
import { encodedEvents } from "../../chat/event-responses.js";
import { LIMITS } from "../../chat/limits.js";
import { appendMessage } from "../../chat/send-message.js";
import { validSubscribeRequest } from "../../chat/subscribe-events.js";
import type { QueuedEvent } from "../../rooms/room-event.js";
import type { RoomHub } from "../../rooms/room-hub.js";
import type { Http2StreamTaker } from "../one-port.js";
import { decodeEchoRequestText, encodeEchoResponse } from "./echo-codec.js";
import { GrpcCall } from "./grpc-call.js";
import { FRAME_PREFIX_BYTES, FrameReader, frameMessage, writeFramePrefix } from "./grpc-frames.js";
import { parseGrpcTimeout } from "./grpc-status.js";
import { decodeSendRequest, encodeSendResponse } from "./send-codec.js";

type Method = (call: GrpcCall, hub: RoomHub) => void;

const METHODS = new Map<string, Method>([
  [`/${ChatService.typeName}/Send`, (call, hub) => unary(call, (bytes) => send(hub, bytes))],
  [`/${ChatService.typeName}/Subscribe`, (call, hub) => subscribe(call, hub)],
  [`/${ChatService.typeName}/Echo`, (call) => echo(call)],
]);

/** The gRPC content types whose messages are protobuf binary. */
const GRPC_PROTO = /^application\/grpc(\+proto)?$/;

/**
 * The calls that carry a chat service's load, answered straight on the HTTP/2
 * stream: Send, Subscribe and Echo over gRPC with binary messages and no
 * compression. connect-node's generic pipeline (an AbortSignal, header
 * objects, several async-iterable stages and promises per call and per
 * message) costs several times what these calls do themselves; see
 * bench/RESULTS.md. Every other call (other methods, JSON, compressed
 * requests, Connect, gRPC-Web, HTTP/1.1) declines here and goes to connect.
 * Both paths run the same validation, hub and encoding, and the test suite
 * runs every method over every protocol.
 */
export function directGrpc(hub: RoomHub, shutdownSignal: AbortSignal): Http2StreamTaker {
  return (stream, headers) => {
    const method = METHODS.get(headers[":path"] ?? "");
    if (method === undefined || headers[":method"] !== "POST") return false;
    const contentType = (headers["content-type"] ?? "").split(";", 1)[0]?.trim().toLowerCase();
    if (contentType === undefined || !GRPC_PROTO.test(contentType)) return false;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    let timeoutMs: number | undefined;
    let badTimeout: unknown;
    try {
      timeoutMs = parseGrpcTimeout(headers["grpc-timeout"]);
    } catch (error) {
      badTimeout = error;
    }
    const call = new GrpcCall(stream, { contentType, timeoutMs, shutdownSignal });
    if (badTimeout !== undefined) call.finish(badTimeout);
    else method(call, hub);
    return true;
  };
}

/**
 * The request message of a unary or server-streaming call: exactly one. Its
 * listeners go once it is read, so an open stream keeps none of them.
 */
function readSingleMessage(call: GrpcCall): Promise<Buffer> {
  const { stream, signal } = call;
  const reader = new FrameReader(LIMITS.messageMaxBytes);
  const messages: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const settle = (error: unknown, message?: Buffer) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      signal.removeEventListener("abort", onAbort);
      if (message !== undefined) resolve(message);
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      try {
        messages.push(...reader.push(chunk));
      } catch (error) {
        settle(error);
      }
    };
    const onEnd = () => {
      const [only] = messages;
      if (messages.length === 1 && only !== undefined && !reader.partial) settle(undefined, only);
      else
        settle(
          new ConnectError(
            `expected exactly one request message, got ${reader.partial ? "a truncated one" : messages.length}`,
            Code.InvalidArgument,
          ),
        );
    };
    const onAbort = () => settle(signal.reason);
    stream.on("data", onData);
    stream.on("end", onEnd);
    signal.addEventListener("abort", onAbort);
  });
}

/** Decode a request as connect-node does, and report failure the way it does (see chat.proto). */
function decode<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ConnectError(
      `parse binary: ${error instanceof Error ? error.message : String(error)}`,
      Code.Internal,
    );
  }
}

function unary(call: GrpcCall, answer: (request: Buffer) => Promise<Uint8Array>): void {
  readSingleMessage(call)
    .then(answer)
    .then(
      (response) => {
        call.send(frameMessage(response));
        call.finish();
      },
      (error: unknown) => call.finish(error),
    );
}

async function send(hub: RoomHub, bytes: Buffer): Promise<Uint8Array> {
  const request = decode(() => decodeSendRequest(bytes));
  return encodeSendResponse(await appendMessage(hub, request));
}

async function subscribe(call: GrpcCall, hub: RoomHub): Promise<void> {
  try {
    const bytes = await readSingleMessage(call);
    const { room, request } = validSubscribeRequest(
      decode(() => fromBinary(SubscribeRequestSchema, bytes)),
    );
    hub.feed(room, request, call.signal, {
      deliver: (batch) => call.send(eventsFrame(batch)),
      drained: () => call.drained(),
      end: (reason) => call.finish(reason),
    });
  } catch (error) {
    call.finish(error);
  }
}

/**
 * A subscriber that keeps up gets each event alone, in the same bytes as
 * every other subscriber that keeps up: that frame is built once per event
 * and shared (the stream never modifies what it writes). Batches differ per
 * subscriber and are framed for each.
 */
const singleEventFrames = new WeakMap<QueuedEvent, Buffer>();

function eventsFrame(batch: readonly QueuedEvent[]): Buffer {
  const only = batch.length === 1 ? batch[0] : undefined;
  if (only === undefined) return writeFramePrefix(encodedEvents(batch, FRAME_PREFIX_BYTES));
  let frame = singleEventFrames.get(only);
  if (frame === undefined) {
    frame = writeFramePrefix(encodedEvents(batch, FRAME_PREFIX_BYTES));
    singleEventFrames.set(only, frame);
  }
  return frame;
}

/**
 * Echo: each request answered as it arrives, the answers to one chunk of
 * requests in one write; reading pauses while the client is not reading.
 */
function echo(call: GrpcCall): void {
  const reader = new FrameReader(LIMITS.messageMaxBytes);
  const stream = call.stream;
  let seq = 0n;
  stream.on("data", (chunk: Buffer) => {
    if (call.isFinished) return;
    try {
      const frames: Buffer[] = [];
      for (const bytes of reader.push(chunk)) {
        const text = decode(() => decodeEchoRequestText(bytes));
        seq++;
        frames.push(frameMessage(encodeEchoResponse(text, seq, Date.now())));
      }
      if (frames.length === 0) return;
      if (!call.send(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames))) {
        stream.pause();
        void call.drained().then(() => stream.resume());
      }
    } catch (error) {
      call.finish(error);
    }
  });
  stream.once("end", () =>
    call.finish(
      reader.partial
        ? new ConnectError("the request stream ended inside a message", Code.InvalidArgument)
        : undefined,
    ),
  );
  call.signal.addEventListener("abort", () => call.finish(call.signal.reason), { once: true });
}
