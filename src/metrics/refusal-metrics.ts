import { type Cell, CellFamily } from "./cells.js";
import { registry } from "./registry.js";

const refusalsTotal = new CellFamily(
  "parley_refusals_total",
  "Connections, calls and requests refused by a cap, a per-user limit or auth, by reason.",
  "counter",
).register(registry);

/** Why something was refused: each a fixed label value, the flag or limit it comes from. */
const REASONS = {
  /** --max-connections: the server's total. */
  maxConnections: "max_connections",
  /** --max-connections-per-address. */
  maxConnectionsPerAddress: "max_connections_per_address",
  /** --max-resets-per-address: a connection ended, or refused, for resetting too many streams. */
  maxResetsPerAddress: "max_resets_per_address",
  /** --ws-max-sockets-per-address: a WebSocket upgrade answered 429. */
  wsMaxSocketsPerAddress: "ws_max_sockets_per_address",
  /** --ws-max-calls: one more call on a WebSocket. */
  wsMaxCalls: "ws_max_calls",
  /** Per-user rates: --user-send-rate, --user-join-rate, --user-typing-rate (and their bursts). */
  userSends: "user_sends",
  userJoins: "user_joins",
  userTyping: "user_typing",
  /** --user-max-streams: one more open stream for a user. */
  userMaxStreams: "user_max_streams",
  /** A call without a usable token. */
  unauthenticated: "unauthenticated",
  /** A token without the scope or the room the call needs. */
  permissionDenied: "permission_denied",
} as const;

/**
 * One cell per refusal reason, made (at 0) when the process starts, so a
 * rate over any of them exists before the first refusal. Increment the
 * reason's cell where the refusal is decided: `refusals.userSends.value++`.
 */
export const refusals = Object.fromEntries(
  Object.entries(REASONS).map(([key, reason]) => [key, refusalsTotal.cell({ reason })]),
) as Record<keyof typeof REASONS, Cell>;
