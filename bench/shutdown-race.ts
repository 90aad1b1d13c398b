// Sends racing SIGTERM: how the calls that shutdown catches end. Each round
// starts Parley (as `npm start` runs it, SQLite in a temporary folder), runs
// --writers connect-node clients over one HTTP/2 connection, each sending
// one Send after another, sends SIGTERM once 50 are acknowledged, and waits
// for the exit. A refusal the client may retry (UNAVAILABLE, a stream
// refused after GOAWAY, the connection refused) is expected; a call cut off
// mid-response (CANCEL) is what src/server/listener/close-after-ping.ts prevents.
// Usage: npm run bench:shutdown-race [-- --rounds 100 --writers 10]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ChatService } from "../gen/chat/v1/chat_pb.js";
import { parleyEntry } from "./suite/parley-build.js";
import { spawnListening } from "./suite/spawn-process.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "100" },
    writers: { type: "string", default: "10" },
  },
});
const ROUNDS = Number(values.rounds);
const WRITERS = Number(values.writers);
const SIGTERM_AFTER_ACKS = 50;

const outcomes = new Map<string, number>();
let roundsCut = 0;
const entry = parleyEntry();
for (let round = 0; round < ROUNDS; round++) {
  const dir = mkdtempSync(join(tmpdir(), "parley-shutdown-race-"));
  const server = await spawnListening(
    entry,
    [
      ...["--port", "0", "--host", "127.0.0.1", "--auth", "off"],
      ...["--store", `sqlite:${join(dir, "parley.db")}`],
    ],
    /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"parley listening"/,
  );
  const client = createClient(
    ChatService,
    createConnectTransport({ baseUrl: server.url, httpVersion: "2" }),
  );
  let acked = 0;
  let stopped: Promise<void> | undefined;
  let cut = false;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; ; i++) {
        try {
          await client.send({ room: "race", author: `w${w}`, text: `m${i}` });
          if (++acked === SIGTERM_AFTER_ACKS) stopped = server.stop();
        } catch (e) {
          const error = ConnectError.from(e);
          if (error.code === Code.Canceled) cut = true;
          const kind = `${Code[error.code]}: ${error.rawMessage}`.replace(/:\d+$/, ":<port>");
          outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
          return;
        }
      }
    }),
  );
  await stopped;
  if (cut) roundsCut++;
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `shutdown race: ${ROUNDS} rounds, ${WRITERS} writers on one HTTP/2 connection, SIGTERM after ${SIGTERM_AFTER_ACKS} acks`,
);
console.log(`  rounds with a call cut off (CANCEL): ${roundsCut} of ${ROUNDS}`);
console.log("  how the calls SIGTERM caught ended:");
for (const [kind, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`    ${n}  ${kind}`);
