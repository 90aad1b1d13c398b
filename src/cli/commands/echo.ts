import { Command } from "commander";
import { inputLines, printAbovePrompt } from "../lines.js";
import { authorOption, clientFor } from "../options.js";
import { Output } from "../output.js";

/** `parley echo`: an interactive Echo stream, each line back with its seq and round trip. */
export function echoCommand(): Command {
  return new Command("echo")
    .description(
      "type lines; each comes back over the Echo bidi stream with its seq and round-trip time",
    )
    .addOption(authorOption())
    .option("--json", "one JSON reply per line, with rttMs")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const out = new Output(Boolean(opts.json));
      const { lines, rl } = inputLines("echo> ");
      const sentAt: number[] = [];
      async function* requests() {
        for await (const text of lines) {
          sentAt.push(performance.now());
          yield { text };
        }
      }
      for await (const reply of clientFor(cmd).rpc.echo(requests())) {
        const rtt = performance.now() - (sentAt[Number(reply.seq) - 1] ?? performance.now());
        const text = opts.json
          ? JSON.stringify({
              seq: Number(reply.seq),
              text: reply.text,
              rttMs: Number(rtt.toFixed(3)),
            })
          : `${out.style("dim", `#${reply.seq}`)} ${reply.text} ${out.style("dim", `(${rtt.toFixed(1)} ms)`)}`;
        printAbovePrompt(rl, text);
      }
      rl.close();
    });
}
