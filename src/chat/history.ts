import { clearField, create } from "@bufbuild/protobuf";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import {
  ChatMessageSchema,
  type HistoryRequest,
  type HistoryResponse,
  HistoryResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { CallInfo } from "../calls/call-info.js";
import type { Gate } from "../identity/gate.js";
import { LIMITS } from "../limits.js";
import { toChatMessage } from "../rooms/room-event.js";
import type { MessageLog } from "../store/message-log.js";
import { invalidArgument, validRoom, validSeq } from "./validate.js";

/** The ChatMessage fields a read mask keeps, by proto name; undefined keeps all. */
function maskedFields(mask: FieldMask | undefined): Set<string> | undefined {
  if (!mask || mask.paths.length === 0) return undefined;
  const keep = new Set<string>();
  for (const path of mask.paths) {
    const field = ChatMessageSchema.fields.find((f) => f.name === path || f.jsonName === path);
    if (!field) {
      const known = ChatMessageSchema.fields.map((f) => f.name).join(", ");
      throw invalidArgument("read_mask", `unknown path "${path}"; ChatMessage fields are ${known}`);
    }
    keep.add(field.name);
  }
  return keep;
}

/** Answer a History request: one page of stored messages, ascending by seq. */
export async function readHistory(
  log: MessageLog,
  gate: Gate,
  call: CallInfo,
  req: HistoryRequest,
): Promise<HistoryResponse> {
  const room = validRoom("room", req.room);
  const allowed = gate.room(call, room, "read");
  if (allowed !== undefined) await allowed;
  const afterSeq = req.afterSeq === undefined ? 0 : validSeq("after_seq", req.afterSeq);
  const beforeSeq = validSeq("before_seq", req.beforeSeq);
  if (req.limit > LIMITS.historyMaxLimit) {
    throw invalidArgument("limit", `must be at most ${LIMITS.historyMaxLimit} (got ${req.limit})`);
  }
  const limit = req.limit === 0 ? LIMITS.historyDefaultLimit : req.limit;
  const keep = maskedFields(req.readMask);

  const head = await log.head(room);
  // Newest-first unless the caller gave a lower bound; one extra row tells whether more remain.
  const newest = req.afterSeq === undefined;
  const rows = await log.read(room, { afterSeq, beforeSeq, limit: limit + 1, newest });
  const hasMore = rows.length > limit;
  const page = hasMore ? (newest ? rows.slice(1) : rows.slice(0, limit)) : rows;

  const messages = page.map((m) => {
    const message = toChatMessage(m);
    if (keep) {
      for (const field of ChatMessageSchema.fields) {
        if (!keep.has(field.name)) clearField(message, field);
      }
    }
    return message;
  });
  return create(HistoryResponseSchema, {
    messages,
    lastSeq: BigInt(head.lastSeq),
    firstSeq: BigInt(head.firstSeq),
    epoch: head.epoch,
    hasMore,
  });
}
