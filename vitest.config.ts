import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          // Inside workerd against real local D1, R2 and Durable Objects. Pool 0.15.1 starts a fresh runtime, with
          // empty storage, for each test file (vitest's `isolate`, on by default); the tests of one file share it, so
          // they use unique content and compare before/after. test/workers/storage-isolation.test.ts checks both.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              // Evaluation is started explicitly in these tests (the auto-start on upload is covered under wrangler dev).
              // The reference server (globalSetup) listens on 127.0.0.1 at a free port, so families registered by
              // the tests reach it only because the operator's allow-list names that host, as it would for local
              // development; the policy itself is not relaxed. Two test secrets are declared with their hosts.
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  DEFAULT_FAMILIES: "",
                  // Tests upload dozens of files from one client (no CF-Connecting-IP): the upload limit is tested
                  // on its own, with the limit set in the settings (test/workers/intake-limits.test.ts).
                  UPLOADS_PER_HOUR: "100000",
                  // The same for the automatic evaluations a client may start (tested with its own settings).
                  AUTO_EVALUATIONS_PER_CLIENT_PER_DAY: "100000",
                  OUTBOUND_ALLOW_HOSTS: "127.0.0.1",
                  PROVIDER_SECRETS: JSON.stringify({
                    TEST_PROVIDER_KEY: ["127.0.0.1"],
                    OTHER_PROVIDER_KEY: ["api.other.example"],
                  }),
                },
              },
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
