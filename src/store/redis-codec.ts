import type { PresenceChange, StoredMessage } from "./message-log.js";

/** A typing signal as RedisPresence.typing publishes it: {p: "t", a, s, n}. */
export interface TypingSignal {
  author: string;
  stopped: boolean;
  node: string;
}

/*
 * The shapes in which messages come back from Redis: stream entries (reads,
 * and the append script's reply) and pub/sub payloads (redis-scripts.ts and
 * redis-presence-scripts.ts write them).
 */

/** The seq of a stream entry id "<seq>-0". */
export function seqOf(entryId: string): number {
  return Number.parseInt(entryId, 10);
}

/** A message from its stream entry (fields i, a, t, w, c; see redis-scripts.ts). */
export function fromEntry(room: string, entryId: string, fields: string[]): StoredMessage {
  const m: StoredMessage = {
    room,
    seq: seqOf(entryId),
    id: "",
    author: "",
    text: "",
    sentAtMs: 0,
    clientMessageId: "",
  };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    switch (fields[i]) {
      case "i":
        m.id = value;
        break;
      case "a":
        m.author = value;
        break;
      case "t":
        m.text = value;
        break;
      case "w":
        m.sentAtMs = Number(value);
        break;
      case "c":
        m.clientMessageId = value;
        break;
    }
  }
  return m;
}

/**
 * A presence change as redis-presence-scripts.ts publishes it ({p: "j"|"l",
 * v, m, a, n}), or a typing signal ({p: "t", a, s, n}).
 */
export function decodePresence(payload: string): PresenceChange | TypingSignal {
  const c = JSON.parse(payload) as {
    p: string;
    v: number;
    m: string;
    a: string;
    n: string;
    s: number;
  };
  if (c.p === "t") return { author: c.a, stopped: c.s === 1, node: c.n };
  return {
    kind: c.p === "j" ? "join" : "leave",
    version: c.v,
    memberId: c.m,
    author: c.a,
    node: c.n,
  };
}

/** A message as the append script publishes it: [entry id, id, author, text, stored-at ms, key]. */
export function decodePublished(room: string, payload: string): StoredMessage {
  const [entry, id, author, text, at, clientMessageId] = JSON.parse(payload) as string[];
  return {
    room,
    seq: Number.parseInt(entry ?? "0", 10),
    id: id ?? "",
    author: author ?? "",
    text: text ?? "",
    sentAtMs: Number(at),
    clientMessageId: clientMessageId ?? "",
  };
}
