import { createContextKey, type Interceptor } from "@connectrpc/connect";

/** Where the edge leaves a call policy's refusal for connect-node to answer. */
export const refusalKey = createContextKey<unknown>(undefined, { description: "parley refusal" });

/**
 * Answers a refused call with the policy's error, in the call's own protocol
 * and encoding: connect-node turns what an interceptor throws into its
 * answer. Every handler the router holds (the chat service, health,
 * reflection) passes through it.
 */
export const refuseRefusedCalls: Interceptor = (next) => async (req) => {
  const refusal = req.contextValues.get(refusalKey);
  if (refusal !== undefined) throw refusal;
  return await next(req);
};
