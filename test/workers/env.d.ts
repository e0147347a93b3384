import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Migrations read by vitest.config.ts, applied before each test file. */
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
