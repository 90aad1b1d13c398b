import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";

/**
 * Words for the answers connect-node gives with an empty body, and for RPC
 * paths no method matches, so that a caller with plain HTTP (curl, fetch)
 * learns what was wrong: a missing or wrong Content-Type (415), a GET on a
 * method that takes POST (405), a bidi stream over HTTP/1.1 (505), an
 * unknown method or service (404).
 */

const encoder = new TextEncoder();

/** The Content-Types a method accepts, in words. */
function contentTypes(method: DescMethod): string {
  return method.methodKind === "unary"
    ? "application/json (JSON) or application/proto (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)"
    : "application/connect+json or application/connect+proto (Connect streams: enveloped messages), application/grpc (gRPC) or application/grpc-web (gRPC-Web)";
}

/** Whether the Connect protocol also takes GET for this method (no side effects, unary). */
function takesGet(method: DescMethod): boolean {
  return (
    method.methodKind === "unary" &&
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS
  );
}

/** The response with words for a bodiless 405, 415 or 505 connect-node answered a call to `method` with; any other as it was. */
export function explainBareResponse(
  response: UniversalServerResponse,
  method: DescMethod,
  request: { method: string; contentType: string },
): UniversalServerResponse {
  if (response.body !== undefined) return response;
  const path = `/${method.parent.typeName}/${method.name}`;
  let text: string;
  const header = new Headers(response.header);
  switch (response.status) {
    case 415: {
      const had =
        request.contentType === "" ? "no Content-Type" : `Content-Type ${request.contentType}`;
      text = `${path} takes Content-Type ${contentTypes(method)}; this request had ${had}.`;
      if (method.methodKind === "unary") {
        text += ` For JSON: curl -H 'Content-Type: application/json' -d '{…}' URL.`;
      } else if (method.methodKind === "server_streaming" && method.name === "Subscribe") {
        text += " To follow a room over plain HTTP: GET /rooms/ROOM/events (Server-Sent Events).";
      }
      break;
    }
    case 405: {
      const allowed = takesGet(method) ? "GET, POST" : "POST";
      header.set("allow", allowed);
      text = `${path} is called with ${allowed === "POST" ? "POST" : "POST (or GET, Connect's form for calls without side effects)"}; this request was ${request.method}.`;
      break;
    }
    case 505:
      text = `${path} is a bidirectional stream and needs HTTP/2: a gRPC or Connect client over cleartext HTTP/2 (h2c) or TLS, such as buf curl --protocol grpc.`;
      break;
    default:
      return response;
  }
  header.set("content-type", "text/plain; charset=utf-8");
  const body = encoder.encode(`${text}\n`);
  return {
    ...response,
    header,
    body: (async function* () {
      yield body;
    })(),
  };
}

/**
 * What a call to `path` that names no method is told (UNIMPLEMENTED): the
 * service's methods, or the services. Undefined when `path` does not look
 * like an RPC path (`/package.Service/Method`). Every transport says it in
 * these words.
 */
export function unknownRpcMessage(
  path: string,
  httpMethod: string,
  services: readonly DescService[],
): string | undefined {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (match === null) return undefined;
  const [, serviceName = "", methodName = ""] = match;
  const service = services.find((s) => s.typeName === serviceName);
  if (service !== undefined) {
    const names = service.methods.map((m) => m.name).join(", ");
    return `${serviceName} has no method ${JSON.stringify(methodName)}; its methods: ${names}`;
  }
  if (serviceName.includes(".") && httpMethod === "POST") {
    const names = services.map((s) => s.typeName).join(", ");
    return `no service ${JSON.stringify(serviceName)} here; the services: ${names}`;
  }
  return undefined;
}

/**
 * The answer to `path` when it names no method, if it looks like an RPC
 * path (`/package.Service/Method`): 404 naming the service's methods, or the
 * services, in Connect's JSON error form for a Connect unary request (which
 * its clients read as UNIMPLEMENTED with these words) and as text otherwise. Undefined for any other path (the web app's files, say).
 */
export function unknownRpc(
  path: string,
  httpMethod: string,
  contentType: string,
  services: readonly DescService[],
): { status: number; header: Record<string, string>; body: string } | undefined {
  const message = unknownRpcMessage(path, httpMethod, services);
  if (message === undefined) return undefined;
  const type = contentType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  // A Connect unary call (JSON or binary) reads its error from a JSON body.
  if (type === "application/json" || type === "application/proto") {
    return {
      status: 404,
      header: { "content-type": "application/json" },
      body: JSON.stringify({ code: "unimplemented", message }),
    };
  }
  return {
    status: 404,
    header: { "content-type": "text/plain; charset=utf-8" },
    body: `${message}\n`,
  };
}
