import { hostname } from "node:os";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { ChatMessage, Ready } from "../../../gen/chat/v1/chat_pb.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { eventually } from "../../helpers/room-watcher.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { range } from "../../helpers/streams.js";
import { chatClient } from "../../helpers/test-server.js";

/** A Subscribe stream recording what it receives. */
interface Watcher {
  messages: ChatMessage[];
  /** "join <author>" / "leave <author>", in order. */
  presence: string[];
  ready: Ready | undefined;
  ended: unknown;
  stop(): void;
}

function subscribe(url: string, room: string, sinceSeq?: bigint, epoch = "", author = ""): Watcher {
  const stop = new AbortController();
  const w: Watcher = {
    messages: [],
    presence: [],
    ready: undefined,
    ended: undefined,
    stop: () => stop.abort(),
  };
  void (async () => {
    try {
      const stream = chatClient(url).subscribe(
        { room, sinceSeq, epoch, author },
        { signal: stop.signal },
      );
      for await (const res of stream) {
        for (const e of res.events) {
          if (e.event.case === "message") w.messages.push(e.event.value);
          else if (e.event.case === "ready") w.ready = e.event.value;
          else if (e.event.case === "join" || e.event.case === "leave")
            w.presence.push(`${e.event.case} ${e.event.value.author}`);
        }
      }
      w.ended = "end of stream";
    } catch (error) {
      w.ended = error;
    }
  })();
  return w;
}

/** Poll until `done` holds (every 20 ms, up to 20 s); throws with `state()` when it never does. */
async function until(done: () => boolean, state: () => unknown): Promise<void> {
  for (let waited = 0; !done(); waited += 20) {
    if (waited > 20_000) throw new Error(`gave up waiting; state: ${JSON.stringify(state())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const seqs = (ms: readonly ChatMessage[]) => ms.map((m) => Number(m.seq));
const essence = (ms: readonly ChatMessage[]) => ms.map((m) => [Number(m.seq), m.id, m.text]);

// Needs redis-server: this file starts its own on a free port (never the shared 6379).
describe.runIf(redisTestsCanRun("three Parley nodes on one Redis"))(
  "three Parley processes on one Redis",
  () => {
    let redis: TestRedis;
    let nodes: SpawnedServer[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      nodes = await Promise.all(
        range(1, 3).map(() =>
          spawnServer([
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--store",
            `${redis.url}?node_ttl_ms=1500`,
          ]),
        ),
      );
    }, 60_000);
    afterAll(async () => {
      for (const n of nodes) {
        if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL");
        await n.exited;
      }
      await redis?.stop();
    });

    const url = (i: number) => (nodes[i] as SpawnedServer).url;
    // One client (one HTTP/2 connection) per node, as a real client keeps:
    // a new transport per Send would open a connection per call, and past
    // the per-address cap (1000) the node refuses them (GOAWAY ENHANCE_YOUR_CALM).
    const clients = new Map<number, ReturnType<typeof chatClient>>();
    const client = (i: number) => {
      const known = clients.get(i);
      if (known !== undefined) return known;
      const made = chatClient(url(i));
      clients.set(i, made);
      return made;
    };
    const send = (i: number, room: string, text: string) =>
      client(i).send({ room, author: `node${i}`, text, clientMessageId: "" });

    it("warns at start that this Redis (no AOF) can lose acknowledged messages", async () => {
      const warning = `acknowledged messages could be lost: 127.0.0.1:${redis.port}: appendonly is no`;
      // Logged once the store has connected and read CONFIG, which may follow "listening".
      await until(
        () => nodes.every((n) => n.output().includes(warning)),
        () => nodes.map((n) => n.output()),
      );
      for (const n of nodes) expect(n.output()).toContain('"level":40');
    });

    it("gives subscribers on every node every message sent to any node, in one order with the same seqs; racing senders make 1..N", async () => {
      const watchers = [0, 1, 2, 0, 1, 2].map((i) => subscribe(url(i), "scale"));
      await until(
        () => watchers.every((w) => w.ready !== undefined),
        () => watchers.map((w) => String(w.ended ?? "")),
      );
      const acks = await Promise.all(range(1, 150).map((n) => send(n % 3, "scale", `t${n}`)));
      expect(acks.map((a) => Number(a.message?.seq)).sort((a, b) => a - b)).toEqual(range(1, 150));
      await until(
        () => watchers.every((w) => w.messages.length >= 150),
        () => watchers.map((w) => w.messages.length),
      );
      const reference = (watchers[0] as Watcher).messages;
      expect(seqs(reference)).toEqual(range(1, 150));
      const byText = new Map(acks.map((a) => [a.message?.text, Number(a.message?.seq)]));
      expect(reference.map((m) => byText.get(m.text))).toEqual(range(1, 150));
      for (const w of watchers) {
        expect(essence(w.messages)).toEqual(essence(reference));
        expect(w.ended).toBeUndefined();
        w.stop();
      }
    });

    it("heals a killed pub/sub connection of one node with no gap", async () => {
      const watcher = subscribe(url(1), "killed-sub");
      await until(
        () => watcher.ready !== undefined,
        () => String(watcher.ended),
      );
      const liveName = `parley:${hostname()}:${nodes[1]?.process.pid}:live`;
      const line = redis
        .cli("CLIENT", "LIST", "TYPE", "pubsub")
        .split("\n")
        .find((l) => l.includes(` name=${liveName} `));
      const id = /^id=(\d+)/.exec(line ?? "")?.[1];
      expect(id).toMatch(/^\d+$/);
      redis.cli("CLIENT", "KILL", "ID", id as string);
      // Sent while node 1 reconnects; the last of them ends the test's traffic.
      for (const n of range(1, 12)) await send(n % 2 === 0 ? 0 : 2, "killed-sub", `k${n}`);
      await until(
        () => watcher.messages.length >= 12,
        () => seqs(watcher.messages),
      );
      expect(watcher.messages.map((m) => [Number(m.seq), m.text])).toEqual(
        range(1, 12).map((n) => [n, `k${n}`]),
      );
      watcher.stop();
    });

    it("resumes a subscriber whose node was killed with -9 on another node, nothing missed or repeated", async () => {
      const watcher = subscribe(url(2), "failover");
      await until(
        () => watcher.ready !== undefined,
        () => String(watcher.ended),
      );
      // Ready came before any message: the room had no log, so no epoch yet.
      expect(watcher.ready?.epoch).toBe("");
      // Senders keep going on nodes 0 and 1 while node 2 dies.
      let sent = 0;
      let sending = true;
      // A failing wait must not leave the senders running into the next tests.
      onTestFinished(() => {
        sending = false;
      });
      const senderErrors: string[] = [];
      const senders = [0, 1].map(async (i) => {
        try {
          while (sending) {
            sent++;
            await send(i, "failover", `f${sent}`);
          }
        } catch (error) {
          // Reported by the waits below (a failed Send breaks the count).
          senderErrors.push(`node ${i}: ${String(error)}`);
        }
      });
      await until(
        () => watcher.messages.length >= 20,
        () => watcher.messages.length,
      );
      const epoch = (await client(0).history({ room: "failover", limit: 1 })).epoch;
      (nodes[2] as SpawnedServer).process.kill("SIGKILL");
      await until(
        () => watcher.ended !== undefined,
        () => watcher.messages.length,
      );
      const before = watcher.messages;
      const last = before[before.length - 1] as ChatMessage;
      const resumed = subscribe(url(0), "failover", last.seq, epoch);
      await until(
        () => resumed.messages.length >= 20,
        () => ({
          received: resumed.messages.length,
          ready: resumed.ready !== undefined,
          ended: String(resumed.ended ?? ""),
          sent,
          senderErrors,
        }),
      );
      sending = false;
      await Promise.all(senders);
      expect(senderErrors).toEqual([]);
      await until(
        () => before.length + resumed.messages.length === sent,
        () => [before.length, resumed.messages.length, sent],
      );
      expect(resumed.ready?.epoch).toBe(epoch);
      expect(seqs([...before, ...resumed.messages])).toEqual(range(1, sent));
      resumed.stop();
    });

    it("lists members of every node, and drops those of a node killed with -9 once its heartbeats stop", async () => {
      const ann = subscribe(url(0), "members", undefined, "", "ann");
      await until(
        () => ann.ready !== undefined,
        () => String(ann.ended),
      );
      const authors = async (i: number) =>
        (await client(i).listMembers({ room: "members" })).members.map((m) => m.author);
      // Ann's join reaches Redis in the background, after her Ready; node 1,
      // with no subscriber there yet, lists her once it is there.
      await eventually(
        async () => (await authors(1)).length > 0,
        () => "node 1 lists no member",
      );
      expect(await authors(1)).toEqual(["ann"]);
      const carol = subscribe(url(1), "members", undefined, "", "carol");
      await until(
        () => ann.presence.length === 1 && carol.ready !== undefined,
        () => [ann.presence, carol.presence],
      );
      expect(ann.presence).toEqual(["join carol"]);
      // Node 1's first subscriber there: Ann is in its Ready, not a join after it.
      expect(carol.ready?.members.map((m) => m.author)).toEqual(["carol", "ann"]);
      expect(carol.presence).toEqual([]);
      expect(await authors(0)).toEqual(["ann", "carol"]);
      expect(await authors(1)).toEqual(["carol", "ann"]);

      (nodes[1] as SpawnedServer).process.kill("SIGKILL");
      // Node 0 takes node 1 for dead 1.5 s after its last heartbeat.
      await until(
        () => ann.presence.length === 2,
        () => ann.presence,
      );
      expect(ann.presence).toEqual(["join carol", "leave carol"]);
      expect(await authors(0)).toEqual(["ann"]);
      expect(ann.ended).toBeUndefined();
      ann.stop();
    });

    it("answers Send with UNAVAILABLE while Redis is down, serves again by itself once it is back, and ends subscriptions whose log Redis lost", async () => {
      // Written before the watch starts, so the room has its epoch when this
      // node starts relaying it (reads of a room never written name none).
      await send(0, "outage", "before");
      const watcher = subscribe(url(0), "outage", 0n);
      await until(
        () => watcher.messages.length === 1,
        () => String(watcher.ended),
      );
      await redis.kill();
      const failed = await send(0, "outage", "during").then(
        () => undefined,
        (error: unknown) => ConnectError.from(error),
      );
      expect(failed?.code).toBe(Code.Unavailable);
      expect(failed?.rawMessage).toMatch(
        new RegExp(
          `^message store unavailable: redis 127\\.0\\.0\\.1:${redis.port}/0 could not append to room outage`,
        ),
      );
      await redis.restart();
      // This Redis keeps nothing on disk: the room starts again at seq 1.
      let after: Awaited<ReturnType<typeof send>> | undefined;
      for (let attempt = 0; after === undefined && attempt < 100; attempt++) {
        after = await send(0, "outage", "after").catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return undefined;
        });
      }
      expect(after?.message?.seq).toBe(1n);
      // The subscription lived through the outage, but its position means
      // nothing in the new log: it ends with the epoch error, never silently
      // skipping the new seq 1.
      await until(
        () => watcher.ended !== undefined,
        () => watcher.messages.length,
      );
      const ended = ConnectError.from(watcher.ended);
      expect(ended.code).toBe(Code.FailedPrecondition);
      expect(ended.rawMessage).toMatch(/^epoch "[^"]+" does not match room "outage" epoch "[^"]+"/);
      expect(watcher.messages.map((m) => m.text)).toEqual(["before"]);
    });
  },
);
