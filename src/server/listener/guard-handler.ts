import type * as http2 from "node:http2";
import type { Http2StreamTaker, RequestHandler } from "./types.js";

/** Told of an error a handler threw, after the request was answered 500 or reset. */
export type HandlerErrorSink = (error: unknown) => void;

/** The default sink: stderr, as nothing else is known here. */
export const logHandlerError: HandlerErrorSink = (error) => {
  console.error("parley: a request handler threw; the request was answered 500", error);
};

/**
 * The last resort: a handler that throws answers its request 500 (or, when
 * the response had already begun, has its connection ended), and the error
 * goes to `onError`. Without it the exception would reach the event loop and
 * end the process, for every client.
 */
export function guardHandler(handler: RequestHandler, onError: HandlerErrorSink): RequestHandler {
  return (req, res) => {
    try {
      handler(req, res);
    } catch (error) {
      onError(error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, {
        "content-type": "text/plain; charset=utf-8",
        "x-content-type-options": "nosniff",
      });
      res.end("internal error\n");
    }
  };
}

/** guardHandler for the HTTP/2 stream taker: a throw resets the stream (500 if nothing was sent). */
export function guardStreamTaker(
  take: Http2StreamTaker,
  onError: HandlerErrorSink,
): Http2StreamTaker {
  return (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    try {
      return take(stream, headers);
    } catch (error) {
      onError(error);
      if (!stream.destroyed) {
        if (stream.headersSent) stream.destroy();
        else stream.respond({ ":status": 500 }, { endStream: true });
      }
      return true;
    }
  };
}
