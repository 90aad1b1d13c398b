import {
  ChatService,
  type HistoryRequest,
  type ListenerRequest,
} from "../../gen/chat/v1/chat_pb.js";
import type { MethodCore } from "../calls/method-core.js";
import { type Gate, OPEN_GATE } from "../identity/gate.js";
import type { GuestIssuer } from "../identity/guest-issuer.js";
import { LIMITS } from "../limits.js";
import type { RoomHub } from "../rooms/room-hub.js";
import type { MessageLog } from "../store/message-log.js";
import { chatCore } from "./chat-stream.js";
import { echoCore } from "./echo.js";
import { readHistory } from "./history.js";
import { runListener } from "./listener-stream.js";
import { loginCore } from "./login.js";
import { peopleCores } from "./people-cores.js";
import { presenceCores } from "./presence.js";
import { sendCore } from "./send-message.js";
import { subscribeCore } from "./subscribe.js";

/**
 * Every ChatService method's behaviour, once: the connect path, the direct
 * gRPC path and the SSE gateway all serve these. Writes and live events go
 * through the room hub, reads of stored messages to the log.
 */
export function chatCores(
  hub: RoomHub,
  log: MessageLog,
  options: ChatCoreOptions = {},
): MethodCore[] {
  const gate = options.gate ?? OPEN_GATE;
  return [
    sendCore(hub, gate),
    {
      kind: "client_streaming",
      method: ChatService.method.listener,
      run: (requests: AsyncIterable<ListenerRequest>, scope) =>
        runListener(hub, gate, requests, scope),
    },
    subscribeCore(hub, gate),
    echoCore(options.now),
    chatCore(hub, gate),
    {
      kind: "unary",
      method: ChatService.method.history,
      run: (req: HistoryRequest, scope) => readHistory(log, gate, scope.call, req),
    },
    ...presenceCores(hub, log, gate),
    ...peopleCores(
      log,
      gate,
      options.conversationMaxParticipants ?? LIMITS.conversationParticipantsDefault,
    ),
    loginCore(options.guests, options.authMode ?? "off"),
  ];
}

/** How the cores are built: identity checks and the clock. */
export interface ChatCoreOptions {
  /** The clock Echo reports arrival times by (Date.now unless a test fixes it). */
  now?: (() => number) | undefined;
  /** Room, author and rate checks (none without identity). */
  gate?: Gate | undefined;
  /** Guest logins, in `--auth guest` mode. */
  guests?: GuestIssuer | undefined;
  /** The server's auth mode, for Login's refusal when it hands out no tokens. */
  authMode?: string | undefined;
  /** The most participants of one conversation (`--conversation-max-participants`). */
  conversationMaxParticipants?: number | undefined;
}
