import * as http2 from "node:http2";

/**
 * A session closing after GOAWAY waits for all its streams. A stream whose
 * response is complete while its request side was never read to the end (for
 * example a request refused for its size) would hold the session open until
 * the deadline: Node ends a stream only when both sides have ended, and
 * stream.close(NO_ERROR), which RFC 9113 section 8.1 describes for this case,
 * still waits for the unread side. So once draining, such streams are
 * destroyed; their clients already have the whole response.
 */
export function trackAnsweredHttp2Streams() {
  const open = new Set<http2.ServerHttp2Stream>();
  let draining = false;
  const closeIfAnswered = (stream: http2.ServerHttp2Stream) => {
    if (stream.writableFinished && !stream.readableEnded) {
      // RST_STREAM(NO_ERROR) first: the response is whole, and a bare
      // destroy() would reset with CANCEL, which a client may read as its
      // call being cancelled if it has not yet taken the last message.
      stream.close(http2.constants.NGHTTP2_NO_ERROR);
      stream.destroy();
    }
  };
  // One function for every stream (a closure per stream would stay for the
  // life of each idle Subscribe stream), and 'finish' is watched only once
  // draining begins.
  function forget(this: http2.ServerHttp2Stream) {
    open.delete(this);
  }
  function answered(this: http2.ServerHttp2Stream) {
    closeIfAnswered(this);
  }
  return {
    add(stream: http2.ServerHttp2Stream) {
      open.add(stream);
      stream.on("close", forget);
    },
    closeAnswered() {
      if (draining) return;
      draining = true;
      for (const stream of open) {
        closeIfAnswered(stream);
        if (!stream.destroyed) stream.once("finish", answered);
      }
    },
  };
}
