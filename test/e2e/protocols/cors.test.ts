import { cors } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { configFrom, serverCommand } from "../../../src/config.js";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { openSse, request } from "../../helpers/sse-client.js";
import { startTestServer } from "../../helpers/test-server.js";

const onCleanup = cleanupAfterEach();

async function serve(corsOrigins: string[]) {
  const server = await startTestServer({ corsOrigins });
  onCleanup(() => server.stop());
  return server;
}

const SEND = "/chat.v1.ChatService/Send";

const preflight = (url: string, origin: string) =>
  request(`${url}${SEND}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version",
    },
  });

async function post(url: string, origin: string) {
  const res = await fetch(`${url}${SEND}`, {
    method: "POST",
    headers: { origin, "content-type": "application/json" },
    body: JSON.stringify({ room: "cors", author: "ann", text: "hi" }),
  });
  return {
    status: res.status,
    allowOrigin: res.headers.get("access-control-allow-origin"),
    expose: res.headers.get("access-control-expose-headers"),
  };
}

describe("CORS", () => {
  it("allows none by default: no CORS headers on preflights or calls", async () => {
    const server = await serve([]);
    const pre = await preflight(server.url, "https://app.example");
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
    expect(pre.headers["access-control-allow-methods"]).toBeUndefined();
    const call = await post(server.url, "https://app.example");
    expect([call.status, call.allowOrigin, call.expose]).toEqual([200, null, null]);
  });

  it("answers preflights for an allowed origin with Connect's methods and headers", async () => {
    const server = await serve(["https://app.example", "http://localhost:5173"]);
    const pre = await preflight(server.url, "http://localhost:5173");
    expect(pre.status).toBe(204);
    expect({
      origin: pre.headers["access-control-allow-origin"],
      methods: pre.headers["access-control-allow-methods"],
      headers: pre.headers["access-control-allow-headers"],
      maxAge: pre.headers["access-control-max-age"],
      vary: pre.headers.vary,
    }).toEqual({
      origin: "http://localhost:5173",
      methods: cors.allowedMethods.join(","),
      // Authorization: a page's calls carry its token (issue 14: a cross-origin page with a guest token was refused).
      // traceparent, tracestate and X-Request-Id: a page's tracing (issue 21).
      headers: [
        ...cors.allowedHeaders,
        "Authorization",
        "Last-Event-ID",
        "traceparent",
        "tracestate",
        "X-Request-Id",
      ].join(","),
      maxAge: "7200",
      vary: "Origin",
    });
  });

  it("marks calls and SSE streams for allowed origins only, exposing Connect's headers and the call's ids", async () => {
    const server = await serve(["https://app.example"]);
    const allowed = await post(server.url, "https://app.example");
    expect([allowed.status, allowed.allowOrigin, allowed.expose]).toEqual([
      200,
      "https://app.example",
      [...cors.exposedHeaders, "x-request-id", "traceparent"].join(","),
    ]);
    const other = await post(server.url, "https://evil.example");
    expect([other.status, other.allowOrigin]).toEqual([200, null]);
    expect(
      (await preflight(server.url, "https://evil.example")).headers["access-control-allow-origin"],
    ).toBeUndefined();

    const sse = await openSse(`${server.url}/rooms/cors/events`, { origin: "https://app.example" });
    onCleanup(() => sse.close());
    expect([sse.status, sse.headers["access-control-allow-origin"]]).toEqual([
      200,
      "https://app.example",
    ]);
  });

  it("allows any origin with *", async () => {
    const server = await serve(["*"]);
    const call = await post(server.url, "https://anyone.example");
    expect(call.allowOrigin).toBe("*");
  });
});

describe("--cors-origin and PARLEY_CORS_ORIGINS", () => {
  const parse = (args: string[], env: Record<string, string> = {}) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      return configFrom(
        serverCommand()
          .exitOverride()
          .configureOutput({ writeErr: () => {} })
          .parse(args, { from: "user" }),
      ).corsOrigins;
    } finally {
      process.env = saved;
    }
  };

  it("collects repeated flags, or the comma-separated env list; none by default", () => {
    expect(parse([])).toEqual([]);
    expect(
      parse(["--cors-origin", "https://a.example", "--cors-origin", "http://localhost:3000"]),
    ).toEqual(["https://a.example", "http://localhost:3000"]);
    expect(parse([], { PARLEY_CORS_ORIGINS: "https://a.example, https://b.example:8443" })).toEqual(
      ["https://a.example", "https://b.example:8443"],
    );
  });

  it("refuses something that is not an origin, naming the flag and the form", () => {
    expect(() => parse(["--cors-origin", "https://a.example/app"])).toThrow(
      '--cors-origin "https://a.example/app" is not an origin: give scheme://host[:port] with no path or trailing slash (as in https://chat.example.com), or *',
    );
  });
});
