import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { cleanupAfterEach } from "../../helpers/cleanups.js";
import { request } from "../../helpers/sse-client.js";
import { startTestServer } from "../../helpers/test-server.js";

const onCleanup = cleanupAfterEach();

async function serve(webDir: string) {
  const server = await startTestServer({ webDir });
  onCleanup(() => server.stop());
  return server;
}

it("serves the built app at / beside the RPCs, with a strict CSP on the page", async () => {
  const root = mkdtempSync(join(tmpdir(), "parley-web-"));
  onCleanup(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "secret.txt"), "not for the web");
  const dir = join(root, "web");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>Parley</title>");
  writeFileSync(join(dir, "assets", "app-1234.js"), "console.log(1)");
  const server = await serve(dir);

  const page = await request(`${server.url}/`);
  expect([page.status, page.body, page.headers["content-type"]]).toEqual([
    200,
    "<!doctype html><title>Parley</title>",
    "text/html;charset=utf-8",
  ]);
  expect(page.headers["content-security-policy"]).toBe(
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  const script = await request(`${server.url}/assets/app-1234.js`);
  expect([script.status, script.body, script.headers["content-type"]]).toEqual([
    200,
    "console.log(1)",
    "text/javascript",
  ]);
  const again = await request(`${server.url}/assets/app-1234.js`, {
    headers: { "if-none-match": String(script.headers.etag) },
  });
  expect(again.status).toBe(304);
  expect((await request(`${server.url}/assets/nope.js`)).status).toBe(404);
  // A raw path (URL parsing would resolve the dots away before sending).
  for (const path of ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"]) {
    expect((await request(server.url, { path })).status).toBe(404);
  }
  expect((await request(`${server.url}/healthz`)).body).toBe("ok\n");
  const rpc = await fetch(`${server.url}/chat.v1.ChatService/ListRooms`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect([rpc.status, await rpc.json()]).toEqual([200, {}]);
});

it("says how to build the app when it is not built", async () => {
  const dir = join(tmpdir(), "parley-web-missing-dir");
  const server = await serve(dir);
  const page = await request(`${server.url}/`);
  expect([page.status, page.body]).toEqual([
    404,
    `The web app is not built (no ${join(dir, "index.html")}): run \`npm run build\`.\n`,
  ]);
});
