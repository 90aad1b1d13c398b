/**
 * The SQLite schema. `rooms` keeps each log's epoch and seq bounds so that
 * appends and head reads never scan messages; `messages` is keyed by
 * (room, seq) without a rowid, so a room's log is one contiguous b-tree range.
 * `store` holds the file's incarnation id (key "incarnation"), from which the
 * epochs of rooms created since it existed derive (ids.ts roomEpoch).
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS store (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rooms (
  name TEXT PRIMARY KEY,
  epoch TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  first_seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS messages (
  room TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  client_message_id TEXT,
  PRIMARY KEY (room, seq)
) WITHOUT ROWID;

CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id
  ON messages (room, client_message_id) WHERE client_message_id IS NOT NULL;
`;

/**
 * Guest names (guest-names.ts): per name the sha256 of its key, its last
 * use and its newest token's expiry, both in ms since the epoch.
 */
export const SQLITE_GUEST_NAMES_SCHEMA = `
CREATE TABLE IF NOT EXISTS guest_names (
  name TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL,
  last_used INTEGER NOT NULL,
  token_until INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * People (people.ts): one row per membership, keyed by (user, room) so a
 * user's rooms are one b-tree range already in room order; one row per
 * conversation, its sorted participants as a JSON array. Messages and their
 * numbering are untouched: these tables only sit beside them. Created with
 * IF NOT EXISTS when a store opens, so files written before people existed
 * gain them on their next open.
 */
export const SQLITE_PEOPLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS memberships (
  user TEXT NOT NULL,
  room TEXT NOT NULL,
  joined_seq INTEGER NOT NULL,
  read_seq INTEGER NOT NULL,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (user, room)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  participants TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
