import { spawn } from "node:child_process";

/** How one command of a walkthrough ended, and what it printed. */
export interface StepRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the test pressed Ctrl-C (SIGINT to the command's process group). */
  interrupted: boolean;
}

/** Where a walkthrough's commands run, and what they share. */
export interface Shell {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** A file holding the shell variables earlier commands set (`declare -p`), read by later ones. */
  stateFile: string;
  /** The variables to carry from one command to the next (those the walkthrough assigns). */
  vars: string[];
}

/** What to do with a command that reads its input or runs until Ctrl-C. */
export interface StepOptions {
  /** Typed into its stdin, then end of input (Ctrl-D). Default: end of input at once. */
  input?: string;
  /** For a command that runs until Ctrl-C: press it once stdout satisfies this. */
  interruptWhen?: (stdout: string) => boolean;
  /** Killed (and the run failed) after this long; default 60 s. */
  timeoutMs?: number;
}

/**
 * Run `command` as bash runs a line typed at its prompt: in `shell.cwd`, with
 * the variables earlier commands set, saving the ones it sets for the next.
 * The command gets a process group of its own, so Ctrl-C (SIGINT to the
 * group) and a kill reach every process it starts (npx, buf, curl …).
 */
export function runStep(
  shell: Shell,
  command: string,
  options: StepOptions = {},
): Promise<StepRun> {
  const vars = shell.vars.join(" ");
  const script =
    `[ -f "$STEP_STATE" ] && . "$STEP_STATE"\n` +
    (vars ? `trap 'declare -p ${vars} > "$STEP_STATE" 2>/dev/null' EXIT\n` : "") +
    `${command}\n`;
  const child = spawn("bash", ["-c", script], {
    cwd: shell.cwd,
    env: { ...shell.env, STEP_STATE: shell.stateFile },
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let interrupted = false;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    if (!interrupted && options.interruptWhen?.(stdout)) {
      interrupted = true;
      signalGroup("SIGINT");
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  // A command that exits without reading its input closes the pipe: that is its business, not an error.
  child.stdin.on("error", () => undefined);
  child.stdin.end(options.input ?? "");
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signalGroup("SIGKILL");
      reject(new Error(`still running after ${timeoutMs} ms: ${command}\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      // What the command started in the background (none should) goes with it.
      signalGroup("SIGKILL");
      resolve({ code, signal, stdout, stderr, interrupted });
    });
  });
}
