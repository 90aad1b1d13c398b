import { readFile } from "node:fs/promises";

/** Decodes strictly, so that bytes which are not UTF-8 text are told apart. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * An HS256 secret file: at least 32 bytes. A text file (valid UTF-8) gives its
 * bytes with the trailing newline an editor or `echo` adds dropped; any other
 * file (a raw key, as `openssl rand -out FILE 48` writes) gives its bytes
 * exactly, since a last byte 0x0a there is part of the key. Decoding a raw key
 * as text would replace its invalid bytes and sign with another key.
 */
export async function readSecret(file: string): Promise<Uint8Array> {
  const raw = await readFile(file);
  const bytes = isText(raw) ? raw.subarray(0, raw.length - trailingNewline(raw)) : raw;
  if (bytes.length < 32) {
    throw new Error(
      `--auth-secret-file ${file}: an HS256 secret must be at least 32 bytes (it has ${bytes.length})`,
    );
  }
  return new Uint8Array(bytes);
}

function isText(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** How many bytes the file's final "\n" or "\r\n" takes (0 without one). */
function trailingNewline(bytes: Uint8Array): number {
  if (bytes.at(-1) !== 0x0a) return 0;
  return bytes.at(-2) === 0x0d ? 2 : 1;
}
