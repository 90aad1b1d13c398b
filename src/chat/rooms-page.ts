import { isConversationId } from "../limits.js";

/**
 * Every conversation id sorts between "dm." and this (ids are "dm." and
 * base32 letters, all below "~"), and no room name does (rooms hold no "."),
 * so a page that meets a conversation can step over all of them at once.
 */
const AFTER_CONVERSATIONS = "dm.~";

/**
 * Up to `limit` entries after `after` from a source paged by name, without
 * conversations: ListRooms never lists them. When conversations took places
 * in a full page, the page is read on past them, so limit and has_more stay
 * right; at most one step over the conversations' block.
 */
export async function roomsWithoutConversations<T extends { room: string }>(
  read: (after: string, limit: number) => Promise<readonly T[]>,
  after: string,
  limit: number,
): Promise<T[]> {
  const out: T[] = [];
  let from = after;
  for (;;) {
    const want = limit - out.length;
    const page = await read(from, want);
    for (const entry of page) if (!isConversationId(entry.room)) out.push(entry);
    const last = page[page.length - 1];
    if (page.length < want || out.length >= limit || last === undefined) return out;
    from =
      isConversationId(last.room) && last.room < AFTER_CONVERSATIONS
        ? AFTER_CONVERSATIONS
        : last.room;
  }
}
