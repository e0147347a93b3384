import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, problemOf, token } from "./helpers";

interface Settings {
  rounds: { name: string; opensAt: string; closesAt: string }[];
  minExamples: number;
  maxFileBytes: number;
  maxRows: number;
  publicFamilies: string[];
  tokenBudget: number | null;
}

const hour = 3_600_000;
const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();

/**
 * Settings are global to the storage the tests of this file share (each test file has storage of its own), so
 * what a test saves keeps submissions open, and it restores what it found for the tests after it. Closed rounds
 * are tested end to end under wrangler dev (test/node/wrangler-dev.test.ts).
 */
describe("competition settings", () => {
  it("are public to read, with whether submissions are open", async () => {
    const response = await call("/v1/settings");
    expect(response.status).toBe(200);
    const settings = await response.json<Settings & { submissionsOpen: boolean }>();
    expect(settings).toMatchObject({
      minExamples: 300,
      maxRows: 200000,
      maxFileBytes: 104857600,
      submissionsOpen: true,
    });
  });

  describe("changes", () => {
    let admin: string;
    let found: Settings;
    let next: Settings;
    const put = (body: unknown, bearer?: string) =>
      call("/v1/review/settings", bearer, { method: "PUT", body: JSON.stringify(body) });

    beforeAll(async () => {
      admin = await token("admin");
      found = (await (await call("/v1/review/settings", admin)).json<{ settings: Settings; version: number }>())
        .settings;
      next = {
        ...found,
        rounds: [{ name: "Round test", opensAt: at(-hour), closesAt: at(24 * hour) }],
        tokenBudget: 50_000,
      };
    });

    it("need a token", async () => {
      expect((await problemOf(await put(next))).code).toBe("unauthorized");
    });

    it("are for admins only: an organiser is refused", async () => {
      expect((await problemOf(await put(next, await token("organiser")))).code).toBe("forbidden");
    });

    it("are checked against their schema, naming each field that breaks it", async () => {
      const malformed = await problemOf(await put({ ...next, minExamples: 0, extra: true }, admin));
      expect(malformed).toMatchObject({ status: 400, code: "invalid_settings" });
      expect((malformed.fields as { field: string }[]).map((field) => field.field).sort()).toEqual([
        "extra",
        "minExamples",
      ]);
    });

    it("are checked for rounds that overlap, that end before they open or share a name", async () => {
      const firstCloses = at(hour);
      const overlapping = await problemOf(
        await put(
          {
            ...next,
            rounds: [
              { name: "A", opensAt: at(-hour), closesAt: firstCloses },
              { name: "A", opensAt: at(0), closesAt: at(-2 * hour) },
            ],
          },
          admin,
        ),
      );
      expect(overlapping).toMatchObject({ status: 400, code: "invalid_settings" });
      expect(overlapping.fields).toEqual([
        { field: "rounds[1].closesAt", message: "must be after opensAt" },
        { field: "rounds[1].opensAt", message: `must not be before the previous round closes (${firstCloses})` },
        { field: "rounds[1].name", message: "must be unique" },
      ]);
    });

    describe("saved by an admin", () => {
      let saved: Response;

      beforeAll(async () => {
        saved = await put(next, admin);
      });
      afterAll(async () => {
        expect((await put(found, admin)).status).toBe(200);
      });

      it("are saved (200)", () => {
        expect(saved.status).toBe(200);
      });

      it("are what admins read back, under the new version", async () => {
        const { version } = await saved.clone().json<{ version: number }>();
        expect(await (await call("/v1/review/settings", admin)).json()).toMatchObject({ version, settings: next });
      });

      it("are what the public reads, with the current round and whether submissions are open", async () => {
        const publicView = await (await call("/v1/settings")).json<Settings & { currentRound: string }>();
        expect(publicView).toMatchObject({
          rounds: next.rounds,
          tokenBudget: 50_000,
          currentRound: "Round test",
          submissionsOpen: true,
        });
      });

      it("are audited", async () => {
        const audit = await (await call("/v1/review/audit?limit=100", admin)).json<{
          entries: { action: string; detail: { after: Settings } }[];
        }>();
        expect(
          audit.entries.find(
            (entry) => entry.action === "settings.update" && entry.detail.after.tokenBudget === 50_000,
          ),
        ).toBeDefined();
      });
    });
  });

  describe("intake and spend limits", () => {
    const put = async (body: unknown) =>
      call("/v1/review/settings", await token("admin"), { method: "PUT", body: JSON.stringify(body) });

    it("are public to read, from the Worker's vars until an admin sets them", async () => {
      expect(await (await call("/v1/settings")).json()).toMatchObject({
        uploadsPerHour: 100_000,
        automaticEvaluationsPerDay: 100,
        tokenBudget: 5_000_000,
        spendCeilingTokens: 500_000_000,
        spendCeilingUsd: null,
      });
    });

    it("left out of an admin's document, are saved with the Worker's defaults", async () => {
      const admin = await token("admin");
      const { settings: found } = await (await call("/v1/review/settings", admin)).json<{ settings: Settings }>();
      const { rounds, minExamples, maxFileBytes, maxRows, publicFamilies, tokenBudget } = found;
      const saved = await put({ rounds, minExamples, maxFileBytes, maxRows, publicFamilies, tokenBudget });
      expect(await saved.json()).toMatchObject({
        settings: { uploadsPerHour: 100_000, automaticEvaluationsPerDay: 100, spendCeilingTokens: 500_000_000 },
      });
      expect((await put(found)).status).toBe(200);
    });

    it("are checked against their schema: an upload limit of 0 is refused", async () => {
      const { settings: found } = await (await call("/v1/review/settings", await token("admin"))).json<{
        settings: Settings;
      }>();
      const problem = await problemOf(await put({ ...found, uploadsPerHour: 0, spendCeilingUsd: -1 }));
      expect(problem).toMatchObject({ status: 400, code: "invalid_settings" });
      expect(problem.fields).toEqual([
        { field: "uploadsPerHour", message: "must be >= 1" },
        { field: "spendCeilingUsd", message: "must be >= 0" },
      ]);
    });
  });

  it("refuses a JSON body over 256 KiB before reading it", async () => {
    const huge = JSON.stringify({ rounds: [], padding: "x".repeat(300 * 1024) });
    const problem = await problemOf(
      await call("/v1/review/settings", await token("admin"), { method: "PUT", body: huge }),
    );
    expect(problem).toMatchObject({ status: 413, code: "payload_too_large", limitBytes: 262144 });
  });
});
