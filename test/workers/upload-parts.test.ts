import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import logodds from "../../fixtures/tasks/valid/logodds.csv?raw";
import logoddsMetadata from "../../fixtures/metadata/logodds.json";
import sentiment from "../../../shared/samples/real/tasks/sentiment_analysis.csv?raw";
import { defaultSettings, validationLimits } from "../../src/competition/settings";
import { validateStream } from "../../src/validate/validator";
import { VALID_METADATA, call, lambadaVariant, problemOf, storedCounts, submit, token, uniqueVariant } from "./helpers";

/**
 * Many clients send the file part before the metadata part. The file is then staged as it streams and checked
 * against the metadata once that has arrived: the outcome is the one the other order gives, and nothing is kept
 * when either part is refused.
 */
const logoddsVariant = (): string =>
  uniqueVariant(
    logodds,
    (tag) => `"Ann says the ${tag} is red.","Ann, a liar, says the ${tag} is red.","[' Yes', ' No']",0`,
  );

const staged = async (): Promise<number> => (await env.BLOBS.list({ prefix: "staging/" })).objects.length;

describe("a file part before the metadata part", () => {
  const csv = logoddsVariant();
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;
  let body: { id: string; state: string; taskType: string; report: unknown; submitterToken: string; csvSha256: string };

  beforeAll(async () => {
    before = await storedCounts();
    response = await submit({ csv, metadata: logoddsMetadata, fileFirst: true });
    body = await response.json<typeof body>();
  });

  it("is accepted (201)", () => {
    expect(response.status).toBe(201);
    expect(body).toMatchObject({ state: "valid", taskType: "logodds" });
  });

  // Without the metadata's task type, logodds and absolute_logodds columns are ambiguous: the check waits for it.
  it("is checked against the metadata's task type, with the report the other order gives", async () => {
    const limits = validationLimits(defaultSettings(env));
    const expected = await validateStream(new Blob([csv]).stream(), { taskType: "logodds", limits });
    expect(body.report).toEqual(expected);
  });

  it("stores the file byte for byte, and one record and two objects", async () => {
    expect(await (await env.BLOBS.get(`csv/${body.csvSha256}.csv`))?.text()).toBe(csv);
    expect(await storedCounts()).toEqual({ rows: before.rows + 1, objects: before.objects + 2 });
  });

  it("leaves nothing in staging", async () => {
    expect(await staged()).toBe(0);
  });
});

describe("a file part before metadata with problems", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;

  beforeAll(async () => {
    before = await storedCounts();
    response = await submit({
      csv: lambadaVariant(),
      metadata: { ...VALID_METADATA, contactEmail: "nope" },
      fileFirst: true,
    });
  });

  it("is refused (400) for the metadata, naming the field", async () => {
    expect(await problemOf(response)).toMatchObject({
      status: 400,
      code: "invalid_metadata",
      fields: [{ field: "contactEmail", message: 'must match format "email"' }],
    });
  });

  it("keeps nothing: no record, no object, nothing in staging", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("a file part with errors before valid metadata", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;

  beforeAll(async () => {
    before = await storedCounts();
    response = await submit({ csv: sentiment, fileFirst: true });
  });

  it("is refused (422) with the full report", async () => {
    const problem = await problemOf(response);
    expect(problem.code).toBe("invalid_task_file");
    expect((problem.report as { counts: unknown }).counts).toEqual({ legacy_column: 2 });
  });

  it("keeps nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("a file part with no metadata part after it", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;

  beforeAll(async () => {
    before = await storedCounts();
    const form = new FormData();
    form.append("file", new Blob([lambadaVariant()], { type: "text/csv" }), "task.csv");
    response = await exports.default.fetch("http://isv.test/v1/submissions", { method: "POST", body: form });
  });

  it("is refused (400) as missing its metadata", async () => {
    expect(await problemOf(response)).toMatchObject({ status: 400, code: "missing_part" });
  });

  it("keeps nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("a file part larger than one R2 part, before its metadata", () => {
  const rows = Array.from({ length: 120_000 }, (_, i) => `Example number ${i} says the sky is, blue ${i}\n`).join("");
  const csv = `prompt,completion\n${rows}Tagged ${crypto.randomUUID()}, end\n`;
  let response: Response;
  let body: { csvSha256: string; examples: number };

  beforeAll(async () => {
    expect(csv.length).toBeGreaterThan(5 * 1024 * 1024);
    response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "sequence_prob" }, fileFirst: true });
    body = await response.json<typeof body>();
  }, 60_000);

  it("is accepted (201) with every example counted", () => {
    expect(response.status).toBe(201);
    expect(body.examples).toBe(120_001);
  });

  it("is stored whole", async () => {
    expect(await (await env.BLOBS.get(`csv/${body.csvSha256}.csv`))?.text()).toBe(csv);
  });

  it("leaves nothing in staging", async () => {
    expect(await staged()).toBe(0);
  });
});

describe("a file part over the size limit, before its metadata", () => {
  let admin: string;
  let saved: Record<string, unknown>;
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;

  beforeAll(async () => {
    admin = await token("admin");
    saved = (await (await call("/v1/review/settings", admin)).json<{ settings: Record<string, unknown> }>()).settings;
    const small = { ...saved, maxFileBytes: 64 * 1024 };
    expect((await call("/v1/review/settings", admin, { method: "PUT", body: JSON.stringify(small) })).status).toBe(200);
    before = await storedCounts();
    response = await submit({ csv: lambadaVariant(), fileFirst: true });
  });
  afterAll(async () => {
    await call("/v1/review/settings", admin, { method: "PUT", body: JSON.stringify(saved) });
  });

  it("is refused (413), naming the limit", async () => {
    expect(await problemOf(response)).toMatchObject({ status: 413, code: "payload_too_large", limitBytes: 65536 });
  });

  it("keeps nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});
