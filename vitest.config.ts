import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          // Inside workerd against real local D1/R2. Storage is shared by every test in a run (pool 0.15.1 does not
          // isolate it), so tests use unique content and compare before/after.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              // Evaluation is started explicitly in these tests (the auto-start on upload is covered under wrangler dev).
              miniflare: { bindings: { TEST_MIGRATIONS: migrations, DEFAULT_FAMILIES: "" } },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/workers/**/*.test.ts"],
            setupFiles: ["./test/workers/apply-migrations.ts"],
            globalSetup: ["./test/workers/reference-server.ts"],
          },
        },
        {
          // Pure code under Node (as the CLI runs it), the CLI itself, and the real Worker under `wrangler dev`.
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
            testTimeout: 60_000,
            hookTimeout: 90_000,
          },
        },
      ],
    },
  };
});
