import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";

/**
 * A message's fields as the contract declares them, one string a field:
 * "number:name:type", the type being the scalar type, the message or enum
 * type name, `repeated …` or `map<…, …>`, followed by " optional" for a
 * scalar with explicit presence and " oneof <name>" for a oneof member. A
 * test of a hand-written codec compares this list with the one its writer
 * was written for, so it fails when the contract adds, renumbers, renames or
 * retypes a field.
 */
export function contractFields(schema: DescMessage): string[] {
  return schema.fields.map((f) => `${f.number}:${f.name}:${typeOf(f)}${modifiers(f)}`);
}

function typeOf(f: DescField): string {
  switch (f.fieldKind) {
    case "scalar":
      return scalarName(f.scalar);
    case "enum":
      return f.enum.typeName;
    case "message":
      return f.message.typeName;
    case "list": {
      const element =
        f.listKind === "scalar"
          ? scalarName(f.scalar)
          : f.listKind === "enum"
            ? f.enum.typeName
            : f.message.typeName;
      return `repeated ${element}${f.listKind === "scalar" && f.packed ? " packed" : ""}`;
    }
    case "map": {
      const value =
        f.mapKind === "scalar"
          ? scalarName(f.scalar)
          : f.mapKind === "enum"
            ? f.enum.typeName
            : f.message.typeName;
      return `map<${scalarName(f.mapKey)}, ${value}>`;
    }
  }
}

function modifiers(f: DescField): string {
  if (f.oneof !== undefined) return ` oneof ${f.oneof.name}`;
  const explicit = f.presence === FeatureSet_FieldPresence.EXPLICIT;
  return explicit && (f.fieldKind === "scalar" || f.fieldKind === "enum") ? " optional" : "";
}

function scalarName(type: ScalarType): string {
  return (ScalarType[type] ?? `scalar ${type}`).toLowerCase();
}
