/**
 * Reproduces what release-writes.ts works around: Node's HTTP/1.1
 * response.write() returns false and never calls back, and no 'drain'
 * follows, when the socket is destroyed before the response has seen
 * 'close' (OutgoingMessage._writeRaw returns early; nodejs/node#36673).
 * A writer that waits for the callback or 'drain', as connect-node does,
 * waits for ever.
 *
 * Run: npx tsx src/server/workarounds/repro/write-after-destroy.ts
 * Not imported by the server.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

const seen: string[] = [];
const server = http.createServer((req, res) => {
  res.writeHead(200);
  req.socket.destroy();
  seen.push(`write returned ${res.write("event", () => seen.push("write callback"))}`);
  res.on("drain", () => seen.push("drain"));
  res.on("close", () => seen.push("close"));
  setTimeout(() => {
    console.log(`Node ${process.version}: ${seen.join(", ")}`);
    console.log(
      seen.includes("write callback") || seen.includes("drain")
        ? "NOT REPRODUCED: the write settled; withWritesReleasedOnClose may no longer be needed."
        : "REPRODUCED: 500 ms later the write has neither called back nor been followed by 'drain'.",
    );
    server.close();
  }, 500);
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  http.get(`http://127.0.0.1:${port}/`).on("error", () => undefined);
});
