/**
 * Reproduces: connect-node's universalResponseToNodeResponse never settles.
 *
 * After writing the body it calls `nodeResponse.end()` and waits for an
 * 'end' event, but Node's http.ServerResponse and Http2ServerResponse are
 * writable streams: they emit 'finish' and 'close', never 'end'. So the
 * promise stays pending after the client has the whole response, on HTTP/1.1
 * and HTTP/2 alike, and whatever awaits it (connect-node's own
 * connectNodeAdapter included) never runs its code after the call.
 *
 * Run: npx tsx src/server/workarounds/repro/response-end.ts
 * Worked around in src/server/connect-path/connect-edge.ts, which waits for
 * the response's 'close' instead. Not imported by the server.
 */
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { universalResponseToNodeResponse } from "@connectrpc/connect-node";

type Seen = { settled: boolean; events: string[] };

/** Answer with a small body through universalResponseToNodeResponse, recording what happens. */
function respond(res: http.ServerResponse | http2.Http2ServerResponse, seen: Seen): void {
  for (const event of ["finish", "end", "close"]) res.on(event, () => seen.events.push(event));
  const body = createAsyncIterable([new TextEncoder().encode("hello")]);
  universalResponseToNodeResponse({ status: 200, header: new Headers(), body }, res).then(
    () => {
      seen.settled = true;
    },
    () => {
      seen.settled = true;
    },
  );
}

function report(protocol: string, body: string, seen: Seen): boolean {
  console.log(
    `${protocol}: client read ${JSON.stringify(body)}; response events: ${seen.events.join(", ")};` +
      ` universalResponseToNodeResponse settled: ${seen.settled}`,
  );
  return seen.settled;
}

async function overHttp1(): Promise<boolean> {
  const seen: Seen = { settled: false, events: [] };
  const server = http.createServer((_req, res) => respond(res, seen));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
  await sleep(300);
  server.closeAllConnections();
  server.close();
  return report("HTTP/1.1", body, seen);
}

async function overHttp2(): Promise<boolean> {
  const seen: Seen = { settled: false, events: [] };
  const server = http2.createServer((_req, res) => respond(res, seen));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ":path": "/" });
  let body = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    body += chunk;
  });
  await once(stream, "end");
  await sleep(300);
  session.close();
  server.close();
  return report("HTTP/2 ", body, seen);
}

const settled = [await overHttp1(), await overHttp2()];
console.log(
  settled.some((s) => !s)
    ? "REPRODUCED: the response ended and closed, but the promise is still pending (it waits for 'end')."
    : "NOT REPRODUCED: the promise settled; connect-edge.ts's wait for 'close' may no longer be needed.",
);
