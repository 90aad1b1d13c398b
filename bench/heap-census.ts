// A census of a V8 heap snapshot: bytes and objects by kind and name
// (constructor, closure or system name; every string counted as one kind),
// and the difference of two censuses divided over N added things, so that
// "what does one more idle stream hold" reads off as a short table.
import { readFileSync } from "node:fs";

export type Census = Map<string, { count: number; bytes: number }>;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Kinds whose names are contents, not types: counted under the kind alone. */
const BY_KIND_ONLY = new Set(["string", "concatenated string", "sliced string", "number", "code"]);

export function censusOf(file: string): Census {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const kinds = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const kindAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const census: Census = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const kind = kinds[snap.nodes[i + kindAt] as number] as string;
    const key = BY_KIND_ONLY.has(kind)
      ? kind
      : `${kind} ${snap.strings[snap.nodes[i + nameAt] as number]}`;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt] as number;
    census.set(key, entry);
  }
  return census;
}

/** Print what `after` holds beyond `before`, per one of `added`, largest first. */
export function printCensusDiff(before: Census, after: Census, added: number, top = 40): void {
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: (a.count - b.count) / added, bytes: (a.bytes - b.bytes) / added };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((n, r) => n + r.bytes, 0);
  console.log(`\nPer added stream: ${total.toFixed(0)} bytes of objects (self sizes)`);
  console.log("| bytes | objects | kind and name |");
  console.log("| ---: | ---: | --- |");
  for (const r of rows.slice(0, top)) {
    if (r.bytes < 8) break;
    console.log(`| ${r.bytes.toFixed(0)} | ${r.count.toFixed(2)} | ${r.key.slice(0, 90)} |`);
  }
}
