import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { withWritesReleasedOnClose } from "../../../src/server/workarounds/release-writes.js";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

it("settles a write that Node leaves hanging when the socket dies before the response closes", async () => {
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    const handler = withWritesReleasedOnClose((req, response) => {
      const res = response as http.ServerResponse;
      res.writeHead(200);
      // The moment the bug needs: the socket is gone, the response has not yet heard.
      req.socket.destroy();
      const flushed = res.write("event", () => seen.push("write callback"));
      seen.push(`write returned ${flushed}`);
      res.once("drain", () => {
        seen.push("drain");
        resolve();
      });
    });
    const server = http.createServer(handler as http.RequestListener);
    servers.push(server);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      http.get(`http://127.0.0.1:${port}/`).on("error", () => seen.push("client saw the reset"));
    });
  });
  await done;
  // Node never calls the write back: only the drain emitted on close lets a waiting writer go on.
  expect(seen.filter((s) => s !== "client saw the reset")).toEqual([
    "write returned false",
    "drain",
  ]);
});
