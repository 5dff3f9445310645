import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // PGlite takes ~2 s to start and a PostgreSQL cluster ~1.5 s: hooks need room.
    hookTimeout: 60_000,
    testTimeout: 60_000,
    // Two cores: more files at once only make each slower and the timing-sensitive tests flaky.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
