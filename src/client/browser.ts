/**
 * The Parley client library for browsers and other fetch runtimes (the
 * package's `browser` and default entry): what the Node entry offers, with
 * createParleyClient over connect-web (Connect or gRPC-Web on fetch). It
 * imports nothing of Node's.
 */

export * from "./common.js";
export type { ParleyWebClient, ParleyWebClientOptions, WebProtocol } from "./web.js";
export { createParleyClient } from "./web.js";
