import type { Cluster, Redis } from "ioredis";
import { newEpoch } from "./ids.js";
import type { RoomMemberCount, SharedMember, SharedPresence } from "./message-log.js";
import { redisCallError } from "./redis-errors.js";
import { NODES_KEY, nodeMemberRoomsKey, nodeRoomsKey, roomKeys } from "./redis-keys.js";
import {
  ALL_ROOM_COUNTS_LUA,
  HEARTBEAT_LUA,
  JOIN_LUA,
  LEAVE_LUA,
  ROOM_COUNT_LUA,
} from "./redis-presence-scripts.js";

/** How long a node may miss heartbeats before the others remove its members, by default. */
export const DEFAULT_NODE_TTL_MS = 15_000;

/**
 * Room members across the Parley processes sharing one Redis (or cluster).
 * Each process is a node with a random id; it beats every third of the TTL
 * into a sorted set of nodes, and each beat also names the nodes silent for
 * longer than the TTL, whose members this node then removes room by room
 * (each removal published as a leave, like a goodbye). A node that finds
 * itself given up for dead (a long pause) announces its members again.
 *
 * Beside each room's member hash, every node keeps a count of its own
 * members per room (nodeMemberRoomsKey), written by that node alone, so
 * ListRooms learns every node's rooms and counts with one command per node.
 */
export class RedisPresence implements SharedPresence {
  readonly nodeId = newEpoch();
  /** This node's members: room -> member id -> author. */
  private readonly local = new Map<string, Map<string, string>>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly publish: "PUBLISH" | "SPUBLISH",
    /** The server, as errors name it ("redis 127.0.0.1:6379/0"). */
    private readonly where: string,
    private readonly ttlMs = DEFAULT_NODE_TTL_MS,
  ) {
    client.defineCommand("parleyJoin", { numberOfKeys: 2, lua: JOIN_LUA });
    client.defineCommand("parleyLeave", { numberOfKeys: 2, lua: LEAVE_LUA });
    client.defineCommand("parleyHeartbeat", { numberOfKeys: 1, lua: HEARTBEAT_LUA });
    client.defineCommand("parleyRoomCount", { numberOfKeys: 1, lua: ROOM_COUNT_LUA });
    client.defineCommand("parleyAllRoomCounts", { numberOfKeys: 1, lua: ALL_ROOM_COUNTS_LUA });
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
    void this.beat();
    // After a reconnect, joins that failed meanwhile are made good.
    client.on("ready", () => void this.announceAll());
  }

  join(room: string, memberId: string, author: string): void {
    let members = this.local.get(room);
    if (!members) {
      members = new Map();
      this.local.set(room, members);
    }
    members.set(memberId, author);
    void this.announce(room, memberId, author);
    this.writeCount(room, members.size);
  }

  leave(room: string, memberId: string): void {
    const members = this.local.get(room);
    if (!members?.delete(memberId)) return;
    if (members.size === 0) this.local.delete(room);
    this.writeCount(room, members.size);
    const k = roomKeys(room);
    this.client.parleyLeave(k.members, k.channel, memberId, "", this.publish).catch(() => {
      // Redis unreachable: the entry stays until this node's own leave-all at
      // close, or until it is taken for dead.
    });
  }

  typing(room: string, author: string, stopped: boolean): void {
    const { channel } = roomKeys(room);
    const payload = JSON.stringify({ p: "t", a: author, s: stopped ? 1 : 0, n: this.nodeId });
    const sent =
      this.publish === "SPUBLISH"
        ? this.client.spublish(channel, payload)
        : this.client.publish(channel, payload);
    // Typing is ephemeral: lost while Redis is unreachable.
    sent.catch(() => undefined);
  }

  async members(room: string): Promise<{ version: number; members: SharedMember[] }> {
    let all: Record<string, string>;
    try {
      all = await this.client.hgetall(roomKeys(room).members);
    } catch (error) {
      throw redisCallError(error, this.where, `list the members of room ${room}`);
    }
    const members: SharedMember[] = [];
    for (const [memberId, entry] of Object.entries(all)) {
      if (memberId === "#v") continue;
      const space = entry.indexOf(" ");
      members.push({ memberId, node: entry.slice(0, space), author: entry.slice(space + 1) });
    }
    return { version: Number(all["#v"] ?? 0), members };
  }

  /**
   * Two round trips whatever the number of rooms: the node set, then one
   * range of each other node's member rooms (in parallel). Each node's
   * first `limit` rooms after `afterRoom` hold every room of the merged
   * first `limit`, so no more is needed.
   */
  async roomsElsewhere(afterRoom: string, limit: number): Promise<RoomMemberCount[]> {
    const counts = new Map<string, number>();
    try {
      const nodes = (await this.client.zrange(NODES_KEY, "0", "-1")).filter(
        (n) => n !== this.nodeId,
      );
      // "room!" sorts after "room <count>" and before every longer name.
      const from = afterRoom === "" ? "-" : `(${afterRoom}!`;
      const ranges = await Promise.all(
        nodes.map((n) =>
          this.client.zrange(nodeMemberRoomsKey(n), from, "+", "BYLEX", "LIMIT", 0, limit),
        ),
      );
      for (const entry of ranges.flat()) {
        const space = entry.lastIndexOf(" ");
        const room = entry.slice(0, space);
        counts.set(room, (counts.get(room) ?? 0) + Number(entry.slice(space + 1)));
      }
    } catch (error) {
      throw redisCallError(error, this.where, "list the rooms with members");
    }
    return [...counts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .slice(0, limit)
      .map(([room, memberCount]) => ({ room, memberCount }));
  }

  /** Withdraw every member of this node and leave the node set. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    try {
      await this.removeNode(this.nodeId, [...this.local.keys()]);
    } catch {
      // Unreachable: the others remove them once this node's heartbeats stop.
    }
    this.local.clear();
  }

  private async announce(room: string, memberId: string, author: string): Promise<void> {
    const k = roomKeys(room);
    try {
      await this.client.sadd(nodeRoomsKey(this.nodeId), room);
      await this.client.parleyJoin(
        k.members,
        k.channel,
        memberId,
        this.nodeId,
        author,
        this.publish,
      );
    } catch {
      // Unreachable: announceAll() runs again on the next "ready".
    }
  }

  /** Record this node's member count in a room (in the background; rewritten whole after a reconnect). */
  private writeCount(room: string, count: number): void {
    this.client.parleyRoomCount(nodeMemberRoomsKey(this.nodeId), room, count).catch(() => {
      // Unreachable: announceAll() rewrites every count on the next "ready".
    });
  }

  private async announceAll(): Promise<void> {
    const counts = Array.from(this.local, ([room, members]) => `${room} ${members.size}`);
    try {
      await this.client.parleyAllRoomCounts(nodeMemberRoomsKey(this.nodeId), ...counts);
    } catch {
      // Unreachable: tried again on the next "ready".
    }
    for (const [room, members] of this.local) {
      for (const [memberId, author] of members) await this.announce(room, memberId, author);
    }
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      const [added, dead] = await this.client.parleyHeartbeat(NODES_KEY, this.nodeId, this.ttlMs);
      if (added === 1) await this.announceAll();
      for (const node of dead) {
        if (node !== this.nodeId) await this.removeNode(node);
      }
    } catch {
      // Unreachable: the next beat tries again.
    }
  }

  /** Remove a node's members from every room it had them in (or the given rooms), then the node. */
  private async removeNode(node: string, rooms?: string[]): Promise<void> {
    const key = nodeRoomsKey(node);
    for (const room of rooms ?? (await this.client.smembers(key))) {
      const k = roomKeys(room);
      await this.client.parleyLeave(k.members, k.channel, "", node, this.publish);
    }
    await this.client.del(key, nodeMemberRoomsKey(node));
    await this.client.zrem(NODES_KEY, node);
  }
}
