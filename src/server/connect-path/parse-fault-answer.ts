import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamFromJson,
  endStreamToJson,
  errorFromJsonBytes,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { CallProtocol } from "../../calls/call-info.js";
import { asClientFault, isParseFault } from "../../calls/parse-fault.js";
import { readEnvelope, writeEnvelope } from "../../wire/envelope.js";

/**
 * connect-node's answer to a unary or server-streaming call with binary
 * messages, where a request message it could not decode is told as
 * INVALID_ARGUMENT (400 on Connect unary), not INTERNAL/500: connect decodes
 * that message before any handler or interceptor runs, so its error can
 * only be corrected in the answer. The failure comes before any response
 * message, so only a Connect unary error body, the first body chunk (the
 * gRPC-Web trailer frame or Connect end-of-stream message, each a chunk of
 * its own) or, on gRPC, the trailers can carry it. Other calls pass as they are.
 */
export async function parseFaultAnswer(
  protocol: CallProtocol,
  unary: boolean,
  response: UniversalServerResponse,
): Promise<UniversalServerResponse> {
  const body = response.body;
  if (body === undefined) return response;
  if (protocol === "connect" && unary) {
    // Only an error has this status; its body is one small JSON chunk, read
    // here because the status must change with it.
    if (response.status !== codeToHttpStatus(Code.Internal)) return response;
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    const error = errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Internal));
    if (!isParseFault(error)) return { ...response, body: createAsyncIterable(chunks) };
    const fixed = errorToJsonBytes(asClientFault(error) as ConnectError, {});
    const header = new Headers(response.header);
    header.set("content-length", String(fixed.byteLength));
    return {
      ...response,
      status: codeToHttpStatus(Code.InvalidArgument),
      header,
      body: createAsyncIterable([fixed]),
    };
  }
  return { ...response, body: firstChunkFixed(body, fixFor(protocol, response)) };
}

type Fix = (first: IteratorResult<Uint8Array>) => IteratorResult<Uint8Array>;

function fixFor(protocol: CallProtocol, response: UniversalServerResponse): Fix {
  switch (protocol) {
    case "grpc":
      // The body ends before connect-node writes the trailers it filled in.
      return (first) => {
        const trailer = response.trailer;
        if (first.done === true && trailer !== undefined) {
          const error = findTrailerError(trailer);
          if (isParseFault(error)) setTrailerStatus(trailer, asClientFault(error) as ConnectError);
        }
        return first;
      };
    case "grpc-web":
      return chunkFix(trailerFlag, (data) => {
        const trailer = trailerParse(data);
        const error = findTrailerError(trailer);
        if (!isParseFault(error)) return undefined;
        return trailerSerialize(setTrailerStatus(trailer, asClientFault(error) as ConnectError));
      });
    default:
      return chunkFix(endStreamFlag, (data) => {
        const end = endStreamFromJson(data);
        if (!isParseFault(end.error)) return undefined;
        const fixed = endStreamToJson(end.metadata, asClientFault(end.error) as ConnectError, {});
        return new TextEncoder().encode(JSON.stringify(fixed));
      });
  }
}

/** A Fix for the envelope flagged `flag` whose data `rewrite` replaces (undefined: unchanged). */
function chunkFix(flag: number, rewrite: (data: Uint8Array) => Uint8Array | undefined): Fix {
  return (first) => {
    if (first.done === true) return first;
    const chunk = first.value;
    const envelope = readEnvelope(chunk);
    if (envelope === undefined || envelope.flags !== flag) return first;
    const data = rewrite(envelope.data);
    if (data === undefined) return first;
    return { done: false, value: writeEnvelope(flag, data) };
  };
}

/** `body` with its first read passed through `fix`; later reads, throw and return go straight through. */
function firstChunkFixed(body: AsyncIterable<Uint8Array>, fix: Fix): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      let first = true;
      return {
        next: () => {
          if (!first) return it.next();
          first = false;
          return it.next().then(fix);
        },
        return: (value?: unknown) => it.return?.(value) ?? Promise.resolve({ done: true, value }),
        throw: (e?: unknown) => it.throw?.(e) ?? Promise.reject(e),
      } as AsyncIterator<Uint8Array>;
    },
  };
}
