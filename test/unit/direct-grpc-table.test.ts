import { afterEach, describe, expect, it } from "vitest";
import type { MethodCore } from "../../src/calls/method-core.js";
import { chatCores } from "../../src/chat/chat-cores.js";
import { RoomHub } from "../../src/rooms/room-hub.js";
import { type DirectOptions, directGrpc } from "../../src/server/grpc-direct/direct-grpc.js";
import { MemoryLog } from "../../src/store/memory-log.js";

// The direct gRPC path's method table: what it refuses when it is built,
// before any call (test/e2e/protocols/direct-bidi-reader.test.ts serves one).

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** The chat service's real cores, on a memory store. */
function realCores(): MethodCore[] {
  const log = new MemoryLog({ retention: 100 });
  const hub = new RoomHub(log, { heartbeatMs: 60_000, maxEvents: 100, maxBytes: 1 << 20 });
  closers.push(async () => {
    hub.close();
    await log.close();
  });
  return chatCores(hub, log);
}

function optionsFor(methods: DirectOptions["methods"]): DirectOptions {
  return {
    methods,
    policies: [],
    shutdownSignal: new AbortController().signal,
    readMaxBytes: 1 << 20,
    maxTimeoutMs: 60_000,
  };
}

function coreOf(cores: MethodCore[], name: string): MethodCore {
  const core = cores.find((c) => c.method.name === name);
  if (core === undefined) throw new Error(`no core for ${name}`);
  return core;
}

describe("the direct gRPC path's table", () => {
  it("refuses a client-streaming core when it is built, naming the method", () => {
    const cores = realCores();
    const build = () =>
      directGrpc(
        optionsFor([{ core: coreOf(cores, "Send") }, { core: coreOf(cores, "Listener") }]),
      );
    expect(build).toThrow(
      new Error(
        "direct gRPC path: chat.v1.ChatService.Listener is client streaming, which this path does not serve; leave it to the connect path",
      ),
    );
  });

  it("refuses a method given twice, naming it", () => {
    const cores = realCores();
    const echo = coreOf(cores, "Echo");
    expect(() => directGrpc(optionsFor([{ core: echo }, { core: echo }]))).toThrow(
      new Error("direct gRPC path: chat.v1.ChatService.Echo is given twice"),
    );
  });

  it("builds from every core of the other kinds: unary, server streaming and bidi", () => {
    const served = realCores().filter((core) => core.kind !== "client_streaming");
    expect(new Set(served.map((core) => core.kind))).toEqual(
      new Set(["unary", "server_streaming", "bidi_streaming"]),
    );
    expect(typeof directGrpc(optionsFor(served.map((core) => ({ core }))))).toBe("function");
  });
});
