/**
 * Every limit the contract names (see the comments in
 * proto/chat/v1/chat.proto); validation and the server options read them
 * from here so the numbers live in one place.
 */
export const LIMITS = {
  roomMaxChars: 64,
  authorMaxChars: 32,
  textMaxChars: 500,
  clientMessageIdMaxChars: 64,
  epochMaxChars: 64,
  historyDefaultLimit: 50,
  historyMaxLimit: 1000,
  listRoomsDefaultLimit: 100,
  listRoomsMaxLimit: 1000,
  /** Largest request message accepted on the wire (readMaxBytes). */
  messageMaxBytes: 64 * 1024,
} as const;
