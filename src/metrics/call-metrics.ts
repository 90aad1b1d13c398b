import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { CallInfo, CallProtocol } from "../calls/call-info.js";
import type { CallPolicy } from "../calls/call-policy.js";
import { methodLabel } from "./call-labels.js";
import { type Cell, CellFamily, type HistogramCell, HistogramFamily } from "./cells.js";
import { refusals } from "./refusal-metrics.js";
import { LATENCY_BUCKETS, registry } from "./registry.js";

const started = new CellFamily(
  "parley_calls_started_total",
  "Calls that reached the call policy chain, by method and protocol.",
  "counter",
).register(registry);
const finished = new CellFamily(
  "parley_calls_finished_total",
  "Calls that ended, by method, protocol and status code (ok, canceled, invalid_argument ...).",
  "counter",
).register(registry);
const duration = new HistogramFamily(
  "parley_call_duration_seconds",
  "Time from a call's arrival to its end, by method and protocol (for streams, how long they stayed open).",
  LATENCY_BUCKETS,
).register(registry);
const streamsOpen = new CellFamily(
  "parley_streams_open",
  "Streaming calls (Subscribe, Chat, Listener and the like) open now, by method.",
  "gauge",
).register(registry);

/** A (method, protocol) pair's cells, resolved at its first call. */
interface CallCells {
  readonly started: Cell;
  readonly duration: HistogramCell;
  /** Streaming methods only. */
  readonly open: Cell | undefined;
  /** By code, each made at its first use. */
  readonly finished: Map<Code | "ok", Cell>;
  readonly method: string;
  readonly protocol: CallProtocol;
}

const byMethod = new Map<DescMethod, Map<CallProtocol, CallCells>>();

function cellsOf(call: CallInfo): CallCells {
  let byProtocol = byMethod.get(call.method);
  if (byProtocol === undefined) {
    byProtocol = new Map();
    byMethod.set(call.method, byProtocol);
  }
  let cells = byProtocol.get(call.protocol);
  if (cells === undefined) {
    const method = methodLabel(call.method);
    const { protocol } = call;
    cells = {
      started: started.cell({ method, protocol }),
      duration: duration.cell({ method, protocol }),
      open: call.method.methodKind === "unary" ? undefined : streamsOpen.cell({ method }),
      finished: new Map(),
      method,
      protocol,
    };
    byProtocol.set(call.protocol, cells);
  }
  return cells;
}

function finish(call: CallInfo, cells: CallCells, code: Code | "ok"): void {
  cells.duration.observe((performance.now() - call.startedAt) / 1000);
  if (cells.open !== undefined) cells.open.value--;
  let cell = cells.finished.get(code);
  if (cell === undefined) {
    const label = code === "ok" ? "ok" : codeToString(code);
    cell = finished.cell({ method: cells.method, protocol: cells.protocol, code: label });
    cells.finished.set(code, cell);
  }
  cell.value++;
  if (code === Code.Unauthenticated) refusals.unauthenticated.value++;
  else if (code === Code.PermissionDenied) refusals.permissionDenied.value++;
}

/**
 * The call metrics, as the outermost link of the call policy chain: every
 * call on every protocol and path is counted when it arrives and when it
 * ends (with its code and duration), refusals by later links (auth, limits)
 * included. A call refused UNAUTHENTICATED or PERMISSION_DENIED also counts
 * as an auth refusal (parley_refusals_total).
 */
export function callMetrics(): CallPolicy {
  return {
    admit(call) {
      const cells = cellsOf(call);
      cells.started.value++;
      if (cells.open !== undefined) cells.open.value++;
    },
    finished(call, reason) {
      finish(call, cellsOf(call), reason === undefined ? "ok" : ConnectError.from(reason).code);
    },
  };
}
