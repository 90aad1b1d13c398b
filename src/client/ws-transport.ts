import type { DescMessage, DescMethod, MessageShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  createClientMethodSerializers,
  createMethodUrl,
  runStreamingCall,
  runUnaryCall,
} from "@connectrpc/connect/protocol";
import { WS_DEFAULT_RESPONSE_CREDIT } from "../wire/ws-frames.js";
import type { ClientCall } from "./ws-call.js";
import { socketUrl, type WebSocketConstructor, WsConnection } from "./ws-connection.js";

/** Options of the WebSocket transport. */
export interface WebSocketTransportOptions {
  /** The server, for example http://localhost:8080; the socket goes to ws://localhost:8080/ws. */
  baseUrl: string;
  /** globalThis.WebSocket in browsers; `ws`'s WebSocket in Node (the Node entry passes it). */
  WebSocket: WebSocketConstructor;
  /** Interceptors every call passes (the token's, for one). */
  interceptors?: Interceptor[];
  /** Response messages a call takes before it grants the server more (default 16). */
  credit?: number;
  /**
   * Where the WebSocket can ping (Node's `ws`; browsers cannot): ping the
   * server this often, and fail every call with UNAVAILABLE when a pong has
   * not come by the next ping (a half-open socket). Default 15000; 0: no pings.
   */
  pingIntervalMs?: number;
}

/** A connect Transport whose calls share one WebSocket, with close() to end it. */
export interface WebSocketTransport extends Transport {
  /** Close the socket; open calls fail. A later call opens a new one. */
  close(): void;
  /**
   * Open the socket now, before any call (resolves at once when it is open);
   * rejects with UNAVAILABLE when it cannot open. A page tells from this
   * whether WebSockets reach the server at all.
   */
  connect(): Promise<void>;
}

/**
 * A connect-es Transport over one WebSocket (subprotocol parley.v1,
 * docs/protocols.md#websocket): every method of the generated client works
 * on it, Listener, Echo and Chat included, and any number of calls share the
 * socket, each with its own flow control. A lost socket fails each open call
 * with UNAVAILABLE; the next call opens a new socket.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  const connection = new WsConnection(
    socketUrl(options.baseUrl),
    options.WebSocket,
    options.pingIntervalMs ?? 15_000,
  );
  const credit = options.credit ?? WS_DEFAULT_RESPONSE_CREDIT;
  const open = (
    method: { parent: { typeName: string }; name: string },
    timeoutMs: number | undefined,
    header: Headers,
  ) => {
    const headers: Record<string, string> = {};
    header.forEach((value, name) => {
      headers[name] = value;
    });
    return connection.open({
      method: `/${method.parent.typeName}/${method.name}`,
      headers,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      credit,
    });
  };
  return {
    close: () => connection.close(),
    connect: async () => {
      await connection.connect();
    },
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const { serialize, parse } = createClientMethodSerializers(method, true);
      return runUnaryCall({
        interceptors: options.interceptors,
        signal,
        timeoutMs,
        req: requestOf(options.baseUrl, false, method, header, contextValues, input),
        next: async (req) => {
          const call = await open(method, timeoutMs, req.header);
          const stop = cancelOnAbort(call, req.signal);
          try {
            await call.sendMessage(serialize(req.message));
            call.halfClose();
            let message: MessageShape<typeof method.output> | undefined;
            for await (const bytes of call.messages()) {
              if (message !== undefined) {
                throw new ConnectError(
                  "protocol error: a second response to a unary call",
                  Code.Unimplemented,
                );
              }
              message = parse(bytes);
            }
            if (message === undefined) {
              throw new ConnectError(
                "protocol error: a unary call ended without its response",
                Code.Unimplemented,
              );
            }
            return {
              stream: false as const,
              service: method.parent,
              method,
              header: await call.header,
              message,
              trailer: call.trailer,
            };
          } finally {
            stop();
          }
        },
      });
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      const { serialize, parse } = createClientMethodSerializers(method, true);
      return runStreamingCall({
        interceptors: options.interceptors,
        signal,
        timeoutMs,
        req: requestOf(options.baseUrl, true, method, header, contextValues, input),
        next: async (req) => {
          const call = await open(method, timeoutMs, req.header);
          const stop = cancelOnAbort(call, req.signal);
          void pump(call, req.message, serialize);
          let responseHeader: Headers;
          try {
            responseHeader = await call.header;
          } catch (error) {
            stop();
            throw error;
          }
          return {
            stream: true as const,
            service: method.parent,
            method,
            header: responseHeader,
            trailer: call.trailer,
            message: responses(call, parse, stop),
          };
        },
      });
    },
  };
}

/**
 * The request a call's interceptors see, the same for both call shapes:
 * `stream` tells them apart, and `message` is the one request (unary) or the
 * request stream.
 */
function requestOf<M extends DescMethod, S extends boolean, T>(
  baseUrl: string,
  stream: S,
  method: M,
  header: Parameters<Transport["unary"]>[3],
  contextValues: ContextValues | undefined,
  message: T,
) {
  return {
    stream,
    service: method.parent,
    method,
    requestMethod: "POST" as const,
    url: createMethodUrl(baseUrl, method),
    header: new Headers(header),
    contextValues: contextValues ?? createContextValues(),
    message,
  };
}

/** The call's responses, parsed; stops following the signal once done. */
async function* responses<O extends DescMessage>(
  call: ClientCall,
  parse: (bytes: Uint8Array) => MessageShape<O>,
  stop: () => void,
): AsyncGenerator<MessageShape<O>> {
  try {
    for await (const bytes of call.messages()) yield parse(bytes);
  } finally {
    // A caller that stops reading early abandons the call.
    if (!call.ended) call.cancel(new ConnectError("the caller stopped reading", Code.Canceled));
    stop();
  }
}

/** Send the request messages as credit allows, then half-close; an input that fails cancels the call. */
async function pump<I>(
  call: ClientCall,
  input: AsyncIterable<I>,
  serialize: (message: I) => Uint8Array,
): Promise<void> {
  try {
    for await (const message of input) {
      if (call.ended) return;
      await call.sendMessage(serialize(message));
    }
    call.halfClose();
  } catch (error) {
    if (!call.ended) call.cancel(ConnectError.from(error));
  }
}

/** Cancel `call` when `signal` aborts (the caller's signal or the deadline); returns the unhook. */
function cancelOnAbort(call: ClientCall, signal: AbortSignal): () => void {
  const onAbort = () => call.cancel(ConnectError.from(signal.reason, Code.Canceled));
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}
