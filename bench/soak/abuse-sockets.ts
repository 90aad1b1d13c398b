import * as net from "node:net";
import { type Abuse, pause, stopper, Tally } from "./tally.js";

/**
 * Keep `count` raw sockets open, each fed by `feed` until the server closes
 * it; a closed one is replaced. Counts opens and the server's closes.
 */
function heldSockets(
  name: string,
  port: number,
  count: number,
  feed: (socket: net.Socket, signal: AbortSignal) => Promise<void>,
): Abuse {
  const tally = new Tally(name);
  const stop = stopper();
  const stopped = new Promise<void>((resolve) =>
    stop.signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  const open = new Set<net.Socket>();
  const hold = async () => {
    while (!stop.signal.aborted) {
      const socket = net.connect(port, "127.0.0.1");
      open.add(socket);
      tally.add("opened");
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.on("error", () => undefined);
      socket.resume();
      const fed = stopper();
      void feed(socket, fed.signal);
      await Promise.race([closed, stopped]);
      fed.abort();
      open.delete(socket);
      if (stop.signal.aborted) {
        socket.destroy();
        return;
      }
      tally.add("closed by server");
    }
  };
  const holders = Array.from({ length: count }, () => hold());
  return {
    tally,
    async stop() {
      stop.abort();
      for (const s of open) s.destroy();
      await Promise.all(holders);
    },
  };
}

/** Slowloris: an HTTP/1.1 request line, then one header byte every 5 s. */
export function slowloris(port: number, count: number): Abuse {
  return heldSockets("slowloris (a header byte every 5 s)", port, count, async (socket, signal) => {
    socket.write("GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: ");
    while (!signal.aborted && !socket.destroyed) {
      await pause(5000, signal);
      if (!socket.destroyed) socket.write("a");
    }
  });
}

/** Half an HTTP/2 preface, then nothing. */
export function halfPreface(port: number, count: number): Abuse {
  return heldSockets("half HTTP/2 preface", port, count, async (socket) => {
    socket.write("PRI * HTTP/2.0\r\n");
  });
}

/** An HTTP/1.1 POST announcing 1 MiB that sends one byte every 5 s. */
export function endlessHttp1Body(port: number, count: number): Abuse {
  return heldSockets(
    "never-ending HTTP/1.1 body (a byte every 5 s)",
    port,
    count,
    async (socket, signal) => {
      socket.write(
        "POST /chat.v1.ChatService/Send HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{",
      );
      while (!signal.aborted && !socket.destroyed) {
        await pause(5000, signal);
        if (!socket.destroyed) socket.write(" ");
      }
    },
  );
}

/** Connect and reset (RST) within a few ms, while the server still sniffs the preface; `perSecond` times a second. */
export function resetsMidSniff(port: number, perSecond: number): Abuse {
  const tally = new Tally("TCP reset mid-sniff");
  const stop = stopper();
  const run = (async () => {
    while (!stop.signal.aborted) {
      for (let i = 0; i < perSecond / 10; i++) {
        const socket = net.connect(port, "127.0.0.1", () => {
          socket.write(i % 2 === 0 ? "PRI * HTTP/2" : "GET / HT");
          socket.resetAndDestroy();
          tally.add("reset");
        });
        socket.on("error", () => tally.add("refused"));
      }
      await pause(100, stop.signal);
    }
  })();
  return {
    tally,
    async stop() {
      stop.abort();
      await run;
    },
  };
}
