import type { ReplySink } from "./method-core.js";
import type { CoreReply } from "./reply.js";

/**
 * A push-mode core's responses as an async iterable, for consumers that pull
 * (connect-node's streaming handlers). The sink reports itself full while a
 * response waits, so a core that honours backpressure produces the next one
 * only once the consumer has taken what it has; the iterable throws the error
 * the core ended with. When the iterable is done, however it ends, `onStop`
 * runs (it aborts the core's signal, which stops a consumer that quit early
 * and a request side still being read).
 */
export async function* pullReplies<O>(
  start: (sink: ReplySink<O>) => void,
  onStop: () => void,
): AsyncGenerator<CoreReply<O>> {
  const waiting: CoreReply<O>[] = [];
  let ending: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let taken: (() => void) | undefined;
  const release = () => {
    const resolve = taken;
    taken = undefined;
    resolve?.();
  };
  start({
    send(response) {
      if (ending !== undefined) return true;
      waiting.push(response);
      wake?.();
      return false;
    },
    drained() {
      if (waiting.length === 0 || ending !== undefined) return Promise.resolve();
      return new Promise((resolve) => {
        taken = resolve;
      });
    },
    end(error) {
      if (ending !== undefined) return;
      ending = { error };
      wake?.();
      release();
    },
  });
  try {
    for (;;) {
      const response = waiting.shift();
      if (response !== undefined) {
        yield response;
        if (waiting.length === 0) release();
        continue;
      }
      if (ending !== undefined) {
        if (ending.error !== undefined) throw ending.error;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    // Also after a normal end: a bidi core's request side may still be reading.
    onStop();
    release();
  }
}
