import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, type WireType } from "@bufbuild/protobuf/wire";

/**
 * A message of `schema` whose known fields stay empty and whose encoding is
 * carried whole as unknown fields: protobuf-es's toBinary writes unknown
 * fields verbatim (the tag, then the bytes kept here), so serializing it
 * gives back exactly `bytes`. This is how bytes encoded once by a hand-written
 * writer pass through connect's serializer without being decoded and encoded
 * again. Only for binary encodings: JSON ignores unknown fields.
 */
export function opaqueMessage<S extends DescMessage>(
  schema: S,
  bytes: Uint8Array,
): MessageShape<S> {
  const message = create(schema);
  if (bytes.length === 0) return message;
  const unknown: { no: number; wireType: WireType; data: Uint8Array }[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const start = reader.pos;
    reader.skip(wireType, no);
    unknown.push({ no, wireType, data: bytes.subarray(start, reader.pos) });
  }
  (message as { $unknown?: typeof unknown }).$unknown = unknown;
  return message;
}
