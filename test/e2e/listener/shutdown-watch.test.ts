import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { unwatchShutdown, watchShutdown } from "../../../src/server/edge/shutdown-watch.js";

describe("watchShutdown", () => {
  it("tells every watcher still watching, once, with the signal's reason", () => {
    const shutdown = new AbortController();
    const told: string[] = [];
    const watchers = Array.from({ length: 1000 }, (_, i) => ({
      abort(reason: unknown) {
        told.push(`${i}:${String(reason)}`);
      },
    }));
    for (const w of watchers) watchShutdown(shutdown.signal, w);
    // However many wait, the signal itself carries one listener.
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(1);
    for (const w of watchers.slice(0, 998)) unwatchShutdown(shutdown.signal, w);
    shutdown.abort("going down");
    expect(told).toEqual(["998:going down", "999:going down"]);
    shutdown.abort("again");
    expect(told).toHaveLength(2);
  });

  it("tells a watcher at once when the signal has already aborted", () => {
    const shutdown = new AbortController();
    shutdown.abort("already");
    const told: unknown[] = [];
    watchShutdown(shutdown.signal, { abort: (reason) => told.push(reason) });
    expect(told).toEqual(["already"]);
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
  });

  it("keeps the watchers of different signals apart", () => {
    const a = new AbortController();
    const b = new AbortController();
    const told: string[] = [];
    watchShutdown(a.signal, { abort: () => told.push("a") });
    watchShutdown(b.signal, { abort: () => told.push("b") });
    a.abort();
    expect(told).toEqual(["a"]);
  });
});
