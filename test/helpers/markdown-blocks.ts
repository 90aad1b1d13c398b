/** One fenced code block of a Markdown file, as written. */
export interface CodeBlock {
  /** The info string after the opening fence (`sh`, `ts`, `python` …), maybe empty. */
  lang: string;
  /** The lines between the fences, each ending in a newline. */
  body: string;
  /** The 1-based line of the opening fence, for messages. */
  line: number;
  /** The reason given by a `<!-- fragment: … -->` mark on the line before, if marked. */
  fragment: string | undefined;
}

const FRAGMENT = /^<!-- fragment: (.+) -->$/;

/**
 * Every fenced block of `markdown`, in order. A block is a fragment (not a
 * program to run) when the last non-blank line before its fence is
 * `<!-- fragment: why, and where a runnable version is -->`.
 */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`the block at line ${i + 1} never closes`);
    let before = i - 1;
    while (before >= 0 && lines[before]?.trim() === "") before--;
    blocks.push({
      lang: open[1] ?? "",
      body: lines
        .slice(i + 1, end)
        .map((l) => `${l}\n`)
        .join(""),
      line: i + 1,
      fragment: FRAGMENT.exec(lines[before] ?? "")?.[1],
    });
    i = end;
  }
  return blocks;
}

/** The text between heading `title` (any level) and the next heading of that level or above. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, "") === title);
  if (start < 0) throw new Error(`no heading "${title}"`);
  const level = /^#+/.exec(lines[start] ?? "")?.[0].length ?? 1;
  const next = lines.findIndex(
    (l, i) => i > start && /^#+ /.test(l) && (/^#+/.exec(l)?.[0].length ?? 9) <= level,
  );
  return lines.slice(start, next < 0 ? undefined : next).join("\n");
}

/** A shell block's commands: one per line, lines ending in `\` joined to the next, as bash reads them. */
export function shellCommands(body: string): string[] {
  return body
    .replace(/\\\n/g, "\u0000")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.replaceAll("\u0000", "\\\n"));
}

/** A command's trailing `# comment`, if any (what the docs say about it, e.g. "until Ctrl-C"). */
export function commentOf(command: string): string {
  return /\s#\s(.*)$/.exec(command)?.[1] ?? "";
}

/** A command without its trailing comment. */
export function withoutComment(command: string): string {
  return command.replace(/\s+#\s.*$/, "");
}

/** The file a block is, when its first line is only a comment naming one (`// send.ts`, `# hello.py`). */
export function fileNameOf(block: CodeBlock): string | undefined {
  const first = block.body.split("\n", 1)[0] ?? "";
  return /^(?:\/\/|#|<!--) ([\w-]+(?:\.[\w-]+)+)(?: -->)?$/.exec(first)?.[1];
}
