import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer } from "../../scripts/dev-server.mjs";
import { REAL_TASKS, ROOT, freePort } from "./helpers";

/**
 * The real Worker under `wrangler dev`: the test pool allows runtime code generation and Node APIs that
 * production forbids, so this is where such a mistake would fail (../shared/STACK.md, trap 1).
 */
const METADATA = {
  title: "Syllogism validity",
  taskType: "classification",
  authors: [{ name: "Ada Researcher" }],
  contactEmail: "ada@example.org",
  description: "Asks whether a syllogism is valid when its conclusion sounds plausible.",
  whyItMatters: "Models that confuse plausibility with validity reason unreliably.",
  expectedInverseScaling: "Larger models rely more on prior plausibility.",
  correctBehaviour: "Answer by logical form alone.",
  dataGeneration: "Templated from lists of subjects and predicates.",
  dataLicence: "CC-BY-4.0",
};

function upload(url: string, file: string): Promise<Response> {
  const form = new FormData();
  form.append("metadata", JSON.stringify(METADATA));
  form.append("file", new Blob([readFileSync(file)], { type: "text/csv" }), "task.csv");
  return fetch(`${url}/v1/submissions`, { method: "POST", body: form });
}

async function cliReport(file: string): Promise<unknown> {
  const run = promisify(execFile);
  const result = await run(process.execPath, [join(ROOT, "bin", "isv.mjs"), "validate", file, "--type", "classification", "--json"]).catch(
    (error: { stdout: string }) => error,
  );
  return JSON.parse(result.stdout);
}

describe("the Worker under wrangler dev", () => {
  let server: { url: string; stop: () => Promise<void> };
  const state = mkdtempSync(join(tmpdir(), "isv-e2e-"));

  beforeAll(async () => {
    // Evaluation on upload is off here (this suite checks intake and auth; evaluation-e2e covers evaluation).
    server = await startDevServer({ port: await freePort(), persistTo: state, vars: { DEFAULT_FAMILIES: "" } });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it("accepts a real prize file and gives the same report as the CLI", async () => {
    const file = join(REAL_TASKS, "syllogism-0shot.csv");
    const response = await upload(server.url, file);
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; submitterToken: string; report: unknown };
    expect(body.report).toEqual(await cliReport(file));

    const read = await fetch(`${server.url}/v1/submissions/${body.id}`, { headers: { authorization: `Bearer ${body.submitterToken}` } });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: body.id, state: "valid", examples: 1000 });
  });

  it("rejects an early-schema file with the same report as the CLI, as problem+json", async () => {
    const file = join(REAL_TASKS, "sentiment_analysis.csv");
    const response = await upload(server.url, file);
    expect(response.status).toBe(422);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await response.json()) as { code: string; report: unknown };
    expect(problem.code).toBe("invalid_task_file");
    expect(problem.report).toEqual(await cliReport(file));
  });

  it("accepts a token made by `isv token create` on the organiser API, and refuses requests without one", async () => {
    const run = promisify(execFile);
    const created = await run(process.execPath, [join(ROOT, "bin", "isv.mjs"), "token", "create", "--role", "organiser", "--label", "e2e", "--persist-to", state]);
    const token = created.stdout.trim();
    expect(token).toMatch(/^isv_ot_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain("created an organiser token (e2e)");
    const path = `${server.url}/v1/review/submissions/${crypto.randomUUID()}/analysis`;
    expect((await fetch(path)).status).toBe(401);
    const withToken = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
    expect(withToken.status).toBe(404);
    expect(await withToken.json()).toMatchObject({ code: "not_found" });
  });

  it("validates metadata with the build-time schemas (no runtime code generation in workerd)", async () => {
    const form = new FormData();
    form.append("metadata", JSON.stringify({ ...METADATA, contactEmail: "nope" }));
    form.append("file", new Blob(["prompt,completion\n"]), "task.csv");
    const response = await fetch(`${server.url}/v1/submissions`, { method: "POST", body: form });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_metadata", fields: [{ field: "contactEmail", message: 'must match format "email"' }] });
  });
});
