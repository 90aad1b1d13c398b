import { afterAll, beforeAll, expect, it } from "vitest";
import { listenOnePort, type OnePortServer } from "../../../src/server/one-port.js";
import { http1Get, http2Get } from "../../helpers/raw-socket.js";

let server: OnePortServer;
let origin: string;
const errors: string[] = [];

beforeAll(async () => {
  server = await listenOnePort(
    (req, res) => {
      if (req.url === "/boom") throw new Error("handler bug");
      res.end("ok");
    },
    {
      port: 0,
      host: "127.0.0.1",
      pingIntervalMs: 60_000,
      takeHttp2Stream: (_stream, headers) => {
        if (headers[":path"] === "/boom-taker") throw new Error("taker bug");
        return false;
      },
      onHandlerError: (error) => errors.push(String(error)),
    },
  );
  origin = `http://127.0.0.1:${server.port}`;
});

afterAll(() => {
  server.stopAccepting();
  server.destroyAll();
});

it("answers 500 when a handler throws, reports the error, and keeps serving", async () => {
  const h1 = await http1Get(`${origin}/boom`);
  expect([h1.status, h1.body, h1.headers["x-content-type-options"]]).toEqual([
    500,
    "internal error\n",
    "nosniff",
  ]);
  expect([
    (await http2Get(origin, "/boom")).status,
    (await http2Get(origin, "/boom-taker")).status,
  ]).toEqual([500, 500]);
  expect(errors).toEqual(["Error: handler bug", "Error: handler bug", "Error: taker bug"]);
  expect((await http1Get(`${origin}/fine`)).body).toBe("ok");
  expect((await http2Get(origin, "/fine")).body).toBe("ok");
});
