import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { connectRaw } from "../../helpers/raw-socket.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/**
 * The server as `npm start | head -1` runs it: its first stdout line is read,
 * then the reader goes away. Resolves with the URL it printed.
 */
async function startThenCloseStdout(args: string[] = []) {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/main.ts",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--store",
      "memory:",
      ...args,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] },
  );
  children.push(child);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.once("exit", () => reject(new Error(`exited before listening: ${out}`)));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      // Lines before the listening line (warnings such as --auth off's) are passed over.
      const m = /"url":"(http[^"]+)"/.exec(out);
      if (m?.[1]) {
        child.stdout?.destroy();
        resolve(m[1]);
      } else if (out.length > 64 * 1024) reject(new Error(`no URL in ${out}`));
    });
  });
  return { child, url, exited };
}

it("exits 0 on SIGTERM after its stdout reader has gone", async () => {
  const { child, exited } = await startThenCloseStdout();
  // No connection is open, so the shutdown is over before the write of its
  // log lines fails: pino's exit flush then meets the broken pipe.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
});

it("exits 1 at a second SIGTERM while the first one's shutdown still waits", async () => {
  const { child, url, exited } = await startThenCloseStdout(["--shutdown-ms", "60000"]);
  // A request whose body never comes keeps its connection busy through the drain.
  const socket = await connectRaw(Number(new URL(url).port));
  socket.on("error", () => {});
  socket.write(
    "POST /chat.v1.ChatService/ListRooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill("SIGTERM");
  const first = await Promise.race([
    exited,
    new Promise((resolve) => setTimeout(resolve, 1000, "running")),
  ]);
  expect(first).toBe("running");
  child.kill("SIGTERM");
  expect(await exited).toBe(1);
  socket.destroy();
});
