import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ParleyServer } from "../../../src/server/parley-server.js";
import { connectRaw, http1Get, http2Get } from "../../helpers/raw-socket.js";
import { chatClient, startTestServer } from "../../helpers/test-server.js";

// The whole server (RPC routes, fallback, web app) against the requests of
// issue 11 that used to end the process; after each, normal calls still work.
let root: string;
let server: ParleyServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "parley-hostile-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), "<!doctype html><title>Parley</title>");
  writeFileSync(join(root, ".env"), "TOKEN=1");
  server = await startTestServer({ webDir: root });
});

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

async function expectServing(): Promise<void> {
  for (const transport of ["connect-h1", "grpc-h2"] as const) {
    const rooms = await chatClient(server.url, transport).listRooms({});
    expect(rooms.rooms).toEqual([]);
  }
}

it("answers Range: bytes=5-2 with the whole page over HTTP/1.1 and HTTP/2, and keeps serving", async () => {
  const page = "<!doctype html><title>Parley</title>";
  const h1 = await http1Get(`${server.url}/`, { range: "bytes=5-2" });
  const h2 = await http2Get(server.url, "/", { range: "bytes=5-2" });
  expect([h1.status, h1.body, h2.status, h2.body]).toEqual([200, page, 200, page]);
  await expectServing();
});

it("does not serve dotfiles from the web folder", async () => {
  const res = await http1Get(`${server.url}/.env`);
  expect([res.status, res.body, res.headers["x-content-type-options"]]).toEqual([
    404,
    "",
    "nosniff",
  ]);
});

it("survives a TCP reset while it sniffs a new connection, and keeps serving", async () => {
  const socket = await connectRaw(server.port, "127.0.0.1");
  socket.on("error", () => {});
  socket.write("PRI * HTTP/2");
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.resetAndDestroy();
  await new Promise((resolve) => socket.once("close", resolve));
  await expectServing();
});
