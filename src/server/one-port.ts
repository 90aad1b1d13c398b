/**
 * The one-port listener lives in ./listener/ (dispatch and connection
 * lifecycle in separate files); these names stay importable from here.
 */
export {
  type Http2StreamTaker,
  type ListenOptions,
  listenOnePort,
  type OnePortServer,
  type RequestHandler,
} from "./listener/index.js";
