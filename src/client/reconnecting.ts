import { Code, ConnectError } from "@connectrpc/connect";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.js";
import { connectionRefused, isRetryable } from "./retryable.js";

/** Tuning shared by every resuming stream of a client. */
export interface ResumeTuning {
  backoff: BackoffOptions;
  /** No response for this long means the stream is dead (heartbeats come every 15 s). */
  silenceTimeoutMs: number;
  /** Connections in a row that deliver nothing past their first event before the stream gives up. */
  attempts: number;
  /** Whether the client has ever had an answer from the server (shared by its calls). */
  contact: Contact;
  /** Gets a fresh token after a refusal (see ParleyClientCoreOptions.onTokenRefused). */
  onTokenRefused?: ((token: string | undefined) => Promise<unknown>) | undefined;
}

/** Whether any call of a client has reached the server yet. */
export interface Contact {
  reached: boolean;
  /** Fail at once when the first call finds nothing listening (connection refused). */
  failFastWhenUnreachable: boolean;
}

/** What a resuming stream is doing between connections, for a connection indicator. */
export type ReconnectStatus =
  | { state: "connecting"; attempt: number }
  | { state: "retrying"; attempt: number; delayMs: number; error: ConnectError };

/** What one connection tells the loop that keeps reconnecting it. */
export interface Connection {
  /** A response arrived: the stream is alive (the silence watchdog starts again). */
  alive(): void;
  /** The stream's first event (ready) came. */
  started(): void;
  /** Something past the first event came through: this connection worked. */
  progressed(): void;
}

/**
 * One connection's events. It returns a reason to reconnect at once (a gap
 * it found), or nothing when the server ended the stream; it throws what
 * the call threw.
 */
export type Connect<E> = (
  signal: AbortSignal,
  connection: Connection,
) => AsyncGenerator<E, ConnectError | undefined>;

/** How reconnecting treats one stream. */
export interface ReconnectOptions {
  /** Ends the stream: the iterable returns without error. */
  signal?: AbortSignal | undefined;
  /** Reported on every connection attempt and retry. */
  onStatus?: ((status: ReconnectStatus) => void) | undefined;
  /** The error to throw instead of reconnecting, for a failure no reconnect can mend (a refused resume). */
  refusal?: ((failure: ConnectError) => Error | undefined) | undefined;
  /** Asked about a failure that is not transient; true reconnects anyway. */
  retryAlso?: ((failure: ConnectError) => boolean) | undefined;
}

/**
 * Yield the events of `connect` and keep connecting: on a transient failure
 * (see isRetryable), a slow-consumer cut-off after the stream started, a
 * silent stream, or a reason `connect` returned, connect again with backoff.
 * `connect` carries its own resume point from one connection to the next.
 *
 * A failure `refusal` turns into an error is thrown as that error; one that
 * is not transient, or `attempts` connections in a row that delivered
 * nothing past their first event, throw the last error as ConnectError. A
 * token refused once is renewed through onTokenRefused. Aborting `signal`
 * ends the iteration quietly.
 */
export async function* reconnecting<E>(
  connect: Connect<E>,
  options: ReconnectOptions,
  tuning: ResumeTuning,
): AsyncGenerator<E> {
  const stop = options.signal;
  // One fresh login per refusal: a token refused again right after it surfaces.
  let reloggedIn = false;
  for (let attempt = 0; !stop?.aborted; ) {
    options.onStatus?.({ state: "connecting", attempt });
    const call = new AbortController();
    const abortCall = () => call.abort(stop?.reason);
    stop?.addEventListener("abort", abortCall, { once: true });
    // The watchdog's own reason, so that its abort is told apart from a
    // DEADLINE_EXCEEDED the server sent.
    const silence = new ConnectError(
      `no event for ${tuning.silenceTimeoutMs} ms`,
      Code.DeadlineExceeded,
    );
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const resetWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => call.abort(silence), tuning.silenceTimeoutMs);
    };
    let started = false;
    let progressed = false;
    const connection: Connection = {
      alive() {
        resetWatchdog();
        tuning.contact.reached = true;
      },
      started() {
        started = true;
      },
      progressed() {
        progressed = true;
      },
    };
    let failure: ConnectError;
    let retry: boolean;
    let events: AsyncGenerator<E, ConnectError | undefined> | undefined;
    try {
      resetWatchdog();
      events = connect(call.signal, connection);
      let next = await events.next();
      while (next.done !== true) {
        yield next.value;
        next = await events.next();
      }
      // A reason to resume, or the server closed the stream without error
      // (it never does while it runs): reconnecting is exactly what is needed.
      failure = next.value ?? new ConnectError("the server ended the stream", Code.Unavailable);
      retry = true;
    } catch (error) {
      if (stop?.aborted) return;
      if (call.signal.reason === silence) {
        failure = silence;
        retry = true;
      } else {
        failure = ConnectError.from(error);
        // A slow-consumer cut-off comes after ready (the server sends ready
        // first); before it, RESOURCE_EXHAUSTED is a limit, not a cut-off.
        retry =
          isRetryable(failure) ||
          (started && failure.code === Code.ResourceExhausted) ||
          (options.retryAlso?.(failure) ?? false);
      }
    } finally {
      clearTimeout(watchdog);
      stop?.removeEventListener("abort", abortCall);
      call.abort();
      // Runs the connection's own finally blocks when the consumer stopped early.
      await events?.return(undefined);
    }
    const refused = options.refusal?.(failure);
    if (refused) throw refused;
    if (started) reloggedIn = false;
    if (failure.code === Code.Unauthenticated && tuning.onTokenRefused && !reloggedIn) {
      reloggedIn = true;
      try {
        await tuning.onTokenRefused(undefined);
      } catch (error) {
        if (stop?.aborted) return;
        throw ConnectError.from(error);
      }
      continue;
    }
    if (!retry) throw failure;
    // `attempt` counts connections in a row that got nothing past ready:
    // one that delivered something starts the count (and the backoff) again.
    if (progressed) attempt = 0;
    else if (attempt + 1 >= tuning.attempts) throw failure;
    if (!tuning.contact.reached && tuning.contact.failFastWhenUnreachable) {
      if (connectionRefused(failure)) throw failure;
    }
    const delayMs = backoffDelay(attempt, tuning.backoff);
    options.onStatus?.({ state: "retrying", attempt, delayMs, error: failure });
    if (!progressed) attempt++;
    try {
      await sleep(delayMs, stop);
    } catch {
      return;
    }
  }
}
