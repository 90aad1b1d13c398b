/** Rooms followed live at most (each is a stream, and a user may hold 64 by default: see --user-max-streams; two tabs must fit). */
export const MAX_FOLLOWED = 24;

/** What is kept per room: the last seq read, and when the room was last opened (0: never). */
interface Mark {
  read: string;
  openedAt: number;
}

/**
 * Unread counts: per room, the newest seq known (from ListRooms, or live from
 * a followed room's stream) less the last seq read. A room's messages are
 * read while it is open; a room first seen in the list starts with nothing
 * unread (its past is not news). Kept in localStorage per name, so a reload
 * or another tab counts from the same place. The rooms opened most
 * recently are the followed ones (followed()).
 */
export class UnreadCounts {
  private readonly marks: Record<string, Mark>;
  private readonly latest = new Map<string, bigint>();
  private current = "";

  constructor(
    private readonly name: string,
    private readonly onChange: () => void,
  ) {
    this.marks = load(name);
  }

  /** The room now open: everything in it is read as it shows. */
  open(room: string): void {
    this.current = room;
    const mark = this.marks[room] ?? { read: "0", openedAt: 0 };
    this.marks[room] = { ...mark, openedAt: Date.now() };
    this.save();
    this.read(room, this.latest.get(room) ?? BigInt(mark.read));
  }

  /** The room's newest seq as something heard it (ListRooms, a followed stream). */
  seen(room: string, lastSeq: bigint): void {
    if (this.marks[room] === undefined) {
      this.marks[room] = { read: String(lastSeq), openedAt: 0 };
      this.save();
    }
    if (lastSeq <= (this.latest.get(room) ?? -1n)) return;
    this.latest.set(room, lastSeq);
    if (room === this.current) this.read(room, lastSeq);
    else this.onChange();
  }

  /** The open room showed up to `seq`. */
  read(room: string, seq: bigint): void {
    const mark = this.marks[room];
    if (mark !== undefined && BigInt(mark.read) >= seq) return;
    this.marks[room] = { read: String(seq), openedAt: mark?.openedAt ?? 0 };
    if (seq > (this.latest.get(room) ?? -1n)) this.latest.set(room, seq);
    this.save();
    this.onChange();
  }

  /** The room's newest seq heard so far, if any. */
  latestSeq(room: string): bigint | undefined {
    return this.latest.get(room);
  }

  /** Messages in `room` after the last one read (0 for the open room). */
  count(room: string): number {
    const mark = this.marks[room];
    const latest = this.latest.get(room);
    if (mark === undefined || latest === undefined || room === this.current) return 0;
    const unread = latest - BigInt(mark.read);
    return unread > 0n ? Number(unread) : 0;
  }

  /** The rooms to follow live: opened before, most recent first, the open one left out. */
  followed(): string[] {
    return Object.entries(this.marks)
      .filter(([room, mark]) => mark.openedAt > 0 && room !== this.current)
      .sort(([, a], [, b]) => b.openedAt - a.openedAt)
      .slice(0, MAX_FOLLOWED)
      .map(([room]) => room);
  }

  private save(): void {
    try {
      localStorage.setItem(key(this.name), JSON.stringify(this.marks));
    } catch {
      // Storage disabled: the counts last for this page only.
    }
  }
}

const key = (name: string) => `parley.read.${name}`;

function load(name: string): Record<string, Mark> {
  try {
    const kept: unknown = JSON.parse(localStorage.getItem(key(name)) ?? "{}");
    return typeof kept === "object" && kept !== null ? (kept as Record<string, Mark>) : {};
  } catch {
    return {};
  }
}
