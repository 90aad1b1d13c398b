import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Two projects: `unit` runs in-process tests that start no server and take
 * milliseconds; `e2e` starts real servers, child processes and a browser.
 * `npm run test:unit` runs the first alone while working on code.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real servers and child processes: keep parallelism modest on 2 cores.
    maxWorkers: 2,
    // Guest keys and tokens the client and CLI keep go here, not to the user's ~/.local/state.
    env: { XDG_STATE_HOME: join(tmpdir(), "parley-test-state") },
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"] } },
    ],
  },
});
