import { constants } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";

const RESET_CODES: Record<number, [string, Code]> = {
  [constants.NGHTTP2_CANCEL]: ["CANCEL", Code.Canceled],
  [constants.NGHTTP2_REFUSED_STREAM]: ["REFUSED_STREAM", Code.Unavailable],
  [constants.NGHTTP2_ENHANCE_YOUR_CALM]: ["ENHANCE_YOUR_CALM", Code.ResourceExhausted],
};

/**
 * Why a call's stream or connection closed before its response was complete:
 * for an HTTP/2 reset, in the words connect-node uses; otherwise CANCELED.
 */
export function closeReason(rstCode: number | undefined): ConnectError {
  const known = rstCode === undefined ? undefined : RESET_CODES[rstCode];
  if (known === undefined) return new ConnectError("the client closed the call", Code.Canceled);
  return new ConnectError(
    `http/2 stream closed with error code ${known[0]} (0x${(rstCode as number).toString(16)})`,
    known[1],
  );
}
