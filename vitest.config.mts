import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Processes killed and restarted: `npm run test:faults` (vitest.faults.config.ts), also run by .ci/run.
    exclude: ["test/faults/**", "**/node_modules/**"],
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 90_000,
    reporters: process.env["CI"] ? ["default"] : ["default"],
  },
});
