import type { Cluster, Redis } from "ioredis";
import { newEpoch } from "./ids.js";
import type { SharedMember, SharedPresence } from "./message-log.js";
import { NODES_KEY, nodeRoomsKey, roomKeys } from "./redis-keys.js";
import { HEARTBEAT_LUA, JOIN_LUA, LEAVE_LUA } from "./redis-presence-scripts.js";

/** How long a node may miss heartbeats before the others remove its members, by default. */
export const DEFAULT_NODE_TTL_MS = 15_000;

/**
 * Room members across the Parley processes sharing one Redis (or cluster).
 * Each process is a node with a random id; it beats every third of the TTL
 * into a sorted set of nodes, and each beat also names the nodes silent for
 * longer than the TTL, whose members this node then removes room by room
 * (each removal published as a leave, like a goodbye). A node that finds
 * itself given up for dead (a long pause) announces its members again.
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
    private readonly ttlMs = DEFAULT_NODE_TTL_MS,
  ) {
    client.defineCommand("parleyJoin", { numberOfKeys: 2, lua: JOIN_LUA });
    client.defineCommand("parleyLeave", { numberOfKeys: 2, lua: LEAVE_LUA });
    client.defineCommand("parleyHeartbeat", { numberOfKeys: 1, lua: HEARTBEAT_LUA });
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
  }

  leave(room: string, memberId: string): void {
    const members = this.local.get(room);
    if (!members?.delete(memberId)) return;
    if (members.size === 0) this.local.delete(room);
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
    const all = await this.client.hgetall(roomKeys(room).members);
    const members: SharedMember[] = [];
    for (const [memberId, entry] of Object.entries(all)) {
      if (memberId === "#v") continue;
      const space = entry.indexOf(" ");
      members.push({ memberId, node: entry.slice(0, space), author: entry.slice(space + 1) });
    }
    return { version: Number(all["#v"] ?? 0), members };
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

  private async announceAll(): Promise<void> {
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
    await this.client.del(key);
    await this.client.zrem(NODES_KEY, node);
  }
}
