import * as readline from "node:readline";

/**
 * The lines a person types (with a prompt on a terminal) or a pipe carries,
 * as an async iterable that ends at end of input.
 */
export function inputLines(prompt: string): {
  lines: AsyncIterable<string>;
  rl: readline.Interface;
} {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl = readline.createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  if (interactive) {
    rl.setPrompt(prompt);
    rl.prompt();
  }
  // Start buffering now: readline emits lines (and 'close') as soon as stdin
  // delivers them, and an iterator created later, when a stream first asks
  // for input, would have missed them and wait forever.
  const buffered = rl[Symbol.asyncIterator]();
  async function* lines(): AsyncGenerator<string> {
    for (;;) {
      const next = await buffered.next();
      if (next.done) return;
      yield next.value;
      if (interactive) rl.prompt();
    }
  }
  return { lines: lines(), rl };
}

/** Print a line (on stdout, or `to`) above an interactive prompt without breaking what is being typed. */
export function printAbovePrompt(
  rl: readline.Interface,
  text: string,
  to: NodeJS.WriteStream = process.stdout,
): void {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    to.write(`${text}\n`);
    return;
  }
  readline.clearLine(process.stdout, 0);
  readline.cursorTo(process.stdout, 0);
  to.write(`${text}\n`);
  rl.prompt(true);
}
