import { execFile } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 14 points 3 and 4: `npx buf` fetched an unrelated package outside
// the checkout, and the Go example wrote gen/go, after which `npm test`
// (check:gen) failed with advice that did not fix it.

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).map((f) => join("docs", f))].filter(
  (f) => f.endsWith(".md"),
);

/** The command lines of a markdown file's sh and console blocks ("$ " dropped), with their file. */
function commandLines(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const blocks = [...text.matchAll(/^```(?:sh|console|bash)\n([\s\S]*?)^```$/gm)];
  return blocks.flatMap((m) =>
    (m[1] ?? "")
      .split("\n")
      .map((line) => line.replace(/^\$ /, "").trim())
      .map((line) => `${file}: ${line}`),
  );
}

describe("buf in the docs (point 3)", () => {
  it("every buf command in README.md and docs/ is npx @bufbuild/buf, never bare buf or npx buf", () => {
    const lines = DOCS.flatMap(commandLines);
    const bufLines = lines.filter((l) => /:\s(npx\s+)?(@bufbuild\/)?buf\s/.test(l));
    expect(bufLines.length).toBeGreaterThan(5);
    expect(bufLines.filter((l) => !/:\s(npx @bufbuild\/buf) /.test(l))).toEqual([]);
    // Inline code too: `npx buf …` anywhere in the prose.
    const inline = DOCS.filter((f) => /`npx buf\b/.test(readFileSync(join(ROOT, f), "utf8")));
    expect(inline).toEqual([]);
  });

  it("npx @bufbuild/buf runs buf outside the checkout too", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "parley-npx-buf-"));
    try {
      const { stdout } = await exec(
        "npx",
        ["--yes", "--prefer-offline", "@bufbuild/buf", "--version"],
        { cwd: elsewhere, timeout: 180_000 },
      );
      expect(stdout.trim()).toMatch(/^1\.\d+\.\d+$/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 200_000);
});

/** A stand-in for protoc-gen-go or protoc-gen-connect-go: one file per .proto, naming its go_package. */
function fakePlugin(dir: string, name: string, fileFor: string): void {
  const protobuf = pathToFileURL(join(ROOT, "node_modules/@bufbuild/protobuf/dist/esm/index.js"));
  const wkt = pathToFileURL(join(ROOT, "node_modules/@bufbuild/protobuf/dist/esm/wkt/index.js"));
  const path = join(dir, name);
  writeFileSync(
    path,
    `#!/usr/bin/env node
import { create, fromBinary, toBinary } from ${JSON.stringify(protobuf.href)};
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema } from ${JSON.stringify(wkt.href)};
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = fromBinary(CodeGeneratorRequestSchema, new Uint8Array(Buffer.concat(chunks)));
const file = [];
for (const proto of req.protoFile.filter((f) => req.fileToGenerate.includes(f.name))) {
  const base = proto.name.replace(/\\.proto$/, "");
  file.push({ name: (${fileFor})(base), content: "// go_package: " + (proto.options?.goPackage ?? "") + "\\n" });
}
process.stdout.write(toBinary(CodeGeneratorResponseSchema, create(CodeGeneratorResponseSchema, { file })));
`,
  );
  chmodSync(path, 0o755);
}

describe("the Go example in docs/clients.md (point 4)", () => {
  let dir: string;
  let checkout: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "parley-go-example-"));
    // A copy of what buf and check:gen read, so the real checkout's gen/ is never touched.
    checkout = join(dir, "parley");
    mkdirSync(join(checkout, "scripts"), { recursive: true });
    for (const entry of ["proto", "gen", "buf.yaml", "buf.gen.yaml", "scripts/check-gen.mjs"]) {
      cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"));
    const plugins = join(dir, "bin");
    mkdirSync(plugins);
    fakePlugin(plugins, "protoc-gen-go", "(base) => base + '.pb.go'");
    fakePlugin(
      plugins,
      "protoc-gen-connect-go",
      "(base) => base.replace(/([^/]+)\\/(v\\d+)\\/([^/]+)$/, '$1/$2/$1$2connect/$3') + '.connect.go'",
    );
    // As `npm run` gives scripts: the checkout's node_modules/.bin first.
    env = { ...process.env, PATH: `${BIN}:${plugins}:${process.env.PATH}` };
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes into your Go module with its import path, and check:gen still passes", async () => {
    const docs = readFileSync(join(ROOT, "docs", "clients.md"), "utf8");
    const template = /^```yaml\n(# buf\.gen\.go\.yaml: ([^\n]+)\n[\s\S]*?)^```$/m.exec(docs);
    expect(template, "the Go template in docs/clients.md").not.toBeNull();
    const [, yaml = "", command = ""] = template ?? [];
    expect(command).toBe(
      "npx @bufbuild/buf generate --template buf.gen.go.yaml --output ../my-go-app",
    );
    writeFileSync(join(checkout, "buf.gen.go.yaml"), yaml);
    const [npx, ...args] = command.split(" ");
    await exec(npx ?? "npx", args, { cwd: checkout, env, timeout: 120_000 });

    const out = join(dir, "my-go-app", "gen", "chat", "v1");
    expect(readFileSync(join(out, "chat.pb.go"), "utf8")).toMatch(
      /^\/\/ go_package: example\.com\/my-go-app\/gen\/chat\/v1(;chatv1)?\n$/,
    );
    expect(existsSync(join(out, "chatv1connect", "chat.connect.go"))).toBe(true);
    expect(existsSync(join(checkout, "gen", "go"))).toBe(false);

    const check = await exec(process.execPath, ["scripts/check-gen.mjs"], { cwd: checkout, env });
    expect(check.stdout).toMatch(/^gen\/ matches buf generate \(\d+ files\)\n$/);
  });

  it("Go code left in gen/ (the old example) fails check:gen with advice that fixes it", async () => {
    const stray = join(checkout, "gen", "go", "chat", "v1");
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, "chat.pb.go"), "package chatv1\n");
    try {
      const failed = await exec(process.execPath, ["scripts/check-gen.mjs"], {
        cwd: checkout,
        env,
      }).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toBe(
        "gen/ holds files buf generate does not write here:\n" +
          "  gen/go/chat/v1/chat.pb.go\n" +
          "gen/ is this repository's TypeScript only. If these are another language's code, " +
          "generate it into a folder outside gen/ (docs/clients.md, Other languages, shows how) " +
          "and remove them from gen/; if they are stale, npm run generate deletes them.\n",
      );
    } finally {
      rmSync(join(checkout, "gen", "go"), { recursive: true, force: true });
    }
    // What the advice says to do is enough.
    const check = await exec(process.execPath, ["scripts/check-gen.mjs"], { cwd: checkout, env });
    expect(check.stdout).toMatch(/^gen\/ matches buf generate/);
  });
});
