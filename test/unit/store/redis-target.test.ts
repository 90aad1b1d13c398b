import { describe, expect, it } from "vitest";
import { openLog } from "../../../src/store/open-log.js";
import { parseRedisTarget } from "../../../src/store/redis-target.js";

describe("parseRedisTarget", () => {
  it("reads host, port and db of redis://", () => {
    expect(parseRedisTarget("redis://127.0.0.1:6380")).toEqual({
      kind: "standalone",
      host: "127.0.0.1",
      port: 6380,
      db: 0,
    });
    expect(parseRedisTarget("redis://cache.internal:7000/3")).toEqual({
      kind: "standalone",
      host: "cache.internal",
      port: 7000,
      db: 3,
    });
    expect(parseRedisTarget("redis://localhost")).toEqual({
      kind: "standalone",
      host: "localhost",
      port: 6379,
      db: 0,
    });
    expect(parseRedisTarget("redis://[::1]:6390/1")).toEqual({
      kind: "standalone",
      host: "::1",
      port: 6390,
      db: 1,
    });
    expect(parseRedisTarget("redis://:s%40cret@10.0.0.5:6379")).toEqual({
      kind: "standalone",
      host: "10.0.0.5",
      port: 6379,
      db: 0,
      password: "s@cret",
    });
  });

  it("reads every seed node of redis-cluster://", () => {
    expect(parseRedisTarget("redis-cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
        { host: "10.0.0.3", port: 6379 },
      ],
    });
  });

  it("reads node_ttl_ms, and rejects other settings and out-of-range values", () => {
    expect(parseRedisTarget("redis://h:1/2?node_ttl_ms=3000")).toEqual({
      kind: "standalone",
      host: "h",
      port: 1,
      db: 2,
      nodeTtlMs: 3000,
    });
    expect(parseRedisTarget("redis-cluster://a:1,b:2?node_ttl_ms=900")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "a", port: 1 },
        { host: "b", port: 2 },
      ],
      nodeTtlMs: 900,
    });
    expect(() => parseRedisTarget("redis://h:1?ttl=5")).toThrow(
      '--store redis://h:1?ttl=5: unknown setting "ttl" (known: node_ttl_ms)',
    );
    expect(() => parseRedisTarget("redis://h:1?node_ttl_ms=10")).toThrow(
      "--store redis://h:1?node_ttl_ms=10: node_ttl_ms must be an integer from 300 to 600000",
    );
  });

  it("rejects malformed values, naming the value and the accepted forms", () => {
    expect(() => parseRedisTarget("redis://")).toThrow(
      '--store "redis://": expected redis://host:port[/db][?node_ttl_ms=N] or redis-cluster://host:port,host:port,...[?node_ttl_ms=N]',
    );
    expect(() => parseRedisTarget("redis://a:1,b:2")).toThrow(
      "--store redis://a:1,b:2: redis:// takes one host:port; use redis-cluster:// for several",
    );
    expect(() => parseRedisTarget("redis://host:99999")).toThrow(
      '--store redis://host:99999: "host:99999" is not host:port',
    );
    expect(() => parseRedisTarget("redis-cluster://a:1,b:2/2")).toThrow(
      "--store redis-cluster://a:1,b:2/2: a cluster has only db 0",
    );
  });

  it("is what openLog uses, and openLog names every store form it accepts", () => {
    expect(() => openLog("redis://", { retention: 10 })).toThrow(/expected redis:\/\/host:port/);
    expect(() => openLog("postgres://x", { retention: 10 })).toThrow(
      '--store "postgres://x": expected sqlite:PATH, memory:, redis://host:port[/db] or redis-cluster://host:port,...',
    );
  });
});
