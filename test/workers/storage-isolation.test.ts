import { beforeAll, describe, expect, it } from "vitest";
import { lambadaVariant, storedCounts, submit } from "./helpers";

/**
 * What the comments in vitest.config.ts and the suites say about storage, checked: @cloudflare/vitest-pool-workers
 * 0.15.1 runs each test file in a runtime of its own, whose D1, R2 and Durable Objects start empty (only the
 * migrations applied by the setup file), and the tests of one file share that storage.
 */
describe("storage in the workers tests", () => {
  let atStart: { rows: number; objects: number };

  beforeAll(async () => {
    atStart = await storedCounts();
    expect((await submit({ csv: lambadaVariant("Isolation") })).status).toBe(201);
  });

  it("starts empty in every test file, whatever the other files stored", () => {
    expect(atStart).toEqual({ rows: 0, objects: 0 });
  });

  it("is shared by the tests of one file: what was stored before them is there", async () => {
    expect(await storedCounts()).toEqual({ rows: 1, objects: 2 });
  });
});
