import type { MethodCore } from "../calls/method-core.js";
import type { Gate } from "../identity/gate.js";
import type { MessageLog } from "../store/message-log.js";
import { listMyRoomsCore } from "./list-my-rooms.js";
import { markReadCore } from "./mark-read.js";
import { membershipCores } from "./membership-cores.js";
import { openConversationCore } from "./open-conversation.js";

/**
 * The People methods (see chat.proto): JoinRoom, LeaveRoom, ListMyRooms,
 * MarkRead and OpenConversation. Feed has its own core.
 */
export function peopleCores(
  log: MessageLog,
  gate: Gate,
  conversationMaxParticipants: number,
): MethodCore[] {
  return [
    ...membershipCores(log, gate),
    listMyRoomsCore(log, gate),
    markReadCore(log, gate),
    openConversationCore(log, gate, conversationMaxParticipants),
  ];
}
