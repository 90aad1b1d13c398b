import { Code, ConnectError } from "@connectrpc/connect";
import type { CallScope } from "../../calls/method-core.js";
import type { RequestReader, WsCall } from "./ws-call.js";
import type { WsRoute } from "./ws-route.js";

/**
 * Run a route's core for an admitted call: requests come from the call's
 * frames as the core's kind needs them, responses go to the call as its
 * ReplySink. Unary and server-streaming calls take exactly one message and
 * the half-close, refused in connect's words otherwise.
 */
export function serveCall(route: WsRoute, call: WsCall, scope: CallScope): void {
  const { core, parse } = route;
  switch (core.kind) {
    case "unary":
      call.start(
        single("unary", (bytes) =>
          core.run(parse(bytes), scope).then(
            (response) => {
              call.send(response);
              call.end();
            },
            (error: unknown) => call.end(error),
          ),
        ),
      );
      return;
    case "server_streaming":
      call.start(single("server_streaming", (bytes) => core.start(parse(bytes), scope, call)));
      return;
    case "client_streaming": {
      const requests = new RequestQueue();
      call.start((item) => requests.put(item === null ? null : parse(item)));
      core.run(requests, scope).then(
        (response) => {
          call.send(response);
          call.end();
        },
        (error: unknown) => call.end(error),
      );
      scope.signal.addEventListener("abort", () => requests.stop(scope.signal.reason), {
        once: true,
      });
      return;
    }
    case "bidi_streaming": {
      const sink = core.start(scope, call);
      call.start((item) => (item === null ? sink.end() : sink.request(parse(item))));
      return;
    }
  }
}

/** A reader for a call that takes one message, run by `run` at the half-close. */
function single(
  kind: "unary" | "server_streaming",
  run: (bytes: Uint8Array) => unknown,
): RequestReader {
  let first: Uint8Array | undefined;
  return (item) => {
    if (item !== null) {
      if (first !== undefined) {
        throw new ConnectError(
          `protocol error: received extra input message for ${kind} method`,
          Code.Unimplemented,
        );
      }
      first = item;
      return;
    }
    if (first === undefined) {
      throw new ConnectError(
        `protocol error: missing input message for ${kind} method`,
        Code.Unimplemented,
      );
    }
    run(first);
  };
}

/**
 * A client stream's requests as the async iterable a core reads. put()
 * settles when the core has taken the request, so the call grants the
 * client more credit only as the core reads.
 */
class RequestQueue implements AsyncIterable<unknown> {
  private readonly items: { value: unknown; taken: () => void }[] = [];
  private ended = false;
  private stopped: { reason: unknown } | undefined;
  private wake: (() => void) | undefined;

  put(value: unknown): Promise<void> | undefined {
    if (value === null) {
      this.ended = true;
      this.wake?.();
      return undefined;
    }
    return new Promise((taken) => {
      this.items.push({ value, taken });
      this.wake?.();
    });
  }

  /** The call ended: a reader still waiting gets `reason`. */
  stop(reason: unknown): void {
    this.stopped = { reason };
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<unknown> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        item.taken();
        yield item.value;
        continue;
      }
      if (this.stopped !== undefined) throw this.stopped.reason;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
