import { once } from "node:events";
import { Cluster, type Redis } from "ioredis";

/**
 * Why acknowledged messages could be lost with these Redis persistence
 * settings, or [] when an acknowledged append survives a crash of Redis and
 * of its machine (`appendonly yes` with `appendfsync always`: Redis fsyncs
 * the append-only file before it replies).
 */
export function durabilityRisks(settings: { appendonly?: string; appendfsync?: string }): string[] {
  if (settings.appendonly !== "yes") {
    return [
      `appendonly is ${settings.appendonly ?? "unknown"}: messages acknowledged since the last RDB snapshot are lost if Redis stops or crashes; set appendonly yes and appendfsync always`,
    ];
  }
  if (settings.appendfsync === "always") return [];
  if (settings.appendfsync === "everysec") {
    return [
      "appendfsync is everysec: about the last second (two when the disk is slow) of acknowledged messages can be lost if the machine crashes or loses power; set appendfsync always",
    ];
  }
  return [
    `appendfsync is ${settings.appendfsync ?? "unknown"}: acknowledged messages the OS has not yet written can be lost if the machine crashes or loses power; set appendfsync always`,
  ];
}

/** CONFIG GET one setting: its value, or undefined when the reply has none. */
async function configValue(client: Redis, name: string): Promise<string | undefined> {
  const reply = (await client.config("GET", name)) as string[];
  return reply[1];
}

/**
 * Read appendonly and appendfsync from the server (every master of a
 * cluster) and say what could lose acknowledged messages, one line per
 * problem. Throws when the settings cannot be read (CONFIG disabled, or no
 * connection).
 */
export async function checkDurability(client: Redis | Cluster): Promise<string[]> {
  // A cluster knows its masters only once it is ready.
  if (client instanceof Cluster && client.status !== "ready") await once(client, "ready");
  const servers = client instanceof Cluster ? client.nodes("master") : [client];
  if (servers.length === 0) throw new Error("the cluster lists no master");
  const risks: string[] = [];
  for (const server of servers) {
    const [appendonly, appendfsync] = await Promise.all([
      configValue(server, "appendonly"),
      configValue(server, "appendfsync"),
    ]);
    const where = `${server.options.host}:${server.options.port}`;
    for (const risk of durabilityRisks({ appendonly, appendfsync }))
      risks.push(`${where}: ${risk}`);
  }
  return risks;
}
