import type * as http2 from "node:http2";
import {
  create,
  type DescMessage,
  type DescMethod,
  fromJsonString,
  type Message,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { codeFromHttpStatus, findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import type { RawAnswer, RawRequest } from "./raw-grpc.js";

// Running grpc-differential.test.ts's raw requests over the WebSocket
// transport with the generated client, and putting a gRPC answer and a
// client call's outcome in one comparable shape.

/** What one call over the WebSocket sends: the RPC, its request messages' exact bytes, its deadline. */
export interface WsRequest {
  /** The RPC's name ("Send"); one the service lacks makes an unknown method. */
  method: string;
  messages: Uint8Array[];
  timeoutMs?: number;
}

/** What a call got: its responses (protobuf bytes, hex) and its status. */
export interface CallOutcome {
  responses: string[];
  code: number;
  message: string;
  /** Error details: type name and value bytes (hex). */
  details: string[];
}

/** The request messages of a gRPC body: each envelope's payload, in order. */
export function envelopes(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const size = body.readUInt32BE(at + 1);
    out.push(body.subarray(at + 5, at + 5 + size));
    at += 5 + size;
  }
  return out;
}

/**
 * The raw request's messages and deadline as a WebSocket call: the same
 * request bytes, with grpc-timeout ("200m", "10S") as timeoutMs.
 */
export function wsOf(request: RawRequest): WsRequest {
  const method = request.path.split("/").at(-1) ?? "";
  const timeout = request.headers?.["grpc-timeout"];
  const units: Record<string, number> = { m: 1, S: 1000 };
  const timeoutMs =
    typeof timeout === "string"
      ? Number(timeout.slice(0, -1)) * (units[timeout.slice(-1)] ?? Number.NaN)
      : undefined;
  return {
    method,
    messages: envelopes(request.body),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

/**
 * A message of `schema` whose binary encoding is exactly `bytes`, however
 * malformed: the first tag becomes an unknown field holding the rest, which
 * protobuf-es writes back byte for byte. This lets the generated client send
 * what a raw client would.
 */
export function messageOfBytes<S extends DescMessage>(schema: S, bytes: Uint8Array) {
  const message = create(schema) as Message;
  if (bytes.length === 0) return message;
  const reader = new BinaryReader(bytes);
  const [no, wireType] = reader.tag();
  message.$unknown = [{ no, wireType, data: bytes.subarray(reader.pos) }];
  if (!Buffer.from(toBinary(schema, message as never)).equals(Buffer.from(bytes))) {
    throw new Error(`cannot carry ${Buffer.from(bytes).toString("hex")} in a message`);
  }
  return message;
}

/** Make the call over `transport` with the generated client (the transport itself where the client cannot express it). */
export async function callOverWs(transport: Transport, request: WsRequest): Promise<CallOutcome> {
  const known = ChatService.methods.find((m) => m.name === request.method);
  const method: DescMethod = known ?? { ...ChatService.method.send, name: request.method };
  const messages = request.messages.map((bytes) => messageOfBytes(method.input, bytes));
  const options = request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs };
  const responses: string[] = [];
  const keep = (response: Message) =>
    responses.push(Buffer.from(toBinary(method.output, response as never)).toString("hex"));
  const client = createClient(ChatService, transport) as unknown as Record<
    string,
    (input: unknown, options: object) => unknown
  >;
  try {
    if (known !== undefined && method.methodKind === "unary" && messages.length === 1) {
      keep((await client[method.localName]?.(messages[0], options)) as Message);
    } else if (
      known !== undefined &&
      method.methodKind === "server_streaming" &&
      messages.length === 1
    ) {
      const stream = client[method.localName]?.(messages[0], options) as AsyncIterable<Message>;
      for await (const r of stream) keep(r);
    } else {
      // No message or two on a unary call, an unknown method: what only a raw client sends.
      const answer = await transport.stream(
        method as DescMethod & { methodKind: "bidi_streaming" },
        undefined,
        request.timeoutMs,
        undefined,
        (async function* () {
          yield* messages;
        })() as AsyncIterable<never>,
      );
      for await (const r of answer.message) keep(r as Message);
    }
    return { responses, code: 0, message: "", details: [] };
  } catch (error) {
    const e = ConnectError.from(error);
    return { responses, ...statusOf(e) };
  }
}

function statusOf(e: ConnectError) {
  return {
    code: e.code as number,
    message: e.rawMessage,
    details: e.details.map((d) =>
      "desc" in d
        ? `${d.desc.typeName} ${Buffer.from(toBinary(d.desc, create(d.desc, d.value as never))).toString("hex")}`
        : `${d.type} ${Buffer.from(d.value).toString("hex")}`,
    ),
  };
}

/**
 * A gRPC answer in the same shape: its response messages (JSON ones as
 * `output`'s binary encoding, to compare with the WebSocket's protobuf) and
 * its status; an HTTP error status is the code gRPC clients read from it,
 * with the body's text as the message.
 */
export function outcomeOfGrpc(answer: RawAnswer, output?: DescMessage): CallOutcome {
  const status = Number(answer.headers[":status"]);
  if (status !== 200) {
    return {
      responses: [],
      code: codeFromHttpStatus(status),
      message: answer.body.toString("utf8").trimEnd(),
      details: [],
    };
  }
  const headers = (h: http2.IncomingHttpHeaders) => {
    const out = new Headers();
    for (const [name, value] of Object.entries(h)) {
      if (!name.startsWith(":") && typeof value === "string") out.set(name, value);
    }
    return out;
  };
  const trailers = answer.trailers["grpc-status"] !== undefined ? answer.trailers : answer.headers;
  const error = findTrailerError(headers(trailers));
  const json = answer.headers["content-type"] === "application/grpc+json";
  const responses = envelopes(answer.body).map((m) =>
    json && output !== undefined
      ? Buffer.from(toBinary(output, fromJsonString(output, m.toString("utf8")))).toString("hex")
      : m.toString("hex"),
  );
  if (error === undefined) return { responses, code: 0, message: "", details: [] };
  return { responses, ...statusOf(error) };
}
