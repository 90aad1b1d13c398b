import { Code, ConnectError } from "@connectrpc/connect";
import type { NewMessage, StoredMessage } from "./message-log.js";

/**
 * Why a message reusing a stored message's clientMessageId cannot be treated
 * as a retry of it, or undefined when it is one (same author and text, as
 * stored: trimmed). Every engine asks this when a key matches, so they all
 * refuse alike.
 *
 * ALREADY_EXISTS, not FAILED_PRECONDITION: the key already names another
 * message, which is what the code means (the thing the client tried to create
 * exists), and no state the client can fix would make this request succeed;
 * a new key would. It also keeps FAILED_PRECONDITION for what it means in
 * Subscribe (another epoch), so a client can tell the two apart by code.
 */
export function retryConflict(
  original: StoredMessage,
  message: NewMessage,
): ConnectError | undefined {
  if (original.author === message.author && original.text === message.text) return undefined;
  const differs = original.author === message.author ? "text" : "author";
  return new ConnectError(
    `client_message_id: ${JSON.stringify(original.clientMessageId)} already names message ${original.seq} in room ${JSON.stringify(original.room)}, which has another ${differs}; a retry must repeat the message exactly, and a new message needs a new key`,
    Code.AlreadyExists,
  );
}
