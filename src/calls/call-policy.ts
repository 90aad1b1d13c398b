import type { CallInfo } from "./call-info.js";

/**
 * One link of the chain every call passes, on every protocol and path.
 *
 * A policy refuses a call by throwing (a ConnectError: its code and message
 * are the answer) before it calls `next`, or wraps it: `next()` runs the rest
 * of the chain and the call itself, and settles when the call has finished:
 * it resolves when the call ended OK and rejects with the call's error.
 */
export type CallPolicy = (call: CallInfo, next: () => Promise<void>) => Promise<void>;

/**
 * Run `call` through `policies` in order, with `serve` (which answers the
 * call and settles when it has finished) innermost.
 */
export function runPolicies(
  policies: readonly CallPolicy[],
  call: CallInfo,
  serve: () => Promise<void>,
): Promise<void> {
  const step = (i: number): Promise<void> => {
    const policy = policies[i];
    return policy === undefined ? serve() : policy(call, () => step(i + 1));
  };
  return step(0);
}

/**
 * Run the chain for a call on a path that must answer a refusal itself:
 * `serve` runs when every policy let the call through; `refuse` gets the
 * error of a policy that refused it before `serve` ran. Errors of the call
 * itself are already answered by `serve` and are not passed on.
 */
export function admit(
  policies: readonly CallPolicy[],
  call: CallInfo,
  serve: () => Promise<void>,
  refuse: (error: unknown) => void,
): void {
  let served = false;
  runPolicies(policies, call, () => {
    served = true;
    return serve();
  }).catch((error: unknown) => {
    if (!served) refuse(error);
  });
}
