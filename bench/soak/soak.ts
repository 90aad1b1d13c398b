import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import { invertedRanges, oversizeSends, sendBursts, unknownRoomReads } from "./abuse-calls.js";
import { type FloodSpec, floodsInProcess } from "./abuse-caps.js";
import { endlessGrpcBodies, neverReadingSubscribers, streamsFlood } from "./abuse-h2.js";
import { rapidResetInProcess } from "./abuse-rapid-reset.js";
import { endlessHttp1Body, halfPreface, resetsMidSniff, slowloris } from "./abuse-sockets.js";
import { NormalClients } from "./normal-clients.js";
import { soakOptions } from "./options.js";
import { clean, report } from "./report.js";
import { SOAK_SERVER_FLAGS, startSoakServer } from "./server.js";
import type { Abuse } from "./tally.js";

// `npm run soak`: issue 11's abuses at once against one Parley, while normal
// clients run; see options.ts for the flags.
const options = soakOptions(process.argv.slice(2));
if (options) {
  const server = await startSoakServer();
  try {
    const port = Number(new URL(server.url).port);
    const normal = new NormalClients(server.url, options);
    normal.startSending();
    const burstRoom = normal.rooms[0] as string;
    // Every abuse from the same loopback address as the normal clients,
    // under the default per-address cap of 1,000 connections, except the
    // connection floods: each of their addresses (127.0.0.2 and up) has a
    // per-address budget of its own. One holds 1,100 connections from one
    // address all run long (the per-address cap); at half time the other
    // opens 1,000 from each of 10 more for 5 s (the total cap, 10,000), in
    // runs of 20 s or more (not in the smoke test's short one).
    const floods: FloodSpec[] = [
      {
        name: "connection flood, per address (1,100 idle h2c connections from 127.0.0.2)",
        addresses: ["127.0.0.2"],
        perAddress: 1100,
        waveAtMs: 0,
      },
    ];
    if (options.seconds >= 20)
      floods.push({
        name: "connection flood, in all (1,000 from each of 127.0.0.3-12 at half time, held 5 s)",
        addresses: Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 3}`),
        perAddress: 1000,
        waveAtMs: (options.seconds * 1000) / 2,
        holdMs: 5000,
      });
    const abuses: Abuse[] = [
      ...floodsInProcess(port, floods),
      slowloris(port, 150),
      halfPreface(port, 150),
      endlessHttp1Body(port, 50),
      resetsMidSniff(port, 100),
      await streamsFlood(server.url, 1100),
      neverReadingSubscribers(server.url, burstRoom, 5),
      await endlessGrpcBodies(server.url),
      // From an address of its own: the server charges its resets and reconnects to it.
      await rapidResetInProcess(server.url, "127.0.0.13"),
      sendBursts(server.url, burstRoom),
      unknownRoomReads(server.url),
      oversizeSends(server.url),
      invertedRanges(server.url),
    ];
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    await Promise.all(abuses.map((a) => a.stop()));
    const figures = await normal.finish(15_000);
    // Let the server release what the run held before the last RSS reading.
    await new Promise((r) => setTimeout(r, 3000));
    const rss = { start: server.rssStart, peak: server.peakRss(), end: server.rssNow() };
    const rooms = await createClient(
      ChatService,
      createGrpcTransport({ baseUrl: server.url }),
    ).listRooms({ limit: 1000 });
    console.log(
      report(
        options,
        SOAK_SERVER_FLAGS,
        figures,
        rss,
        abuses.map((a) => a.tally),
        rooms.rooms,
      ),
    );
    process.exitCode = clean(figures) ? 0 : 1;
  } finally {
    await server.stop();
  }
  // Client sessions of the abuses may hold the event loop: the figures are out.
  process.exit(process.exitCode ?? 0);
}
