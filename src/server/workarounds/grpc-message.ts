import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { RequestHandler } from "../one-port.js";

/**
 * Percent-encode a status message as the gRPC spec asks: only "%" and bytes
 * outside printable ASCII (0x20-0x7E) are escaped, everything else is sent
 * as is.
 */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A grpc-message as connect-node encodes it (encodeURIComponent), re-encoded as the spec asks. */
export function specGrpcMessage(value: string): string {
  try {
    return encodeGrpcMessage(decodeURIComponent(value));
  } catch {
    return value;
  }
}

/**
 * connect-node escapes every URI-reserved character of grpc-message
 * (encodeURIComponent), while grpc-js decodes with decodeURI, which leaves
 * "%3A", "%2C" and the like in place: its users would read
 * "room%3A must be ...". Re-encoding the trailer the way the spec describes
 * reads correctly with every decoder. Only gRPC over HTTP/2 sends the message
 * in an HTTP trailer; gRPC-Web and Connect are untouched.
 */
export function withSpecGrpcMessage(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    const contentType = req.headers["content-type"] ?? "";
    if (
      contentType.startsWith("application/grpc") &&
      !contentType.startsWith("application/grpc-web")
    ) {
      const response = res as http.ServerResponse | http2.Http2ServerResponse;
      const addTrailers = response.addTrailers.bind(response);
      response.addTrailers = (trailers: http.OutgoingHttpHeaders) => {
        const message = trailers["grpc-message"];
        addTrailers(
          message === undefined
            ? trailers
            : {
                ...trailers,
                "grpc-message": typeof message === "string" ? specGrpcMessage(message) : message,
              },
        );
      };
    }
    handler(req, res);
  };
}
