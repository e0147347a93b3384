import { describe, expect, it } from "vitest";
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
 * Settings are global and storage is shared by every test in the run, so what this suite saves keeps submissions
 * open and evaluation off (as the other suites expect), and it restores what it found. Closed rounds are tested
 * end to end under wrangler dev (test/node/wrangler-dev.test.ts), where the state is the suite's own.
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

  it("are changed by admins only, checked against their schema and for rounds that overlap, and audited", async () => {
    const admin = await token("admin");
    const found = (await (await call("/v1/review/settings", admin)).json<{ settings: Settings; version: number }>())
      .settings;
    const next: Settings = {
      ...found,
      rounds: [{ name: "Round test", opensAt: at(-hour), closesAt: at(24 * hour) }],
      tokenBudget: 50_000,
    };
    const put = (body: unknown, bearer?: string) =>
      call("/v1/review/settings", bearer, { method: "PUT", body: JSON.stringify(body) });

    expect((await problemOf(await put(next))).code).toBe("unauthorized");
    expect((await problemOf(await put(next, await token("organiser")))).code).toBe("forbidden");
    const malformed = await problemOf(await put({ ...next, minExamples: 0, extra: true }, admin));
    expect(malformed).toMatchObject({ status: 400, code: "invalid_settings" });
    expect((malformed.fields as { field: string }[]).map((field) => field.field).sort()).toEqual([
      "extra",
      "minExamples",
    ]);
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

    try {
      const saved = await put(next, admin);
      expect(saved.status).toBe(200);
      const { version } = await saved.json<{ version: number }>();
      expect(await (await call("/v1/review/settings", admin)).json()).toMatchObject({ version, settings: next });
      const publicView = await (await call("/v1/settings")).json<Settings & { currentRound: string }>();
      expect(publicView).toMatchObject({
        rounds: next.rounds,
        tokenBudget: 50_000,
        currentRound: "Round test",
        submissionsOpen: true,
      });
      const audit = await (await call("/v1/review/audit?limit=100", admin)).json<{
        entries: { action: string; detail: { after: Settings } }[];
      }>();
      expect(
        audit.entries.find((entry) => entry.action === "settings.update" && entry.detail.after.tokenBudget === 50_000),
      ).toBeDefined();
    } finally {
      expect((await put(found, admin)).status).toBe(200);
    }
  });

  it("refuses a JSON body over 256 KiB before reading it", async () => {
    const huge = JSON.stringify({ rounds: [], padding: "x".repeat(300 * 1024) });
    const problem = await problemOf(
      await call("/v1/review/settings", await token("admin"), { method: "PUT", body: huge }),
    );
    expect(problem).toMatchObject({ status: 413, code: "payload_too_large", limitBytes: 262144 });
  });
});
