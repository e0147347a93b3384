import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import lambada from "../../../shared/samples/real/tasks/lambada-1k.csv?raw";
import sentiment from "../../../shared/samples/real/tasks/sentiment_analysis.csv?raw";
import syllogism from "../../../shared/samples/real/tasks/syllogism-0shot.csv?raw";
import qaBias from "../../../shared/samples/real/tasks/QA_bias-v2.csv?raw";
import { validateExample, validateValidationReport } from "../../src/generated/validators";
import {
  VALID_METADATA,
  getSubmission,
  lambadaVariant,
  problemOf,
  storedCounts,
  submit,
  uniqueVariant,
} from "./helpers";

const uniqueSyllogism = (): string =>
  uniqueVariant(syllogism, (tag) => `9999,"Q: Is ${tag} valid?\nA:","[' Yes', ' No']",0`);

describe("POST /v1/submissions: valid files", () => {
  it("stores a real prize file: CSV by sha256, examples as JSONL, record in D1; returns the token once", async () => {
    const before = await storedCounts();
    const csv = uniqueSyllogism();
    const response = await submit({ csv });
    expect(response.status).toBe(201);
    const body = await response.json<{
      id: string;
      state: string;
      submitterToken: string;
      csvSha256: string;
      report: unknown;
      examples: number;
    }>();
    expect(body).toMatchObject({ state: "valid", taskType: "classification", examples: 1001 });
    expect(body.submitterToken).toMatch(/^isv_st_[A-Za-z0-9_-]{43}$/);
    expect(validateValidationReport(body.report)).toBe(true);
    expect(response.headers.get("location")).toBe(`/v1/submissions/${body.id}`);

    const stored = await env.BLOBS.get(`csv/${body.csvSha256}.csv`);
    expect(await stored?.text()).toBe(csv);
    const examples = await env.BLOBS.get(`examples/${body.csvSha256}/classification.jsonl`);
    const lines = (await examples!.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(1001);
    expect(lines.every((example) => validateExample(example))).toBe(true);
    expect(lines[0]).toEqual({
      taskType: "classification",
      row: 1,
      line: 2,
      prompt:
        "Q: Is this a valid syllogism?\nAll men are ambitious.\nAll men study hard.\nTherefore men study hard because they are ambitious.\nA:",
      classes: [" Yes", " No"],
      answerIndex: 1,
    });
    const row = await env.DB.prepare("SELECT submitter_token_hash FROM submissions WHERE id = ?1")
      .bind(body.id)
      .first<{ submitter_token_hash: string }>();
    expect(row?.submitter_token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.submitter_token_hash).not.toContain(body.submitterToken);
    expect(await storedCounts()).toEqual({ rows: before.rows + 1, objects: before.objects + 2 });
  });

  it("returns the existing submission, without a token, when the same bytes come again", async () => {
    const csv = lambadaVariant();
    const first = await (await submit({ csv })).json<{ id: string }>();
    const before = await storedCounts();
    const again = await submit({ csv, metadata: { ...VALID_METADATA, title: "Another title" } });
    expect(again.status).toBe(200);
    const body = await again.json<Record<string, unknown>>();
    expect(body).toMatchObject({ id: first.id, duplicate: true, title: "Syllogism validity" });
    expect(body).not.toHaveProperty("submitterToken");
    expect(await storedCounts()).toEqual(before);
  });

  it("lets the submitter read state and report with the token, and nobody else", async () => {
    const created = await (await submit({ csv: lambadaVariant() })).json<{ id: string; submitterToken: string }>();
    const mine = await getSubmission(created.id, created.submitterToken);
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ id: created.id, state: "valid", taskType: "sequence_prob" });

    expect((await problemOf(await getSubmission(created.id))).code).toBe("unauthorized");
    const wrongToken = await getSubmission(created.id, `isv_st_${"A".repeat(43)}`);
    expect(wrongToken.status).toBe(404);
    const unknownId = await getSubmission(crypto.randomUUID(), created.submitterToken);
    expect(await problemOf(wrongToken)).toMatchObject({ code: "submission_not_found" });
    expect(await problemOf(unknownId)).toMatchObject({ code: "submission_not_found" });
  });

  it("streams a file larger than one R2 part through a multipart upload and copies it into place", async () => {
    const header = "prompt,completion\n";
    const rows = Array.from({ length: 120_000 }, (_, i) => `Example number ${i} says the sky is, blue ${i}\n`).join("");
    const csv = `${header + rows}Tagged ${crypto.randomUUID()}, end\n`;
    expect(csv.length).toBeGreaterThan(5 * 1024 * 1024);
    const response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "sequence_prob" } });
    expect(response.status).toBe(201);
    const body = await response.json<{ csvSha256: string; examples: number }>();
    expect(body.examples).toBe(120_001);
    const stored = await env.BLOBS.get(`csv/${body.csvSha256}.csv`);
    expect(stored?.size).toBe(csv.length);
    expect(await stored?.text()).toBe(csv);
    expect((await env.BLOBS.list({ prefix: "staging/" })).objects).toHaveLength(0);
  }, 60_000);
});

describe("POST /v1/submissions: invalid input stores nothing", () => {
  it("answers 422 with the full report for a file with errors", async () => {
    const before = await storedCounts();
    const response = await submit({ csv: sentiment });
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ code: "invalid_task_file", status: 422 });
    const report = problem.report as { issues: { code: string; line: number; column: string }[] };
    expect(validateValidationReport(report)).toBe(true);
    expect(report.issues.map((issue) => `${issue.code}@${issue.line}/${issue.column}`)).toEqual([
      "legacy_column@1/filled_template",
      "legacy_column@1/answer_ix",
    ]);
    expect(await storedCounts()).toEqual(before);
  });

  it("rejects QA_bias-v2 only for having fewer than 300 examples", async () => {
    const before = await storedCounts();
    const problem = await problemOf(
      await submit({ csv: qaBias, metadata: { ...VALID_METADATA, taskType: "logodds" } }),
    );
    expect(problem.report).toMatchObject({ taskType: "logodds", counts: { too_few_examples: 1 }, errorCount: 1 });
    expect(await storedCounts()).toEqual(before);
  });

  it("answers 400 naming each metadata problem", async () => {
    const before = await storedCounts();
    const { title: _title, ...withoutTitle } = VALID_METADATA;
    const response = await submit({
      csv: lambada,
      metadata: { ...withoutTitle, contactEmail: "not-an-email", authors: [{}], colour: "red" },
    });
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
    expect(await storedCounts()).toEqual(before);
  });

  it("answers 400 when metadata is not JSON, is missing, or comes after the file", async () => {
    expect((await problemOf(await submit({ csv: lambada, metadata: "{nope" }))).code).toBe("invalid_metadata");
    expect((await problemOf(await submit({ csv: lambada, fileFirst: true }))).code).toBe("missing_part");
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

  it("answers 413 when the file is over the limit, whether declared up front or found while streaming", async () => {
    const before = await storedCounts();
    const declared = await submit({ csv: lambada, headers: { "content-length": String(500 * 1024 * 1024) } });
    expect(declared.status).toBe(413);
    expect((await problemOf(declared)).code).toBe("payload_too_large");
    const big = `prompt,completion\n${"The sky is, blue\n".repeat(7_000_000)}`;
    const streamed = await submit({ csv: big, metadata: { ...VALID_METADATA, taskType: "sequence_prob" } });
    expect(streamed.status).toBe(413);
    expect(await problemOf(streamed)).toMatchObject({ code: "payload_too_large", limitBytes: 104857600 });
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
