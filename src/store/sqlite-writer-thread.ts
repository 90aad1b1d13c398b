// The writer thread of SqliteLog: owns the SQLite file's write connection
// and answers each batch of writes with their outcomes, in order.
import { parentPort, workerData } from "node:worker_threads";
import { SqliteWriter, type WriteOp } from "./sqlite-writer.js";

/** What SqliteLog starts the thread with. */
export interface WriterThreadData {
  path: string;
  retention: number;
}

/** Messages from SqliteLog: a batch of writes, or the order to close. */
export type ToWriter = { ops: WriteOp[] } | { close: true };

const port = parentPort;
if (port === null) throw new Error("sqlite-writer-thread runs only as a worker thread");
const { path, retention } = workerData as WriterThreadData;
const writer = new SqliteWriter(path, retention);
port.on("message", (message: ToWriter) => {
  if ("close" in message) {
    writer.close();
    port.close();
    return;
  }
  port.postMessage(writer.apply(message.ops));
});
