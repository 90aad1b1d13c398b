import { readFile } from "node:fs/promises";

/** An HS256 secret file: its bytes, trailing newline dropped; at least 32 bytes. */
export async function readSecret(file: string): Promise<Uint8Array> {
  const bytes = Buffer.from((await readFile(file, "utf8")).replace(/\r?\n$/, ""), "utf8");
  if (bytes.length < 32) {
    throw new Error(
      `--auth-secret-file ${file}: an HS256 secret must be at least 32 bytes (it has ${bytes.length})`,
    );
  }
  return bytes;
}
