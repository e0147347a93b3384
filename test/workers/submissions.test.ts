import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import lambada from "../../../shared/samples/real/tasks/lambada-1k.csv?raw";
import sentiment from "../../../shared/samples/real/tasks/sentiment_analysis.csv?raw";
import syllogism from "../../../shared/samples/real/tasks/syllogism-0shot.csv?raw";
import qaBias from "../../../shared/samples/real/tasks/QA_bias-v2.csv?raw";
import { validateExample, validateValidationReport } from "../../src/generated/validators";
import {
  VALID_METADATA,
  fetchSubmission,
  lambadaVariant,
  problemOf,
  storedCounts,
  submit,
  uniqueVariant,
} from "./helpers";
import { defined } from "../defined";

const uniqueSyllogism = (): string =>
  uniqueVariant(syllogism, (tag) => `9999,"Q: Is ${tag} valid?\nA:","[' Yes', ' No']",0`);

describe("POST /v1/submissions: a real prize file", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let after: Awaited<ReturnType<typeof storedCounts>>;
  let csv: string;
  let response: Response;
  let body: {
    id: string;
    state: string;
    submitterToken: string;
    csvSha256: string;
    report: unknown;
    examples: number;
  };

  beforeAll(async () => {
    before = await storedCounts();
    csv = uniqueSyllogism();
    response = await submit({ csv });
    body = await response.json();
    after = await storedCounts();
  });

  it("is accepted (201) with its state, task type and number of examples", () => {
    expect(response.status).toBe(201);
    expect(body).toMatchObject({ state: "valid", taskType: "classification", examples: 1001 });
  });

  it("returns the submitter's token, once", () => {
    expect(body.submitterToken).toMatch(/^isv_st_[A-Za-z0-9_-]{43}$/);
  });

  it("returns the validation report, in its schema", () => {
    expect(validateValidationReport(body.report)).toBe(true);
  });

  it("gives the submission's address in Location", () => {
    expect(response.headers.get("location")).toBe(`/v1/submissions/${body.id}`);
  });

  it("stores the CSV by its sha256, byte for byte", async () => {
    const stored = await env.BLOBS.get(`csv/${body.csvSha256}.csv`);
    expect(await stored?.text()).toBe(csv);
  });

  describe("its examples", () => {
    let lines: unknown[];

    beforeAll(async () => {
      const examples = await env.BLOBS.get(`examples/${body.csvSha256}/classification.jsonl`);
      lines = (await defined(examples, "the examples in R2").text())
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
    });

    it("are stored as JSONL, one valid example a row", () => {
      expect(lines).toHaveLength(1001);
      expect(lines.every((example) => validateExample(example))).toBe(true);
    });

    it("keep each row's prompt, classes and answer as parsed, with where the row was", () => {
      expect(lines[0]).toEqual({
        taskType: "classification",
        row: 1,
        line: 2,
        prompt:
          "Q: Is this a valid syllogism?\nAll men are ambitious.\nAll men study hard.\nTherefore men study hard because they are ambitious.\nA:",
        classes: [" Yes", " No"],
        answerIndex: 1,
      });
    });
  });

  it("stores only a hash of the submitter's token in D1", async () => {
    const row = await env.DB.prepare("SELECT submitter_token_hash FROM submissions WHERE id = ?1")
      .bind(body.id)
      .first<{ submitter_token_hash: string }>();
    expect(row?.submitter_token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.submitter_token_hash).not.toContain(body.submitterToken);
  });

  it("adds one record and two objects (the CSV and the examples)", () => {
    expect(after).toEqual({ rows: before.rows + 1, objects: before.objects + 2 });
  });
});

describe("POST /v1/submissions: the same bytes again", () => {
  const csv = lambadaVariant();
  let first: { id: string; submitterToken: string };
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let again: Response;
  let body: Record<string, unknown>;

  beforeAll(async () => {
    first = await (await submit({ csv })).json<{ id: string; submitterToken: string }>();
    before = await storedCounts();
    again = await submit({ csv, metadata: { ...VALID_METADATA, title: "Another title" } });
    body = await again.json<Record<string, unknown>>();
  });

  // Whoever has the same bytes must not see someone else's record (state, title, report, the organisers' note).
  it("answer 200 with the existing submission's id and duplicate: true, and nothing else", () => {
    expect(again.status).toBe(200);
    expect(body).toEqual({ id: first.id, duplicate: true });
  });

  it("give the existing submission's address in Location", () => {
    expect(again.headers.get("location")).toBe(`/v1/submissions/${first.id}`);
  });

  it("store nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });

  describe("sent with the existing submission's token", () => {
    let mine: Response;
    let view: Record<string, unknown>;

    beforeAll(async () => {
      mine = await submit({ csv, headers: { authorization: `Bearer ${first.submitterToken}` } });
      view = await mine.json<Record<string, unknown>>();
    });

    it("answer 200 with the full record, marked as a duplicate", () => {
      expect(mine.status).toBe(200);
      expect(view).toMatchObject({ id: first.id, duplicate: true, state: "valid", title: "Syllogism validity" });
    });

    it("return no token", () => {
      expect(view).not.toHaveProperty("submitterToken");
    });
  });

  it("sent with another submission's token, answer with the id and duplicate: true only", async () => {
    const other = await (await submit({ csv: lambadaVariant() })).json<{ submitterToken: string }>();
    const response = await submit({ csv, headers: { authorization: `Bearer ${other.submitterToken}` } });
    expect(await response.json()).toEqual({ id: first.id, duplicate: true });
  });
});

describe("GET /v1/submissions/{id}", () => {
  let created: { id: string; submitterToken: string };

  beforeAll(async () => {
    created = await (await submit({ csv: lambadaVariant() })).json<{ id: string; submitterToken: string }>();
  });

  it("lets the submitter read the state and report with the token", async () => {
    const mine = await fetchSubmission(created.id, created.submitterToken);
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ id: created.id, state: "valid", taskType: "sequence_prob" });
  });

  it("answers 401 without a token", async () => {
    expect((await problemOf(await fetchSubmission(created.id))).code).toBe("unauthorized");
  });

  it("answers 404 to another token, as for a submission that does not exist", async () => {
    const wrongToken = await fetchSubmission(created.id, `isv_st_${"A".repeat(43)}`);
    expect(wrongToken.status).toBe(404);
    expect(await problemOf(wrongToken)).toMatchObject({ code: "submission_not_found" });
  });

  it("answers 404 for an id it does not know", async () => {
    const unknownId = await fetchSubmission(crypto.randomUUID(), created.submitterToken);
    expect(await problemOf(unknownId)).toMatchObject({ code: "submission_not_found" });
  });
});

describe("POST /v1/submissions: a file larger than one R2 part", () => {
  const header = "prompt,completion\n";
  const rows = Array.from({ length: 120_000 }, (_, i) => `Example number ${i} says the sky is, blue ${i}\n`).join("");
  const csv = `${header + rows}Tagged ${crypto.randomUUID()}, end\n`;
  let response: Response;
  let body: { csvSha256: string; examples: number };

  beforeAll(async () => {
    expect(csv.length).toBeGreaterThan(5 * 1024 * 1024);
    response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "sequence_prob" } });
    body = await response.json<typeof body>();
  }, 60_000);

  it("is accepted (201) with every example counted", () => {
    expect(response.status).toBe(201);
    expect(body.examples).toBe(120_001);
  });

  it("is streamed through a multipart upload and copied into place whole", async () => {
    const stored = await env.BLOBS.get(`csv/${body.csvSha256}.csv`);
    expect(stored?.size).toBe(csv.length);
    expect(await stored?.text()).toBe(csv);
  });

  it("leaves nothing in staging", async () => {
    expect((await env.BLOBS.list({ prefix: "staging/" })).objects).toHaveLength(0);
  });
});

describe("POST /v1/submissions: a file with errors", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;
  let problem: Awaited<ReturnType<typeof problemOf>>;

  beforeAll(async () => {
    before = await storedCounts();
    response = await submit({ csv: sentiment });
    problem = await problemOf(response);
  });

  it("is refused (422) as an invalid task file", () => {
    expect(response.status).toBe(422);
    expect(problem).toMatchObject({ code: "invalid_task_file", status: 422 });
  });

  it("is answered with the full report, in its schema", () => {
    const report = problem.report as { issues: { code: string; line: number; column: string }[] };
    expect(validateValidationReport(report)).toBe(true);
    expect(report.issues.map((issue) => `${issue.code}@${issue.line}/${issue.column}`)).toEqual([
      "legacy_column@1/filled_template",
      "legacy_column@1/answer_ix",
    ]);
  });

  it("stores nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("POST /v1/submissions: QA_bias-v2", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let problem: Awaited<ReturnType<typeof problemOf>>;

  beforeAll(async () => {
    before = await storedCounts();
    problem = await problemOf(await submit({ csv: qaBias, metadata: { ...VALID_METADATA, taskType: "logodds" } }));
  });

  it("is refused only for having fewer than 300 examples", () => {
    expect(problem.report).toMatchObject({ taskType: "logodds", counts: { too_few_examples: 1 }, errorCount: 1 });
  });

  it("stores nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("POST /v1/submissions: metadata with problems", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;

  beforeAll(async () => {
    before = await storedCounts();
    const { title: _title, ...withoutTitle } = VALID_METADATA;
    response = await submit({
      csv: lambada,
      metadata: { ...withoutTitle, contactEmail: "not-an-email", authors: [{}], colour: "red" },
    });
  });

  it("is refused (400), naming each problem", async () => {
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.code).toBe("invalid_metadata");
    expect(problem.fields).toEqual(
      expect.arrayContaining([
        { field: "title", message: "is required" },
        { field: "colour", message: "is not a known field" },
        { field: "authors[0].name", message: "is required" },
        { field: "contactEmail", message: 'must match format "email"' },
      ]),
    );
  });

  it("stores nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("POST /v1/submissions: metadata JSON with a key given twice", () => {
  const twice = (inner: string) => `{"title": "First", ${inner} "title": "Second"}`;
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let topLevel: Awaited<ReturnType<typeof problemOf>>;

  beforeAll(async () => {
    before = await storedCounts();
    const rest = JSON.stringify(VALID_METADATA)
      .slice(1, -1)
      .replace(/"title":"[^"]*",/, "");
    topLevel = await problemOf(await submit({ csv: lambadaVariant(), metadata: twice(`${rest},`) }));
  });

  it("is refused (400) with metadata_duplicate_key, naming the key", () => {
    expect(topLevel).toMatchObject({ status: 400, code: "metadata_duplicate_key", key: "title" });
  });

  it("stores nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });

  it("is refused at any depth, naming the key's path", async () => {
    const metadata = JSON.stringify(VALID_METADATA).replace(
      '"name":"Ada Researcher"',
      '"name":"Ada Researcher","name":"Someone Else"',
    );
    expect(await problemOf(await submit({ csv: lambadaVariant(), metadata }))).toMatchObject({
      status: 400,
      code: "metadata_duplicate_key",
      key: "authors[0].name",
    });
  });

  it("is told apart from the same name in two different objects, which is fine", async () => {
    const metadata = {
      ...VALID_METADATA,
      authors: [
        { name: "Ada Researcher", agreesToBeNamed: true },
        { name: "Grace Researcher", agreesToBeNamed: true },
      ],
    };
    expect((await submit({ csv: lambadaVariant(), metadata })).status).toBe(201);
  });

  it("is refused in a metadata edit too (PUT /v1/submissions/{id}/metadata)", async () => {
    const created = await (await submit({ csv: lambadaVariant() })).json<{ id: string; submitterToken: string }>();
    const metadata = JSON.stringify(VALID_METADATA).replace('"dataLicence":', '"dataLicence":"MIT","dataLicence":');
    const response = await exports.default.fetch(`http://isv.test/v1/submissions/${created.id}/metadata`, {
      method: "PUT",
      body: `{"metadata":${metadata}}`,
      headers: { authorization: `Bearer ${created.submitterToken}`, "content-type": "application/json" },
    });
    expect(await problemOf(response)).toMatchObject({
      status: 400,
      code: "metadata_duplicate_key",
      key: "metadata.dataLicence",
    });
  });
});

describe("POST /v1/submissions: malformed requests", () => {
  it("answers 400 when the metadata is not JSON", async () => {
    expect((await problemOf(await submit({ csv: lambada, metadata: "{nope" }))).code).toBe("invalid_metadata");
  });

  it("answers 400 when there are no parts", async () => {
    expect((await problemOf(await submit({}))).code).toBe("missing_part");
  });

  it("answers 415 for a body that is not multipart", async () => {
    const { exports } = await import("cloudflare:workers");
    const response = await exports.default.fetch("http://isv.test/v1/submissions", {
      method: "POST",
      body: lambada,
      headers: { "content-type": "text/csv" },
    });
    expect(response.status).toBe(415);
    expect((await problemOf(response)).code).toBe("unsupported_media_type");
  });
});

describe("POST /v1/submissions: a file over the limit", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let declared: Response;
  let streamed: Response;

  beforeAll(async () => {
    before = await storedCounts();
    declared = await submit({ csv: lambada, headers: { "content-length": String(500 * 1024 * 1024) } });
    const big = `prompt,completion\n${"The sky is, blue\n".repeat(7_000_000)}`;
    streamed = await submit({ csv: big, metadata: { ...VALID_METADATA, taskType: "sequence_prob" } });
  });

  it("is refused (413) when its length is declared up front", async () => {
    expect(declared.status).toBe(413);
    expect((await problemOf(declared)).code).toBe("payload_too_large");
  });

  it("is refused (413) when the limit is found while streaming, naming the limit", async () => {
    expect(streamed.status).toBe(413);
    expect(await problemOf(streamed)).toMatchObject({ code: "payload_too_large", limitBytes: 104857600 });
  });

  it("stores nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("errors and documents", () => {
  it("answers unknown routes with problem+json and no internals", async () => {
    const { exports } = await import("cloudflare:workers");
    const response = await exports.default.fetch("http://isv.test/v1/nothing-here");
    expect(response.status).toBe(404);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ code: "not_found", type: "/problems/not_found" });
    expect(typeof problem.requestId).toBe("string");
  });

  it("renders the API reference page from the OpenAPI document, one section per operation", async () => {
    const { exports } = await import("cloudflare:workers");
    const document = await (await exports.default.fetch("http://isv.test/openapi.json")).json<{
      paths: Record<string, Record<string, { operationId: string }>>;
    }>();
    const page = await exports.default.fetch("http://isv.test/docs");
    expect(page.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    const html = await page.text();
    const operations = Object.values(document.paths).flatMap((operations) =>
      Object.values(operations).map((operation) => operation.operationId),
    );
    expect(html.match(/<section id="/g)).toHaveLength(operations.length);
    for (const id of operations) expect(html).toContain(`<section id="${id}">`);
  });

  it("documents every route the app serves in /openapi.json", async () => {
    const { exports } = await import("cloudflare:workers");
    const { createApp } = await import("../../src/app");
    const document = await (await exports.default.fetch("http://isv.test/openapi.json")).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const served = createApp()
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/$/, "$1")}`);
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    expect(new Set(served)).toEqual(new Set(documented));
  });
});
