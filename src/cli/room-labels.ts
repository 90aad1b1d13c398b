import type { MyRoom } from "../../gen/chat/v1/chat_pb.js";

/**
 * How the CLI names rooms and conversations to a person: "#design" for a
 * room, "@bo, cy" for a conversation (its participants but `me`). Learns
 * conversations' participants from ready and joined events as they come.
 */
export class RoomLabels {
  private readonly labels = new Map<string, string>();

  constructor(private readonly me: string) {}

  /** Remember a membership's participants. */
  learn(room: MyRoom): void {
    if (room.participants.length === 0) return;
    const others = room.participants.filter((p) => p !== this.me);
    this.labels.set(room.room, `@${(others.length > 0 ? others : room.participants).join(", ")}`);
  }

  /** The label of a room or conversation id. */
  of(room: string): string {
    return this.labels.get(room) ?? `#${room}`;
  }
}
