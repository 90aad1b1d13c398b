import type { DescMethod } from "@bufbuild/protobuf";

/**
 * The services whose methods are label values. Method descriptors come from
 * the generated code, never from a client, but a label only ever takes a
 * value from this fixed set: anything else is "other", so no path a client
 * sends can add a series.
 */
const KNOWN_SERVICES = new Set([
  "chat.v1.ChatService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** The label value of a method outside KNOWN_SERVICES. */
export const OTHER_METHOD = "other";

/** A method's label value: "chat.v1.ChatService/Send", or "other". */
export function methodLabel(method: DescMethod): string {
  const service = method.parent.typeName;
  return KNOWN_SERVICES.has(service) ? `${service}/${method.name}` : OTHER_METHOD;
}
