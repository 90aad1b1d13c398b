import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Hold `lockFile` while `work` runs, so that two builds of one checkout (two
 * `npm start`s at once) never write the same files together: the second
 * waits, then finds the first one's build up to date. A lock left by a
 * process that has died is taken over.
 */
export async function withBuildLock<T>(
  lockFile: string,
  work: () => Promise<T>,
  waitMs = 300_000,
): Promise<T> {
  await mkdir(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockFile, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!(await holderAlive(lockFile))) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`another build has held ${lockFile} for ${waitMs} ms; remove it if stale`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/** Whether the process whose pid the lock file holds still runs (an unreadable lock counts as held). */
async function holderAlive(lockFile: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(await readFile(lockFile, "utf8"));
  } catch {
    return true;
  }
  // A lock just created may not hold its pid yet.
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
