import type { DescMessage } from "@bufbuild/protobuf";

/**
 * A message's fields as the contract declares them ("number:name:kind"), so
 * a test of a hand-written codec fails when the contract adds or changes one.
 */
export function contractFields(schema: DescMessage): string[] {
  return schema.fields.map((f) => `${f.number}:${f.name}:${f.fieldKind}`);
}
