import type { RequestHandler } from "../one-port.js";

/**
 * Node's HTTP/1.1 response.write() returns false and never calls back when
 * the socket is already destroyed but the response has not yet seen 'close'
 * (OutgoingMessage._writeRaw). connect-node then waits for a 'drain' or
 * 'error' that never comes: the call hangs, and a subscriber whose browser
 * went away at the wrong moment stays a room member for good. So once a
 * response closes, emit 'drain': the pending write settles, and the handler
 * sees its aborted signal and ends. (HTTP/2 responses fail their writes.)
 */
export function withWritesReleasedOnClose(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    // After the other 'close' listeners (connect-node's aborts the call's signal first).
    if (!("stream" in req)) res.once("close", () => setImmediate(() => res.emit("drain")));
    handler(req, res);
  };
}
