import { Code, ConnectError } from "@connectrpc/connect";
import { compressionNegotiate } from "@connectrpc/connect/protocol";
import { parseTimeout } from "@connectrpc/connect/protocol-grpc";
import {
  contentTypeJson,
  contentTypeProto,
  setTrailerStatus,
  trailerFlag,
  trailerSerialize,
} from "@connectrpc/connect/protocol-grpc-web";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { FrameReader, writeEnvelope } from "../../wire/envelope.js";
import { headerValue } from "../edge/call-info.js";
import type { UnaryAnswer, UnaryRequest, UnaryWire } from "./unary-wire.js";

/** What connect-node accepts as request compression; grpc-encoding is negotiated from it. */
const ACCEPT_COMPRESSION = [compressionGzip, compressionBrotli];

/**
 * gRPC-Web's unary calls: one enveloped message up, the message and a
 * trailer envelope (grpc-status 0) down; an error is the trailer envelope
 * alone, with HTTP status 200. Served: application/grpc-web, +proto and
 * +json, not compressed, a grpc-timeout connect accepts. The text variant
 * (base64) goes to connect-node.
 */
export const grpcWebUnaryWire: UnaryWire = {
  accepts(headers, maxTimeoutMs) {
    const type = headers["content-type"];
    const binary =
      type === "application/grpc-web" || type === contentTypeProto
        ? true
        : type === contentTypeJson
          ? false
          : undefined;
    if (binary === undefined) return undefined;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return undefined;
    const timeout = parseTimeout(headerValue(headers["grpc-timeout"]) ?? null, maxTimeoutMs);
    if (timeout.error !== undefined) return undefined;
    // Answers are never compressed, but connect names the encoding it would use.
    const negotiated = compressionNegotiate(
      ACCEPT_COMPRESSION,
      null,
      headerValue(headers["grpc-accept-encoding"]) ?? null,
      "grpc-accept-encoding",
    ).response?.name;
    const answerHeaders: Record<string, string> = {};
    if (negotiated !== undefined) answerHeaders["grpc-encoding"] = negotiated;
    return { binary, timeoutMs: timeout.timeoutMs, headers: answerHeaders };
  },
  async read(body, _headers, readMaxBytes) {
    const reader = new FrameReader(readMaxBytes);
    let first: Uint8Array | undefined;
    for await (const chunk of body) {
      for (const message of reader.push(Buffer.from(chunk))) {
        if (first !== undefined) {
          throw new ConnectError(
            "protocol error: received extra input message for unary method",
            Code.Unimplemented,
          );
        }
        first = message;
      }
    }
    reader.end();
    if (first === undefined) {
      throw new ConnectError(
        "protocol error: missing input message for unary method",
        Code.Unimplemented,
      );
    }
    return first;
  },
  ok(request, message) {
    const body = Buffer.concat([writeEnvelope(0, message), trailer(undefined)]);
    return answer(request, body);
  },
  error(request, error) {
    return answer(request, trailer(error));
  },
};

function answer(request: UnaryRequest, body: Uint8Array): UnaryAnswer {
  const type = request.binary ? contentTypeProto : contentTypeJson;
  return { status: 200, headers: { "content-type": type, ...request.headers }, body, sized: false };
}

/** The trailer envelope: grpc-status 0, or the error's status, message, details and metadata. */
function trailer(error: ConnectError | undefined): Buffer {
  const fields = new Headers({ "grpc-status": "0" });
  if (error !== undefined) setTrailerStatus(fields, error);
  return writeEnvelope(trailerFlag, trailerSerialize(fields));
}
