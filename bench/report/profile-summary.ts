import { readFileSync } from "node:fs";
import { OUT_DIR as PARLEY_BUILD_DIR } from "../suite/parley-build.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a function lives: an npm package, a folder of this repository, or a runtime bucket. */
export function areaOf(url: string, functionName: string): string {
  if (url === "") return `(${functionName || "native"})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith("node:")) return url;
  // Parley's frames come from its build (bench/suite/parley-build.ts): name them by source folder.
  const own = /\/(src|gen|bench)\/(.*\/)?/.exec(url.replace(`/${PARLEY_BUILD_DIR}/`, "/"));
  if (own) return `${own[1]}/${own[2] ?? ""}`;
  return url;
}

/**
 * Summarise a V8 CPU profile (node --cpu-prof): the share of self time by
 * area (npm package, source folder, or runtime bucket such as "(garbage
 * collector)") and by function, as text.
 */
export function summariseProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const fn = `${frame.functionName || "(anonymous)"} ${area}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const lines = [`${(total / 1e6).toFixed(1)} s of samples`];
  const show = (title: string, m: Map<string, number>) => {
    lines.push("", title);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      lines.push(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  show("self time by area", areas);
  show("self time by function", functions);
  return lines.join("\n");
}
