import type { Duplex } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { endStreamToJson } from "@connectrpc/connect/protocol-connect";
import type { WebSocket } from "ws";
import type { CallInfo } from "../../calls/call-info.js";
import { admit, type CallPolicy } from "../../calls/call-policy.js";
import { responseIds } from "../../calls/response-ids.js";
import { refusals } from "../../metrics/refusal-metrics.js";
import {
  decodeWsCredit,
  decodeWsFrame,
  encodeWsJsonFrame,
  WsCloseCode,
  WsFrameType,
} from "../../wire/ws-frames.js";
import { unknownRpcMessage } from "../connect-path/plain-answers.js";
import { callInfoOf } from "../edge/call-info.js";
import { type CallLink, WsCall } from "./ws-call.js";
import { readOpen } from "./ws-open.js";
import type { WsRoute } from "./ws-route.js";
import { serveCall } from "./ws-serve.js";
import { type TurnCorked, uncorkWhenTurnEnds } from "./ws-turn-cork.js";

/** What every socket's session shares. */
export interface SessionContext {
  readonly routes: ReadonlyMap<string, WsRoute>;
  /** The services the routes belong to, to name them when a call names none of them. */
  readonly services: readonly DescService[];
  readonly policies: readonly CallPolicy[];
  readonly maxTimeoutMs: number;
  /** Open calls one socket may have (--ws-max-calls). */
  readonly maxCalls: number;
  /** Bytes one socket may have waiting to be sent (--ws-max-buffer-bytes). */
  readonly maxBufferBytes: number;
}

/**
 * One WebSocket: its calls by id, and the frames that drive them. Frames
 * that break the protocol close the socket (1002, 1003); a bad call gets its
 * own END and the socket goes on.
 */
export class WsSession implements CallLink, TurnCorked {
  private readonly calls = new Map<number, WsCall>();
  private lastId = 0;
  private closing = false;
  /** Frames written in this turn wait in the socket, to leave in one write when it ends. */
  private corked = false;
  /** Set by each ping, cleared by the pong: a socket still unanswered at the next ping is dead. */
  awaitingPong = false;

  constructor(
    readonly socket: WebSocket,
    /** The connection under `socket`, as the upgrade handed it over. */
    private readonly connection: Duplex,
    private readonly context: SessionContext,
    private readonly peer: string,
  ) {
    socket.on("message", (data: Buffer, isBinary: boolean) => this.frame(data, isBinary));
    socket.on("pong", () => {
      this.awaitingPong = false;
    });
    socket.on("close", () =>
      this.dropAll(new ConnectError("the client closed the WebSocket", Code.Canceled)),
    );
    // A broken connection also reaches 'close'.
    socket.on("error", () => undefined);
  }

  /** Open calls on this socket. */
  get openCalls(): number {
    return this.calls.size;
  }

  write(frame: Uint8Array): void {
    if (this.closing) return;
    // Every frame of this turn (a delivery to each call on the socket, the
    // answers to one read's requests) leaves in one write, not one each: as
    // the direct gRPC path writes a chunk's answers at once. The `ws` library
    // still frames each message.
    if (!this.corked) {
      this.corked = true;
      this.connection.cork();
      uncorkWhenTurnEnds(this);
    }
    this.socket.send(frame);
    if (this.socket.bufferedAmount > this.context.maxBufferBytes) {
      this.fail(
        WsCloseCode.policyViolation,
        `socket buffered over --ws-max-buffer-bytes (${this.context.maxBufferBytes}); read faster`,
      );
      // A peer that does not read will not answer the close either.
      setTimeout(() => this.socket.terminate(), 1000).unref();
    }
  }

  uncorkTurn(): void {
    this.corked = false;
    this.connection.uncork();
  }

  forget(id: number): void {
    this.calls.delete(id);
  }

  /** Server shutdown: every call ends with `reason` (UNAVAILABLE), then the socket closes with 1001. */
  shutdown(reason: unknown): void {
    for (const call of [...this.calls.values()]) call.end(reason);
    this.closing = true;
    this.socket.close(WsCloseCode.goingAway, "server is shutting down; resume from your last seq");
  }

  /** Close the socket with `code` and `reason`; its calls end without an END. */
  fail(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.dropAll(new ConnectError(`WebSocket closed by the server: ${reason}`, Code.Canceled));
    this.socket.close(code, reason);
  }

  private dropAll(reason: ConnectError): void {
    for (const call of [...this.calls.values()]) call.drop(reason);
  }

  private frame(data: Buffer, isBinary: boolean): void {
    if (this.closing) return;
    if (!isBinary) {
      this.fail(WsCloseCode.unsupportedData, "text frame: parley.v1 frames are binary");
      return;
    }
    const frame = decodeWsFrame(data);
    if (frame === undefined) {
      this.fail(WsCloseCode.protocolError, "frame shorter than its 5-byte header");
      return;
    }
    const { type, callId: id, payload } = frame;
    if (type === WsFrameType.open) {
      this.open(id, payload);
      return;
    }
    if (type < WsFrameType.message || type > WsFrameType.credit) {
      this.fail(WsCloseCode.protocolError, `unknown frame type 0x${type.toString(16)}`);
      return;
    }
    const call = this.calls.get(id);
    if (call === undefined) {
      // An id opened before and ended since: frames the client sent before it saw the END.
      if (id !== 0 && id <= this.lastId) return;
      this.fail(WsCloseCode.protocolError, `frame for call ${id}, which was never opened`);
      return;
    }
    switch (type) {
      case WsFrameType.message:
        call.message(payload);
        return;
      case WsFrameType.halfClose:
        call.halfClose();
        return;
      case WsFrameType.cancel:
        call.drop(new ConnectError("the client cancelled the call", Code.Canceled));
        return;
      case WsFrameType.credit: {
        const count = decodeWsCredit(payload);
        if (count === undefined) {
          this.fail(WsCloseCode.protocolError, `CREDIT frame of call ${id} without a 4-byte count`);
          return;
        }
        call.credit(count);
      }
    }
  }

  private open(id: number, payload: Uint8Array): void {
    if (id === 0 || id <= this.lastId) {
      this.fail(
        WsCloseCode.protocolError,
        id === 0
          ? "OPEN of call 0: ids start at 1"
          : `OPEN of call ${id}: ids must be above every id opened before (last ${this.lastId})`,
      );
      return;
    }
    this.lastId = id;
    const refuse = (error: ConnectError) =>
      this.write(
        encodeWsJsonFrame(WsFrameType.end, id, endStreamToJson(new Headers(), error, undefined)),
      );
    if (this.calls.size >= this.context.maxCalls) {
      refusals.wsMaxCalls.value++;
      refuse(
        new ConnectError(
          `too many calls on this WebSocket (limit ${this.context.maxCalls}, --ws-max-calls); open another socket or end some`,
          Code.ResourceExhausted,
        ),
      );
      return;
    }
    let open: ReturnType<typeof readOpen>;
    try {
      open = readOpen(id, payload, this.context.maxTimeoutMs);
    } catch (error) {
      refuse(error as ConnectError);
      return;
    }
    const route = this.context.routes.get(open.method);
    if (route === undefined) {
      // In the connect path's words (its 404 for an unknown RPC path).
      const message =
        unknownRpcMessage(open.method, "POST", this.context.services) ??
        `no such method: ${open.method}`;
      refuse(new ConnectError(message, Code.Unimplemented));
      return;
    }
    const held: { headers: Record<string, string> | undefined } = { headers: open.headers };
    const info: CallInfo = callInfoOf({
      method: route.core.method,
      protocol: "websocket",
      encoding: "proto",
      adapter: "websocket",
      peer: this.peer,
      header: (name) => held.headers?.[name],
      timeoutMs: open.timeoutMs,
    });
    const call = new WsCall(id, this, route.output, open.credit, responseIds(info));
    this.calls.set(id, call);
    if (open.timeoutMs !== undefined) call.setDeadline(open.timeoutMs);
    admit(
      this.context.policies,
      info,
      () => {
        // Cancelled (or the socket gone) while the policies decided: nothing to start.
        if (!call.signal.aborted) {
          try {
            serveCall(route, call, { call: info, signal: call.signal });
          } catch (error) {
            call.end(error);
          }
        }
        // An open stream keeps no headers (as on the direct gRPC path).
        held.headers = undefined;
        return call.done;
      },
      (refusal) => call.end(refusal),
    );
  }
}
