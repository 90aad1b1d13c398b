// The few Node APIs the node entry's guest key file (src/client/guest-key-file.ts)
// uses, declared for the package build alone, which has no Node types so
// that browser code cannot lean on Node by accident. The main build checks
// the same file against @types/node.

declare module "node:fs" {
  export function chmodSync(path: string, mode: number): void;
  export function mkdirSync(path: string, options: { recursive: boolean; mode: number }): void;
  export function readFileSync(path: string, encoding: "utf8"): string;
  export function renameSync(from: string, to: string): void;
  export function writeFileSync(path: string, data: string, options: { mode: number }): void;
}

declare module "node:os" {
  export function homedir(): string;
}

declare module "node:path" {
  export function dirname(path: string): string;
  export function join(...parts: string[]): string;
}

declare const process: { env: Record<string, string | undefined>; pid: number };
