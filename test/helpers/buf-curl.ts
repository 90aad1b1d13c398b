import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The buf the dev dependencies install. */
const BUF = fileURLToPath(new URL("../../node_modules/.bin/buf", import.meta.url));

/** How long one buf curl may run before it is killed and its run fails. */
const RUN_TIMEOUT_MS = 20_000;

/**
 * Every method the server answers, as `buf curl --list-methods` prints them
 * (sorted): written out, so that a method served or dropped by mistake fails.
 */
export const SERVED_METHODS = [
  "chat.v1.ChatService/Chat",
  "chat.v1.ChatService/Echo",
  "chat.v1.ChatService/Feed",
  "chat.v1.ChatService/History",
  "chat.v1.ChatService/JoinRoom",
  "chat.v1.ChatService/LeaveRoom",
  "chat.v1.ChatService/ListMembers",
  "chat.v1.ChatService/ListMyRooms",
  "chat.v1.ChatService/ListRooms",
  "chat.v1.ChatService/Listener",
  "chat.v1.ChatService/Login",
  "chat.v1.ChatService/MarkRead",
  "chat.v1.ChatService/OpenConversation",
  "chat.v1.ChatService/Send",
  "chat.v1.ChatService/SetTyping",
  "chat.v1.ChatService/Subscribe",
  "grpc.health.v1.Health/Check",
  "grpc.health.v1.Health/List",
  "grpc.health.v1.Health/Watch",
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/** A finished buf curl. */
export interface BufCurlResult {
  /** Exit code (buf curl: the gRPC code shifted left by 3 when the RPC fails). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A buf curl still running: a stream it prints as it goes. */
export interface RunningBufCurl {
  /** Resolve with every JSON document printed so far, once `done` says so. */
  readUntil(done: (docs: unknown[]) => boolean): Promise<unknown[]>;
  /** Wait for it to end by itself (killed if still running after the run timeout). */
  exited(): Promise<BufCurlResult>;
  /** Kill it (and the native binary under the npm shim) and wait for the exit. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Start `buf curl ...args`, no shell. node_modules/.bin/buf is an npm shim
 * that runs the native binary with spawnSync: killing the shim alone would
 * orphan the binary, so each run gets a process group of its own and is killed
 * as a group. (spawn, not execFile: execFile drops the `detached` option.)
 */
function start(args: string[], stdin: string | undefined): ChildProcess {
  const child = spawn(BUF, ["curl", ...args], { detached: true, stdio: "pipe" });
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (stdin === undefined) child.stdin?.end();
  else child.stdin?.end(stdin);
  return child;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Kill every buf curl these helpers started that is still running (for afterEach). */
export function killAllBufCurl(): void {
  for (const child of running) killGroup(child);
}

/** Run `buf curl ...args` to the end, feeding `stdin` if given. */
export function bufCurl(args: string[], stdin?: string): Promise<BufCurlResult> {
  const child = start(args, stdin);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`buf curl ${args.join(" ")} still running after ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start `buf curl ...args` on a stream that does not end by itself; read it as it prints. */
export function startBufCurl(args: string[], stdin?: string): RunningBufCurl {
  const child = start(args, stdin);
  const closed = new Promise<number | null>((resolve) =>
    child.once("close", (code) => resolve(code)),
  );
  let stdout = "";
  let stderr = "";
  let wake = () => {};
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    wake();
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  let ended = false;
  void closed.then(() => {
    ended = true;
    wake();
  });
  return {
    async readUntil(done) {
      const deadline = setTimeout(() => {
        killGroup(child);
      }, RUN_TIMEOUT_MS);
      try {
        for (;;) {
          const { docs } = parseJsonDocuments(stdout);
          if (done(docs)) return docs;
          if (ended) {
            throw new Error(
              `buf curl ${args.join(" ")} ended (${child.exitCode ?? child.signalCode}) first:\n${stdout}\n${stderr}`,
            );
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        clearTimeout(deadline);
      }
    },
    async exited() {
      const timer = setTimeout(() => killGroup(child), RUN_TIMEOUT_MS);
      const code = await closed;
      clearTimeout(timer);
      return { code, stdout, stderr };
    },
    async kill() {
      killGroup(child);
      await closed;
    },
  };
}

/**
 * Split concatenated JSON documents, as buf curl prints one per response
 * (pretty-printed, one after another). Returns the complete documents and
 * the unfinished text after them.
 */
export function parseJsonDocuments(text: string): { docs: unknown[]; rest: string } {
  const docs: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let end = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) {
        docs.push(JSON.parse(text.slice(start, i + 1)));
        end = i + 1;
      }
    }
  }
  return { docs, rest: text.slice(end) };
}
