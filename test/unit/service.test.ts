import { createClient, createRouterTransport } from "@connectrpc/connect";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { chatCores } from "../../src/chat/chat-cores.js";
import { RoomHub } from "../../src/rooms/room-hub.js";
import { routes } from "../../src/server/routes.js";
import { MemoryLog } from "../../src/store/memory-log.js";
import { messageSeqs, readUntil } from "../helpers/streams.js";

// The service without a network: the same routes the server mounts, through
// connect's in-memory router transport.
let log: MemoryLog;
let hub: RoomHub;
beforeEach(() => {
  log = new MemoryLog({ retention: 3 });
  hub = new RoomHub(log, { heartbeatMs: 60_000, maxEvents: 100, maxBytes: 1 << 20 });
});
afterEach(async () => {
  hub.close();
  await log.close();
});

const client = () => createClient(ChatService, createRouterTransport(routes(chatCores(hub, log))));

it("Send and Subscribe share one ordered log", async () => {
  const c = client();
  const abort = new AbortController();
  const it = c.subscribe({ room: "r" }, { signal: abort.signal })[Symbol.asyncIterator]();
  await readUntil(it, (s) => s.length >= 1);
  for (const text of ["a", "b", "c"]) await c.send({ room: "r", author: "ann", text });
  const seen = await readUntil(it, (s) => messageSeqs(s).length >= 3);
  expect(messageSeqs(seen)).toEqual([1, 2, 3]);
  abort.abort();
});

it("retention trims the log and a resume from a trimmed seq is refused with the range", async () => {
  const c = client();
  for (let i = 1; i <= 5; i++) await c.send({ room: "r", author: "ann", text: `m${i}` });
  const history = await c.history({ room: "r" });
  expect(history.messages.map((m) => m.text)).toEqual(["m3", "m4", "m5"]);
  expect([history.firstSeq, history.lastSeq]).toEqual([3n, 5n]);

  const ok = c.subscribe({ room: "r", sinceSeq: 2n })[Symbol.asyncIterator]();
  expect(messageSeqs(await readUntil(ok, (s) => messageSeqs(s).length >= 3))).toEqual([3, 4, 5]);
  await ok.return?.();

  await expect(async () => {
    for await (const _ of c.subscribe({ room: "r", sinceSeq: 1n })) {
      // the stream fails before its first response
    }
  }).rejects.toThrow(
    'since_seq 1 is older than room "r" retains: the oldest available seq is 3, so seqs 2..2 are gone',
  );
});
