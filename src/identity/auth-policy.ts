import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ChatService } from "../../gen/chat/v1/chat_pb.js";
import type { CallPolicy } from "../calls/call-policy.js";
import { type Access, checkScope, type Identity, identityKey } from "./identity.js";
import type { UserLimits } from "./user-limits.js";

/** What each ChatService method needs of a token; other services' methods (health, reflection) are public. */
const NEEDS: Record<string, Access | "token" | "public"> = {
  Send: "write",
  Listener: "write",
  SetTyping: "write",
  Subscribe: "read",
  History: "read",
  ListRooms: "read",
  ListMembers: "read",
  ListMyRooms: "read",
  Feed: "read",
  JoinRoom: "write",
  LeaveRoom: "write",
  MarkRead: "write",
  OpenConversation: "write",
  // Chat's posts are checked for chat:write as they come.
  Chat: "read",
  // Touches no room, but is not for anonymous load.
  Echo: "token",
  Login: "public",
};

function needOf(method: DescMethod): Access | "token" | "public" {
  if (method.parent.typeName !== ChatService.typeName) return "public";
  return NEEDS[method.name] ?? "token";
}

/** The token of an `authorization: Bearer <token>` header. */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * The identity policy: every ChatService call but Login carries a token
 * (`authorization: Bearer`; the SSE gateway maps `?token=` to it), verified
 * once per token (see createTokenVerifier) and checked for the scope its
 * method needs; the identity goes to the method cores, which check rooms and
 * authors. Streams count against the user's cap while open. A call without a
 * usable token is UNAUTHENTICATED, one without the scope PERMISSION_DENIED.
 */
export function authPolicy(
  verify: (token: string) => Promise<Identity>,
  limits: UserLimits,
): CallPolicy {
  return {
    async admit(call) {
      const need = needOf(call.method);
      const token = bearerToken(call.header("authorization"));
      if (need === "public") {
        // Login renews the caller's own name when its token is still good.
        if (token !== undefined) {
          const identity = await verify(token).catch(() => undefined);
          if (identity !== undefined) call.values.set(identityKey, identity);
        }
        return;
      }
      if (token === undefined) {
        // EventSource cannot set headers: over SSE the way is the query.
        const how =
          call.protocol === "sse"
            ? `add ?token=<token> to the URL, or send "authorization: Bearer <token>"`
            : `send "authorization: Bearer <token>"`;
        throw new ConnectError(
          `${call.method.name} needs a token: ${how} (a guest gets one from Login, or \`parley login\`)`,
          Code.Unauthenticated,
        );
      }
      const identity = await verify(token);
      if (need !== "token") checkScope(identity, need);
      call.values.set(identityKey, identity);
      if (call.method.methodKind !== "unary") {
        call.values.set(streamSlotKey, limits.openStream(identity.subject));
      }
    },
    finished(call) {
      // The stream's place under the user's cap is given back however it ended.
      (call.value(streamSlotKey) as (() => void) | undefined)?.();
    },
  };
}

/** Where an admitted stream keeps the function that gives its place under the user's cap back. */
const streamSlotKey = Symbol("parley stream slot");
