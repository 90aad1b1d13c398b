import {
  create,
  type DescMessage,
  isMessage,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { frameMessage } from "../wire/envelope.js";
import { opaqueMessage } from "../wire/opaque-message.js";

/**
 * A response whose bytes a hand-written writer produces (src/wire): both
 * paths send exactly these bytes to binary clients, and the message object,
 * needed only for JSON clients and in-process consumers, is built only when
 * asked for. test/unit/wire-contract.test.ts holds every writer to
 * protobuf-es's encoding of `message()`.
 */
export class Reply<O> {
  constructor(
    /** The response message's protobuf encoding. */
    readonly bytes: () => Uint8Array,
    /** The response as a protobuf-es message. */
    readonly message: () => O,
    /** The encoding as one uncompressed length-prefixed frame, when it can be had cheaper than framing bytes(). */
    readonly frame?: () => Uint8Array,
    /**
     * The encoding after `headroom` free bytes, for a transport that writes
     * its own header in front (the WebSocket frame's), when the writer can
     * leave room for it: the bytes are then copied once, not twice.
     */
    readonly bytesAfter?: (headroom: number) => Uint8Array,
  ) {}
}

/** What a method core answers: a message, or a Reply carrying its own bytes (not the fetch Response). */
export type CoreReply<O> = O | Reply<O>;

/** The response for a connect-node handler: binary clients get the Reply's own bytes, JSON clients the message. */
export function toConnectResponse<S extends DescMessage>(
  schema: S,
  response: CoreReply<MessageShape<S>>,
  binary: boolean,
): MessageShape<S> {
  if (!(response instanceof Reply)) return response;
  return binary ? opaqueMessage(schema, response.bytes()) : response.message();
}

/** The response as one uncompressed gRPC frame. */
export function toFrame<S extends DescMessage>(
  schema: S,
  response: CoreReply<MessageShape<S>>,
): Uint8Array {
  if (!(response instanceof Reply)) {
    // Cores may answer with an init object, as connect-node's handlers may.
    const message = isMessage(response, schema) ? response : create(schema, response);
    return frameMessage(toBinary(schema, message));
  }
  return response.frame?.() ?? frameMessage(response.bytes());
}

/** The response as a protobuf-es message, for consumers in this process (the SSE gateway). */
export function toMessage<O>(response: CoreReply<O>): O {
  return response instanceof Reply ? response.message() : response;
}
