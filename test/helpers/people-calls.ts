import { Code, ConnectError } from "@connectrpc/connect";
import { hsToken } from "./tokens.js";

/** Call options carrying an HS256 token for `sub`, signed with `secret`. */
export async function tokenFor(secret: string, sub: string) {
  return { headers: { authorization: `Bearer ${await hsToken(secret, { sub })}` } };
}

/** The error a call fails with, as code name and message; throws when the call succeeds. */
export async function refusal(call: Promise<unknown>): Promise<[string, string]> {
  try {
    await call;
  } catch (error) {
    const e = ConnectError.from(error);
    return [Code[e.code], e.rawMessage];
  }
  throw new Error("expected the call to fail");
}
