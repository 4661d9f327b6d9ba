import { defineConfig } from "vitest/config";

/**
 * `npm run test:faults`: scripted faults that stop and restart real processes (Azurite, the local
 * host, the Graph poller). Slower than the unit and integration tests, so kept out of `npm test`;
 * `.ci/run` runs both.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 90_000,
  },
});
