import type { DescMessage } from "@bufbuild/protobuf";
import { createMethodSerializationLookup } from "@connectrpc/connect/protocol";
import type { MethodCore } from "../../calls/method-core.js";
import { asClientFault } from "../../calls/parse-fault.js";

/** A method the WebSocket endpoint serves: its core, and how its messages are read. */
export interface WsRoute {
  readonly core: MethodCore;
  /** The response message's schema. */
  readonly output: DescMessage;
  /** A request message from its protobuf binary encoding; throws connect's error for bad bytes. */
  readonly parse: (bytes: Uint8Array) => unknown;
}

/**
 * The routes of `cores`, keyed by "/package.Service/Method". Requests are
 * read by connect's own serialization, with the same readMaxBytes, so a
 * message too large or undecodable is refused in exactly the connect path's
 * words (RESOURCE_EXHAUSTED; INVALID_ARGUMENT "parse binary: …").
 */
export function wsRoutes(cores: readonly MethodCore[], readMaxBytes: number) {
  const routes = new Map<string, WsRoute>();
  for (const core of cores) {
    const parser = createMethodSerializationLookup(core.method, undefined, undefined, {
      readMaxBytes,
      writeMaxBytes: Number.MAX_SAFE_INTEGER,
    }).getI(true);
    const parse = (bytes: Uint8Array) => {
      try {
        return parser.parse(bytes);
      } catch (error) {
        throw asClientFault(error);
      }
    };
    routes.set(`/${core.method.parent.typeName}/${core.method.name}`, {
      core,
      output: core.method.output as DescMessage,
      parse,
    });
  }
  return routes;
}
