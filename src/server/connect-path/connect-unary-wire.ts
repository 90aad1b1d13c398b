import { readAllBytes } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  parseTimeout,
} from "@connectrpc/connect/protocol-connect";
import { headerValue } from "../edge/call-info.js";
import type { UnaryWire } from "./unary-wire.js";

/**
 * The Connect protocol's unary calls: POST with a bare message as the body.
 * Served: application/proto and application/json, not compressed, protocol
 * version 1 or none, a timeout connect accepts. An error is its JSON body
 * under the HTTP status connect maps its code to, metadata as headers.
 */
export const connectUnaryWire: UnaryWire = {
  accepts(headers, maxTimeoutMs) {
    const type = headers["content-type"];
    const binary =
      type === contentTypeUnaryProto ? true : type === contentTypeUnaryJson ? false : undefined;
    if (binary === undefined) return undefined;
    const encoding = headers["content-encoding"];
    if (encoding !== undefined && encoding !== "identity") return undefined;
    const version = headers["connect-protocol-version"];
    if (version !== undefined && version !== "1") return undefined;
    const timeout = parseTimeout(headerValue(headers["connect-timeout-ms"]) ?? null, maxTimeoutMs);
    if (timeout.error !== undefined) return undefined;
    return { binary, timeoutMs: timeout.timeoutMs, headers: {} };
  },
  read(body, headers, readMaxBytes) {
    return readAllBytes(body, readMaxBytes, headerValue(headers["content-length"]) ?? null);
  },
  ok(request, message) {
    const type = request.binary ? contentTypeUnaryProto : contentTypeUnaryJson;
    return { status: 200, headers: { "content-type": type }, body: message, sized: true };
  },
  error(_request, error) {
    const headers: Record<string, string> = {};
    error.metadata.forEach((value, key) => {
      headers[key] = value;
    });
    headers["content-type"] = contentTypeUnaryJson;
    const status = codeToHttpStatus(error.code);
    return { status, headers, body: errorToJsonBytes(error, {}), sized: true };
  },
};
