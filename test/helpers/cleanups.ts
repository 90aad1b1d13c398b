import { afterEach } from "vitest";

/**
 * Registers an afterEach that runs, newest first, what each test asked to
 * undo (servers, sockets, folders), and returns the function a test asks with.
 * Call it once at a test file's top level.
 */
export function cleanupAfterEach(): (cleanup: () => unknown) => void {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}
