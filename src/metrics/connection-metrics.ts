import type * as net from "node:net";
import { CellFamily } from "./cells.js";
import { registry } from "./registry.js";

const open = new CellFamily(
  "parley_connections_open",
  "Connections open now, by protocol (http1, http2, websocket: an HTTP/1.1 connection upgraded).",
  "gauge",
).register(registry);
const opened = new CellFamily(
  "parley_connections_opened_total",
  "Connections admitted, by protocol (an upgrade counts once more, as websocket).",
  "counter",
).register(registry);

const OPEN = {
  http1: open.cell({ protocol: "http1" }),
  http2: open.cell({ protocol: "http2" }),
  websocket: open.cell({ protocol: "websocket" }),
};
const OPENED = {
  http1: opened.cell({ protocol: "http1" }),
  http2: opened.cell({ protocol: "http2" }),
  websocket: opened.cell({ protocol: "websocket" }),
};

// One 'close' listener for all sockets of a protocol: a closure per
// connection would stay for the life of every idle connection.
function closedHttp1() {
  OPEN.http1.value--;
}
function closedHttp2() {
  OPEN.http2.value--;
}
function closedWebsocket() {
  OPEN.websocket.value--;
}

/** Count an admitted connection whose protocol is now known, until it closes. */
export function countConnection(socket: net.Socket, isH2: boolean): void {
  const protocol = isH2 ? "http2" : "http1";
  OPEN[protocol].value++;
  OPENED[protocol].value++;
  socket.once("close", isH2 ? closedHttp2 : closedHttp1);
}

/** An HTTP/1.1 connection counted by countConnection now carries a WebSocket. */
export function countUpgrade(socket: net.Socket): void {
  if (!socket.listeners("close").includes(closedHttp1)) return;
  socket.off("close", closedHttp1);
  OPEN.http1.value--;
  OPEN.websocket.value++;
  OPENED.websocket.value++;
  socket.once("close", closedWebsocket);
}
