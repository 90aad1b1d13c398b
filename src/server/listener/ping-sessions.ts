import type * as http2 from "node:http2";

/**
 * Ping every session in `sessions` each `intervalMs`; one that has not
 * answered the previous ping by the next is dead (the peer vanished without
 * closing) and is destroyed, which ends its streams. Returns the timer
 * (unref'd) for clearInterval.
 */
export function pingSessions(
  sessions: Set<http2.ServerHttp2Session>,
  intervalMs: number,
): NodeJS.Timeout {
  const unanswered = new WeakSet<http2.ServerHttp2Session>();
  const timer = setInterval(() => {
    for (const session of sessions) {
      // A session being torn down is still in the set until its 'close'; ping() would throw.
      if (session.destroyed || session.closed) continue;
      if (unanswered.has(session)) {
        session.destroy(new Error(`no answer to an HTTP/2 ping within ${intervalMs} ms`));
        continue;
      }
      unanswered.add(session);
      const sent = session.ping((error) => {
        if (!error) unanswered.delete(session);
      });
      if (!sent) unanswered.delete(session);
    }
  }, intervalMs);
  timer.unref();
  return timer;
}
