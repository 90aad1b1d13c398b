import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnePort, type OnePortServer } from "../../../src/server/one-port.js";
import { webAppFiles } from "../../../src/server/web/static-files.js";
import { type Answer, http1Get, http2Get } from "../../helpers/raw-socket.js";

const SCRIPT = "console.log('0123456789')";
let root: string;
let server: OnePortServer;
let origin: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "parley-static-"));
  mkdirSync(join(root, "assets"));
  mkdirSync(join(root, ".well-known"));
  mkdirSync(join(root, ".git"));
  writeFileSync(join(root, "index.html"), "<!doctype html><title>Parley</title>");
  writeFileSync(join(root, "assets", "app.js"), SCRIPT);
  writeFileSync(join(root, "assets", ".secret"), "hidden");
  writeFileSync(join(root, ".env"), "TOKEN=1");
  writeFileSync(join(root, ".git", "config"), "[core]");
  writeFileSync(join(root, ".well-known", "security.txt"), "Contact: x");
  server = await listenOnePort(webAppFiles(root), {
    port: 0,
    host: "127.0.0.1",
    pingIntervalMs: 60_000,
  });
  origin = `http://127.0.0.1:${server.port}`;
});

afterAll(() => {
  server.stopAccepting();
  server.destroyAll();
  rmSync(root, { recursive: true, force: true });
});

const versions: [string, (path: string, headers?: Record<string, string>) => Promise<Answer>][] = [
  ["HTTP/1.1", (path, headers) => http1Get(origin + path, headers)],
  ["HTTP/2", (path, headers) => http2Get(origin, path, headers)],
];

describe.each(versions)("static files over %s", (_name, get) => {
  it("answers every Range, even an inverted one, with the whole file, and keeps serving", async () => {
    for (const range of ["bytes=5-2", "bytes=-5", "bytes=0-0", "bytes=0-1,4-5", "bytes=x"]) {
      const res = await get("/assets/app.js", { range });
      expect([range, res.status, res.body, res.headers["accept-ranges"]]).toEqual([
        range,
        200,
        SCRIPT,
        "none",
      ]);
      expect(res.headers["content-range"]).toBeUndefined();
    }
    expect((await get("/")).status).toBe(200);
  });

  it("hides dotfiles however the path spells them, but serves /.well-known/", async () => {
    for (const path of [
      "/.env",
      "/%2eenv",
      "/.git/config",
      "/assets/.secret",
      "/assets/%2Esecret",
    ]) {
      const res = await get(path);
      expect([path, res.status, res.body]).toEqual([path, 404, ""]);
    }
    const wellKnown = await get("/.well-known/security.txt");
    expect([wellKnown.status, wellKnown.body]).toEqual([200, "Contact: x"]);
  });

  it("sends X-Content-Type-Options: nosniff on files and on 404s", async () => {
    for (const path of ["/", "/assets/app.js", "/assets/nope.js", "/.env"]) {
      const res = await get(path);
      expect([path, res.headers["x-content-type-options"]]).toEqual([path, "nosniff"]);
    }
  });
});
