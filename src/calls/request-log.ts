import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "../logger.js";
import type { CallInfo } from "./call-info.js";
import type { CallPolicy } from "./call-policy.js";

/** The fields of a call's log line. */
function describe(call: CallInfo, code: string) {
  return {
    method: `${call.method.parent.typeName}/${call.method.name}`,
    protocol: call.protocol,
    encoding: call.encoding,
    // The log key stays "path", as log readers know it; the field is the adapter.
    path: call.adapter,
    peer: call.peer,
    code,
    durationMs: Math.round((performance.now() - call.startedAt) * 100) / 100,
    requestId: call.requestId,
    ...(call.trace === undefined ? {} : { traceId: call.trace.traceId, spanId: call.trace.spanId }),
  };
}

/**
 * The request log: one line per finished call, with its method, protocol,
 * path, code, duration and request id, and the trace and span ids when the
 * client sent a traceparent. Successes log at debug, and so does
 * a call the client canceled (it went away or stopped reading: the normal
 * end of a subscription, nothing failed); other failures at info (a
 * client's bad request is routine), and an INTERNAL error at error with the
 * real cause that the client was not told.
 */
export function requestLog(logger: Logger): CallPolicy {
  return {
    finished(call, reason) {
      if (reason === undefined) {
        // A level check first: at the default level this line costs nothing per call.
        if (logger.isLevelEnabled("debug")) logger.debug(describe(call, "ok"), "call");
        return;
      }
      const error = ConnectError.from(reason);
      const line = { ...describe(call, codeToString(error.code)), message: error.rawMessage };
      if (error.code === Code.Internal && error.cause !== undefined) {
        logger.error({ ...line, err: error.cause }, "call failed");
      } else if (error.code === Code.Canceled) {
        if (logger.isLevelEnabled("debug")) logger.debug(line, "call canceled");
      } else {
        logger.info(line, "call failed");
      }
    },
  };
}
