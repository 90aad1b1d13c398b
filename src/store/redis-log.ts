import { hostname } from "node:os";
import type { Cluster, Redis } from "ioredis";
import { createLogger, type Logger } from "../logger.js";
import { countReconnects } from "../metrics/redis-metrics.js";
import { retryConflict } from "./idempotency.js";
import { newEpoch, newMessageId } from "./ids.js";
import type {
  AppendResult,
  LogOptions,
  MessageLog,
  NewMessage,
  ReadRange,
  RoomHead,
  RoomListing,
  StoredMessage,
} from "./message-log.js";
import { fromEntry, seqOf } from "./redis-codec.js";
import { checkDurability } from "./redis-durability.js";
import { redisCallError } from "./redis-errors.js";
import { RedisGuestNames } from "./redis-guest-names.js";
import { ROOMS_KEY, roomKeys } from "./redis-keys.js";
import { RedisLive } from "./redis-live.js";
import { RedisPeople } from "./redis-people.js";
import { RedisPresence } from "./redis-presence.js";
import { APPEND_LUA, HEAD_LUA } from "./redis-scripts.js";
import { connectStore, describeTarget, type RedisTarget } from "./redis-target.js";

/** Redis engine options. */
export interface RedisLogOptions extends LogOptions {
  target: RedisTarget;
  /**
   * Names this process's connections in CLIENT LIST: `NAME:store` for
   * commands, `NAME:live` for pub/sub. Default `parley:HOST:PID`.
   */
  connectionName?: string;
}

/** Rooms this process knows are in the room index; forgotten wholesale past this many. */
const MAX_INDEXED = 100_000;

type StreamEntry = [id: string, fields: string[]];

/**
 * The store several Parley processes share: each room is a Redis stream
 * (entry id = seq) beside a hash with its epoch and last seq and a sorted set
 * of idempotency keys, all under one hash tag so a room is one cluster slot.
 * Every append is one Lua script (redis-scripts.ts), atomic on the server,
 * which also publishes the message for the other processes (see `live`).
 *
 * Durability is Redis's: an acknowledged append survives a crash only with
 * `appendonly yes` and `appendfsync always`; the settings are read at start
 * and a warning is logged when they fall short.
 */
export class RedisLog implements MessageLog {
  readonly live: RedisLive;
  readonly presence: RedisPresence;
  readonly guestNames: RedisGuestNames;
  readonly people: RedisPeople;
  private readonly client: Redis | Cluster;
  private readonly where: string;
  private readonly publish: "PUBLISH" | "SPUBLISH";
  private readonly retention: number;
  private readonly logger: Logger;
  /** Rooms whose ZADD to the room index succeeded from this process. */
  private readonly indexed = new Set<string>();
  private closed = false;

  constructor(options: RedisLogOptions) {
    const name = options.connectionName ?? `parley:${hostname()}:${process.pid}`;
    this.where = describeTarget(options.target);
    this.retention = options.retention;
    this.publish = options.target.kind === "cluster" ? "SPUBLISH" : "PUBLISH";
    this.logger = (options.logger ?? createLogger(process.env.PARLEY_LOG_LEVEL ?? "info")).child({
      store: this.where,
    });
    this.client = connectStore(options.target, `${name}:store`);
    this.client.defineCommand("parleyAppend", { numberOfKeys: 4, lua: APPEND_LUA });
    this.client.defineCommand("parleyHead", { numberOfKeys: 2, lua: HEAD_LUA });
    // Before anything sends a command: an auto-pipeline made earlier would lack it.
    this.guestNames = new RedisGuestNames(this.client, this.where);
    this.live = new RedisLive(options.target, `${name}:live`);
    this.people = new RedisPeople(this.client, this.live, this.where);
    this.presence = new RedisPresence(
      this.client,
      this.publish,
      this.where,
      options.target.nodeTtlMs,
    );
    this.watchConnection();
    countReconnects(this.client, "store", "ready");
  }

  async append(room: string, message: NewMessage): Promise<AppendResult> {
    this.assertOpen();
    const k = roomKeys(room);
    // Sent before the script and awaited after it: one round trip for both,
    // and the room is remembered only once the index surely has it.
    const index = this.indexed.has(room) ? undefined : this.client.zadd(ROOMS_KEY, "NX", 0, room);
    let stored: StoredMessage;
    try {
      const [duplicate, entry, fields] = await this.client.parleyAppend(
        k.meta,
        k.log,
        k.ids,
        k.channel,
        newEpoch(),
        newMessageId(),
        message.author,
        message.text,
        message.clientMessageId,
        this.retention,
        this.publish,
      );
      await index;
      if (index) this.remember(room);
      stored = fromEntry(room, entry, fields);
      if (duplicate === 0) return { message: stored, duplicate: false };
    } catch (error) {
      index?.catch(() => undefined);
      throw redisCallError(error, this.where, `append to room ${room} (it may have been stored)`);
    }
    // The script stored nothing for a known key; a different payload is refused here.
    const conflict = retryConflict(stored, message);
    if (conflict) throw conflict;
    return { message: stored, duplicate: true };
  }

  async read(room: string, range: ReadRange): Promise<StoredMessage[]> {
    this.assertOpen();
    const lo = range.afterSeq + 1;
    const hi = range.beforeSeq > 0 ? range.beforeSeq - 1 : Number.POSITIVE_INFINITY;
    if (range.limit <= 0 || hi < lo) return [];
    const end = hi === Number.POSITIVE_INFINITY ? "+" : String(hi);
    const { log } = roomKeys(room);
    try {
      const entries = range.newest
        ? (
            (await this.client.xrevrange(log, end, lo, "COUNT", range.limit)) as StreamEntry[]
          ).reverse()
        : ((await this.client.xrange(log, lo, end, "COUNT", range.limit)) as StreamEntry[]);
      return entries.map(([id, fields]) => fromEntry(room, id, fields));
    } catch (error) {
      throw redisCallError(error, this.where, `read room ${room}`);
    }
  }

  async listRooms(afterRoom: string, limit: number): Promise<RoomListing[]> {
    this.assertOpen();
    const out: RoomListing[] = [];
    let after = afterRoom;
    try {
      // A room whose first append failed after its index entry is there without messages: skip it, page on.
      while (out.length < limit) {
        const want = limit - out.length;
        const names = await this.client.zrange(
          ROOMS_KEY,
          after === "" ? "-" : `(${after}`,
          "+",
          "BYLEX",
          "LIMIT",
          0,
          want,
        );
        const heads = await Promise.all(
          names.map((n) => this.client.hmget(roomKeys(n).meta, "seq", "at")),
        );
        names.forEach((room, i) => {
          const [seq, at] = heads[i] ?? [];
          if (Number(seq) > 0) out.push({ room, lastSeq: Number(seq), lastSentAtMs: Number(at) });
        });
        if (names.length < want) break;
        after = names[names.length - 1] as string;
      }
    } catch (error) {
      throw redisCallError(error, this.where, "list rooms");
    }
    return out;
  }

  async head(room: string): Promise<RoomHead> {
    this.assertOpen();
    const k = roomKeys(room);
    try {
      const [epoch, last, first] = await this.client.parleyHead(k.meta, k.log);
      const lastSeq = Number(last);
      return { epoch, lastSeq, firstSeq: lastSeq === 0 ? 0 : seqOf(first) };
    } catch (error) {
      throw redisCallError(error, this.where, `read the head of room ${room}`);
    }
  }

  /** True while the command connection is up (for a cluster: while the client is ready). */
  serving(): boolean {
    return !this.closed && this.client.status === "ready";
  }

  /**
   * Read the server's persistence settings and warn when acknowledged
   * messages could be lost; resolves with the warnings logged.
   */
  async checkDurability(): Promise<string[]> {
    let risks: string[];
    try {
      risks = await checkDurability(this.client);
    } catch (error) {
      risks = [
        `could not read appendonly/appendfsync (${error instanceof Error ? error.message : String(error)}): make sure Redis runs with appendonly yes and appendfsync always, or acknowledged messages can be lost`,
      ];
    }
    for (const risk of risks) this.logger.warn(`acknowledged messages could be lost: ${risk}`);
    return risks;
  }

  /** Let commands already sent finish, then close both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.live.close();
    await this.presence.close();
    const timer = new Promise((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([this.client.quit().catch(() => undefined), timer]);
    this.client.disconnect();
  }

  /** Log losing and regaining Redis once each, and check durability on every (re)connect. */
  private watchConnection(): void {
    let lost = false;
    this.client.on("ready", () => {
      if (lost) this.logger.info("redis connection restored");
      lost = false;
      void this.checkDurability();
    });
    // The Redis this reconnects to may have restarted without its data, room
    // index included: appends from now on add their room to it again.
    this.client.on("close", () => this.indexed.clear());
    this.client.on("error", (error: Error) => {
      if (!lost)
        this.logger.error(
          { err: error.message },
          "redis unreachable; calls fail UNAVAILABLE until it returns",
        );
      lost = true;
    });
  }

  private remember(room: string): void {
    if (this.indexed.size >= MAX_INDEXED) this.indexed.clear();
    this.indexed.add(room);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("redis log is closed");
  }
}
