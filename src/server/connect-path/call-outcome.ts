import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  codeFromHttpStatus,
  endStreamFlag,
  endStreamFromJson,
  errorFromJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import type { CallProtocol } from "../../calls/call-info.js";
import { readEnvelope } from "../../wire/envelope.js";

/**
 * A connect-node response, watched so that once it is written the call's
 * outcome can be told: `outcome()` throws the error the client was answered
 * with, read where each protocol puts it (gRPC trailers, the gRPC-Web
 * trailer frame, a Connect unary error body or end-of-stream message), and
 * returns for a success. Only the last body chunk is kept.
 */
export function watchOutcome(
  protocol: CallProtocol,
  unary: boolean,
  response: UniversalServerResponse,
) {
  let last: Uint8Array | undefined;
  const body = response.body;
  const watched: UniversalServerResponse =
    body === undefined || protocol === "grpc"
      ? response
      : {
          ...response,
          body: {
            [Symbol.asyncIterator]() {
              const it = body[Symbol.asyncIterator]();
              return {
                next: () =>
                  it.next().then((r) => {
                    if (r.done !== true) last = r.value;
                    return r;
                  }),
                return: (value?: unknown) =>
                  it.return?.(value) ?? Promise.resolve({ done: true, value }),
                throw: (e?: unknown) => it.throw?.(e) ?? Promise.reject(e),
              } as AsyncIterator<Uint8Array>;
            },
          },
        };
  return {
    response: watched,
    outcome(): void {
      const error = answeredError(protocol, unary, response, last);
      if (error !== undefined) throw error;
    },
  };
}

function answeredError(
  protocol: CallProtocol,
  unary: boolean,
  response: UniversalServerResponse,
  last: Uint8Array | undefined,
): ConnectError | undefined {
  if (protocol === "grpc") {
    if (response.status !== 200) return httpError(response.status);
    return response.trailer === undefined ? undefined : findTrailerError(response.trailer);
  }
  if (response.status !== 200) {
    if (last === undefined) return httpError(response.status);
    return errorFromJsonBytes(last, undefined, httpError(response.status));
  }
  // A Connect unary success is the bare message; every other body ends in an envelope.
  if (protocol === "connect" && unary) return undefined;
  // connect-node writes each envelope in a chunk of its own.
  const envelope = last === undefined ? undefined : readEnvelope(last);
  if (envelope === undefined) return undefined;
  if (protocol === "grpc-web" && (envelope.flags & trailerFlag) !== 0) {
    return findTrailerError(trailerParse(envelope.data));
  }
  if (protocol === "connect" && (envelope.flags & endStreamFlag) !== 0) {
    return endStreamFromJson(envelope.data).error;
  }
  return undefined;
}

function httpError(status: number): ConnectError {
  return new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status) ?? Code.Unknown);
}
