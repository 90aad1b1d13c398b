import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ChatService,
  type LoginRequest,
  type LoginResponse,
  LoginResponseSchema,
} from "../../gen/chat/v1/chat_pb.js";
import type { UnaryCore } from "../calls/method-core.js";
import type { GuestIssuer } from "../identity/guest-issuer.js";
import { identityOf } from "../identity/identity.js";

/**
 * The Login method: a guest token for a display name, when the server hands
 * them out (`--auth guest`); otherwise FAILED_PRECONDITION saying where
 * tokens come from.
 */
export function loginCore(
  guests: GuestIssuer | undefined,
  mode: string,
): UnaryCore<LoginRequest, LoginResponse> {
  return {
    kind: "unary",
    method: ChatService.method.login,
    async run(req, scope) {
      if (guests === undefined) {
        throw new ConnectError(
          mode === "jwt"
            ? "Login is off: this server takes tokens from its operator's identity system (--auth jwt)"
            : "Login is off: this server checks no tokens (--auth off)",
          Code.FailedPrecondition,
        );
      }
      const issued = await guests.login(req.name, req.guestKey, identityOf(scope.call)?.subject);
      return create(LoginResponseSchema, {
        token: issued.token,
        subject: issued.subject,
        scopes: issued.scopes,
        expiresAt: timestampFromMs(issued.expiresAtMs),
        guestKey: issued.guestKey,
      });
    },
  };
}
