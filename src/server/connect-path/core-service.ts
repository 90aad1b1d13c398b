import type { DescMessage } from "@bufbuild/protobuf";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { callError } from "../../calls/call-error.js";
import type { CallInfo } from "../../calls/call-info.js";
import type { MethodCore, RequestSink } from "../../calls/method-core.js";
import { clientFaultRequests } from "../../calls/parse-fault.js";
import { pullReplies } from "../../calls/pull-replies.js";
import { toConnectResponse } from "../../calls/reply.js";
import { abortable } from "../../chat/abortable.js";
import { connectScope } from "./call-scope.js";

/** Where a handler leaves the error its call failed with, cause and all, for the request log. */
export const failureKey = createContextKey<{ error?: unknown } | undefined>(undefined, {
  description: "parley call failure",
});

type Handler = (request: never, ctx: HandlerContext) => unknown;

/**
 * connect-node handlers for a service's method cores: each adapts connect's
 * request and context to the core and the core's responses to messages
 * (binary clients get a Reply's own bytes). Errors reach connect as
 * callError() makes them, and are kept for the request log with their cause.
 * A request message of a client or bidi stream that connect cannot decode
 * fails as INVALID_ARGUMENT (clientFaultRequests), as a single request
 * message does (parse-fault-answer.ts).
 */
export function serviceFromCores(
  cores: readonly MethodCore[],
  shutdownSignal: AbortSignal,
): Record<string, Handler> {
  const impl: Record<string, Handler> = {};
  for (const core of cores) impl[core.method.localName] = handlerFor(core, shutdownSignal);
  return impl;
}

function handlerFor(core: MethodCore, shutdownSignal: AbortSignal): Handler {
  const schema = core.method.output as DescMessage;
  switch (core.kind) {
    case "unary":
      return async (request: unknown, ctx: HandlerContext) => {
        const { scope, stop } = connectScope(ctx, shutdownSignal);
        try {
          return toConnectResponse(schema, await core.run(request, scope), isBinary(scope.call));
        } catch (error) {
          throw failed(ctx, error);
        } finally {
          stop();
        }
      };
    case "client_streaming":
      return async (requests: AsyncIterable<unknown>, ctx: HandlerContext) => {
        const { scope, stop } = connectScope(ctx, shutdownSignal);
        try {
          const read = clientFaultRequests(requests);
          return toConnectResponse(schema, await core.run(read, scope), isBinary(scope.call));
        } catch (error) {
          throw failed(ctx, error);
        } finally {
          stop();
        }
      };
    case "server_streaming":
      return async function* (request: unknown, ctx: HandlerContext) {
        const { scope, stop } = connectScope(ctx, shutdownSignal);
        const binary = isBinary(scope.call);
        try {
          const responses = pullReplies<never>((sink) => core.start(request, scope, sink), stop);
          for await (const r of responses) yield toConnectResponse(schema, r, binary);
        } catch (error) {
          throw failed(ctx, error);
        } finally {
          stop();
        }
      };
    case "bidi_streaming":
      return async function* (requests: AsyncIterable<unknown>, ctx: HandlerContext) {
        const { scope, stop } = connectScope(ctx, shutdownSignal);
        const binary = isBinary(scope.call);
        try {
          const responses = pullReplies<never>((sink) => {
            const requestSink = core.start(scope, sink);
            const read = abortable(clientFaultRequests(requests), scope.signal);
            readRequests(read, requestSink).catch((error: unknown) => sink.end(error));
          }, stop);
          for await (const r of responses) {
            yield toConnectResponse(schema, r, binary);
          }
        } catch (error) {
          throw failed(ctx, error);
        } finally {
          stop();
        }
      };
  }
}

/** Push a request stream into a bidi core, in order, waiting when the core asks to. */
async function readRequests(requests: AsyncIterable<unknown>, sink: RequestSink<unknown>) {
  for await (const request of requests) {
    const waiting = sink.request(request);
    if (waiting !== undefined) await waiting;
  }
  sink.end();
}

/** The client's error for a handler's failure, kept with its cause for the request log. */
function failed(ctx: HandlerContext, reason: unknown) {
  const error = callError(reason);
  const slot = ctx.values.get(failureKey);
  if (slot !== undefined) slot.error = error;
  return error;
}

function isBinary(call: CallInfo): boolean {
  return call.encoding === "proto";
}
