import { readFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { WebSocket } from "ws";
import { ChatService } from "../../../gen/chat/v1/chat_pb.js";
import { createParleyClient } from "../../../src/client/node.js";
import type { WebSocketConstructor } from "../../../src/client/ws-connection.js";
import { createWebSocketTransport } from "../../../src/client/ws-transport.js";
import { type CuttableProxy, startCuttableProxy } from "../../helpers/cuttable-proxy.js";
import { freePort } from "../../helpers/free-port.js";
import { haproxyTestsCanRun, startHaproxy, type TestHaproxy } from "../../helpers/haproxy.js";
import { codeBlocks, section } from "../../helpers/markdown-blocks.js";
import { redisTestsCanRun, startRedis, type TestRedis } from "../../helpers/redis-server.js";
import { eventually } from "../../helpers/room-watcher.js";
import {
  followRpc,
  followSse,
  followWithLibrary,
  type SeqFollower,
} from "../../helpers/seq-follower.js";
import { type SpawnedServer, spawnServer } from "../../helpers/spawn-server.js";
import { openSse, request } from "../../helpers/sse-client.js";
import { range } from "../../helpers/streams.js";
import { chatClient, transportFor } from "../../helpers/test-server.js";

// Debian's HAProxy in front of three Parley nodes on one Redis, with the
// configuration docs/scale-out.md shows (read out of the doc; only its
// addresses are changed), carrying every protocol, a node killed with -9
// under live subscribers, and a node that lost Redis leaving the rotation.

const DOC = new URL("../../../docs/scale-out.md", import.meta.url);

/** The doc's HAProxy block with the balancer on `front` and node1..3 on `nodePorts`. */
function configFromDoc(front: number, nodePorts: readonly number[]): string {
  const block = codeBlocks(section(readFileSync(DOC, "utf8"), "HAProxy"))[0];
  if (block === undefined) throw new Error("docs/scale-out.md#haproxy has no code block");
  const swaps: [string, string][] = [
    ["bind :8080 ", `bind 127.0.0.1:${front} `],
    ...nodePorts.map((p, i): [string, string] => [`127.0.0.1:${8081 + i}\n`, `127.0.0.1:${p}\n`]),
  ];
  let config = block.body;
  for (const [from, to] of swaps) {
    if (config.split(from).length !== 2)
      throw new Error(`docs/scale-out.md's HAProxy block should hold "${from.trim()}" once`);
    config = config.replace(from, to);
  }
  return config;
}

const BACKEND = "parley_nodes";

describe.runIf(haproxyTestsCanRun("the HAProxy test") && redisTestsCanRun("the HAProxy test"))(
  "HAProxy in front of three Parley nodes on one Redis (docs/scale-out.md#haproxy)",
  () => {
    let redis: TestRedis;
    /** Node 3's way to Redis, which the test cuts (a partition). */
    let partition: CuttableProxy;
    const nodes: SpawnedServer[] = [];
    let balancer: TestHaproxy;
    let lb: string;

    beforeAll(async () => {
      redis = await startRedis();
      partition = await startCuttableProxy(redis.port);
      const stores = [redis.url, redis.url, `redis://127.0.0.1:${partition.port}`];
      // One after the other: several tsx starts at once are slow on a busy machine.
      for (const store of stores)
        nodes.push(await spawnServer(["--port", "0", "--host", "127.0.0.1", "--store", store]));
      const front = await freePort();
      const ports = nodes.map((n) => Number(new URL(n.url).port));
      balancer = await startHaproxy(configFromDoc(front, ports), front);
      lb = `http://127.0.0.1:${front}`;
      await eventually(
        async () => [...(await balancer.servers(BACKEND)).values()].every((s) => s.status === "UP"),
        () => balancer.output(),
      );
    }, 90_000);
    afterAll(async () => {
      await balancer?.stop();
      for (const n of nodes) {
        if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL");
        await n.exited;
      }
      await partition?.close();
      await redis?.stop();
    });

    const ws = () =>
      createWebSocketTransport({
        baseUrl: lb,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      });

    /** Every seq of `room` in History, paged from the start, through the balancer. */
    async function historySeqs(room: string): Promise<number[]> {
      const client = chatClient(lb, "connect-h1");
      const seqs: number[] = [];
      for (let more = true; more; ) {
        const page = await client.history({
          room,
          afterSeq: BigInt(seqs.at(-1) ?? 0),
          limit: 1000,
        });
        seqs.push(...page.messages.map((m) => Number(m.seq)));
        more = page.hasMore;
      }
      return seqs;
    }

    it("carries gRPC over h2c, Connect over HTTP/1.1, SSE and the WebSocket transport, with exact answers", async () => {
      const grpc = chatClient(lb, "grpc-h2");
      const connect = chatClient(lb, "connect-h1");
      const socket = ws();
      onTestFinished(() => socket.close());
      const overWs = createClient(ChatService, socket);

      const a = await grpc.send({ room: "calls", author: "ann", text: "over grpc" });
      const b = await connect.send({ room: "calls", author: "bob", text: "over connect h1" });
      const c = await overWs.send({ room: "calls", author: "cy", text: "over websocket" });
      expect([a, b, c].map((r) => [Number(r.message?.seq), r.message?.author])).toEqual([
        [1, "ann"],
        [2, "bob"],
        [3, "cy"],
      ]);
      const texts = ["over grpc", "over connect h1", "over websocket"];
      for (const client of [grpc, connect, overWs]) {
        const page = await client.history({ room: "calls", afterSeq: 0n });
        expect(page.messages.map((m) => [Number(m.seq), m.text])).toEqual(
          texts.map((t, i) => [i + 1, t]),
        );
      }

      const sse = await openSse(`${lb}/rooms/calls/events?since=0`);
      onTestFinished(() => sse.close());
      expect(sse.status).toBe(200);
      expect(sse.headers["content-type"]).toMatch(/^text\/event-stream/);
      const frames = await sse.readUntil(
        (f) => f.filter((x) => x.event === "message").length === 3,
      );
      const messages = frames.filter((f) => f.event === "message");
      expect(
        messages.map((f) => [f.id, (JSON.parse(f.data ?? "") as { text: string }).text]),
      ).toEqual(texts.map((t, i) => [String(i + 1), t]));

      const health = await request(`${lb}/healthz`);
      expect([health.status, health.body.trim()]).toEqual([200, "ok"]);
    });

    it("takes a node that lost its way to Redis out of rotation, and puts it back once Redis is reachable", async () => {
      const node3 = nodes[2] as SpawnedServer;
      const healthz = async () => {
        const res = await request(`${node3.url}/healthz`);
        return `${res.status} ${res.body.trim()}`;
      };
      const status = async (name: string) => (await balancer.servers(BACKEND)).get(name)?.status;
      const sessions = async () =>
        [...(await balancer.servers(BACKEND)).values()].map((s) => s.sessions);
      const client = chatClient(lb, "connect-h1");
      const sendSome = async (from: number) => {
        const acks = [];
        for (const n of range(from, from + 11))
          acks.push(await client.send({ room: "rotation", author: "ann", text: `r${n}` }));
        return acks.map((a) => [Number(a.message?.seq), a.message?.text]);
      };

      partition.cut();
      onTestFinished(() => partition.restore());
      await eventually(async () => (await healthz()) === "503 message store unreachable", healthz);
      // Two failed checks 2 s apart (fall 2, inter 2s).
      await eventually(
        async () => (await status("node3")) === "DOWN",
        () => status("node3"),
      );
      const before = await sessions();
      // Every call succeeds: none reaches node 3, which would answer UNAVAILABLE.
      expect(await sendSome(1)).toEqual(range(1, 12).map((n) => [n, `r${n}`]));
      const during = await sessions();
      expect(during[2]).toBe(before[2]);
      expect((during[0] ?? 0) + (during[1] ?? 0) - (before[0] ?? 0) - (before[1] ?? 0)).toBe(12);

      partition.restore();
      await eventually(async () => (await healthz()) === "200 ok", healthz);
      // Two good checks (rise 2).
      await eventually(
        async () => (await status("node3")) === "UP",
        () => status("node3"),
      );
      expect(await sendSome(13)).toEqual(range(13, 24).map((n) => [n, `r${n}`]));
      const after = await sessions();
      // Back in the rotation: leastconn spreads idle requests over all three.
      expect((after[2] ?? 0) - (during[2] ?? 0)).toBeGreaterThan(0);
      expect(after.reduce((a, b) => a + b) - during.reduce((a, b) => a + b)).toBe(12);
    }, 60_000);

    it("resumes every subscriber through the balancer, nothing missed or twice, when the node serving them all is killed with -9", async () => {
      const room = "failover";
      const sender = createParleyClient({ baseUrl: lb });
      await sender.send(room, "ann", "m1"); // the room's log and epoch exist from here
      // Every stream onto node 1: the other two in maintenance while they subscribe.
      for (const name of ["node2", "node3"])
        expect(await balancer.command(`disable server ${BACKEND}/${name}`)).toBe("\n");
      const followers: Record<string, SeqFollower> = {
        "gRPC (h2c)": followRpc(transportFor("grpc-h2", lb), room),
        "Connect (HTTP/1.1)": followRpc(transportFor("connect-h1", lb), room),
        SSE: followSse(lb, room),
        WebSocket: followRpc(ws(), room),
      };
      const all = Object.values(followers);
      onTestFinished(() => {
        for (const f of all) f.stop();
      });
      const state = () =>
        Object.entries(followers).map(([name, f]) => [name, f.seqs.length, f.readies, f.ends]);
      await eventually(() => all.every((f) => f.seqs.length === 1), state);
      for (const name of ["node2", "node3"])
        await balancer.command(`enable server ${BACKEND}/${name}`);
      const statuses = async () =>
        [...(await balancer.servers(BACKEND)).values()].map((s) => s.status).join(" ");
      // Back from maintenance, a server passes its checks again first ("UP 1/2").
      await eventually(async () => (await statuses()) === "UP UP UP", statuses);

      let sent = 1;
      let sending = true;
      onTestFinished(() => {
        sending = false;
      });
      const senderErrors: string[] = [];
      const senderDone = (async () => {
        try {
          while (sending) {
            await sender.send(room, "ann", `m${sent + 1}`);
            sent++;
          }
        } catch (error) {
          senderErrors.push(String(error));
        }
      })();
      await eventually(() => all.every((f) => f.seqs.length >= 20), state);
      const node1 = nodes[0] as SpawnedServer;
      node1.process.kill("SIGKILL");
      await node1.exited;
      const atKill = sent;
      // Each stream was cut, and its follower goes on past the kill.
      await eventually(
        () => all.every((f) => f.ends.length > 0 && f.seqs.length >= atKill + 20),
        () => [state(), sent, senderErrors],
      );
      sending = false;
      await senderDone;
      expect(senderErrors).toEqual([]);
      const history = await historySeqs(room);
      expect(history).toEqual(range(1, sent));
      await eventually(() => all.every((f) => f.seqs.length >= sent), state);
      for (const [name, f] of Object.entries(followers))
        expect([name, f.seqs]).toEqual([name, history]);
    }, 90_000);

    it("the client library's subscribe resumes by itself through the balancer when its node is killed with -9 (gRPC, Connect over HTTP/1.1, gRPC-Web, WebSocket)", async () => {
      const room = "library-failover";
      const sender = createParleyClient({ baseUrl: lb });
      await sender.send(room, "ann", "m1");
      // Node 1 is dead (the test before); every stream onto node 2 while node 3 rests.
      await balancer.command(`disable server ${BACKEND}/node3`);
      const followers: Record<string, SeqFollower> = {
        gRPC: followWithLibrary(createParleyClient({ baseUrl: lb, protocol: "grpc" }), room),
        "Connect (HTTP/1.1)": followWithLibrary(
          createParleyClient({ baseUrl: lb, httpVersion: "1.1" }),
          room,
        ),
        "gRPC-Web": followWithLibrary(
          createParleyClient({ baseUrl: lb, protocol: "grpcweb" }),
          room,
        ),
        WebSocket: followWithLibrary(
          createParleyClient({ baseUrl: lb, transport: "websocket" }),
          room,
        ),
      };
      const all = Object.values(followers);
      onTestFinished(() => {
        for (const f of all) f.stop();
      });
      const state = () =>
        Object.entries(followers).map(([name, f]) => [name, f.seqs.length, f.readies, f.ends]);
      await eventually(() => all.every((f) => f.seqs.length === 1), state);
      await balancer.command(`enable server ${BACKEND}/node3`);
      const statuses = async () => (await balancer.servers(BACKEND)).get("node3")?.status;
      await eventually(async () => (await statuses()) === "UP", statuses);

      let sent = 1;
      for (; sent < 20; sent++) await sender.send(room, "ann", `m${sent + 1}`);
      await eventually(() => all.every((f) => f.seqs.length === sent), state);
      const node2 = nodes[1] as SpawnedServer;
      node2.process.kill("SIGKILL");
      await node2.exited;
      for (; sent < 40; sent++) await sender.send(room, "ann", `m${sent + 1}`);
      await eventually(() => all.every((f) => f.seqs.length >= sent), state);
      const history = await historySeqs(room);
      expect(history).toEqual(range(1, 40));
      for (const [name, f] of Object.entries(followers)) {
        expect([name, f.seqs]).toEqual([name, history]);
        // It was cut, and resumed on its own (the library never gives up here).
        expect([name, f.readies]).toEqual([name, 2]);
      }
    }, 90_000);
  },
);
