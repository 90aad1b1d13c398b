/**
 * Reproduces what grpc-message.ts works around: connect escapes a gRPC
 * status message with encodeURIComponent, grpc-js (1.14) reads it with
 * decodeURI, which leaves the escapes of URI-reserved characters (":", ",",
 * "/", "?" …) in place, so grpc-js users read "room%3A …". The gRPC spec
 * asks only "%" and bytes outside 0x20-0x7E to be escaped, which every
 * decoder reads back.
 *
 * Run: npx tsx src/server/workarounds/repro/grpc-message.ts
 * Not imported by the server.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { specGrpcMessage } from "../grpc-message.js";

const message = 'room: must be 1-64 characters, a-z/0-9 (got "café?")';
const trailer = setTrailerStatus(new Headers(), new ConnectError(message, Code.InvalidArgument));
const sent = trailer.get("grpc-message") ?? "";
// What grpc-js does with the trailer (node_modules/@grpc/grpc-js/build/src/subchannel-call.js).
const read = decodeURI(sent);
console.log(`connect sends:            ${sent}`);
console.log(`grpc-js reads:            ${read}`);
console.log(`re-encoded as the spec:   ${specGrpcMessage(sent)}`);
console.log(`grpc-js reads that as:    ${decodeURI(specGrpcMessage(sent))}`);
console.log(
  read === message
    ? "NOT REPRODUCED: grpc-js reads connect's encoding as sent; withSpecGrpcMessage may no longer be needed."
    : "REPRODUCED: grpc-js users see connect's escapes.",
);
