import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  const result = await run(process.execPath, [
    join(ROOT, "bin", "isv.mjs"),
    "validate",
    file,
    "--type",
    "classification",
    "--json",
  ]).catch((error: { stdout: string }) => error);
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

    const read = await fetch(`${server.url}/v1/submissions/${body.id}`, {
      headers: { authorization: `Bearer ${body.submitterToken}` },
    });
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
    const created = await run(process.execPath, [
      join(ROOT, "bin", "isv.mjs"),
      "token",
      "create",
      "--role",
      "organiser",
      "--label",
      "e2e",
      "--persist-to",
      state,
    ]);
    const token = created.stdout.trim();
    expect(token).toMatch(/^isv_ot_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain("created an organiser token (e2e)");
    const path = `${server.url}/v1/review/submissions/${crypto.randomUUID()}/analysis`;
    expect((await fetch(path)).status).toBe(401);
    const withToken = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
    expect(withToken.status).toBe(404);
    expect(await withToken.json()).toMatchObject({ code: "not_found" });
  }, 120_000); // isv token create retries a local wrangler call that hangs (30 s each): room for one retry

  it("validates metadata with the build-time schemas (no runtime code generation in workerd)", async () => {
    const form = new FormData();
    form.append("metadata", JSON.stringify({ ...METADATA, contactEmail: "nope" }));
    form.append("file", new Blob(["prompt,completion\n"]), "task.csv");
    const response = await fetch(`${server.url}/v1/submissions`, { method: "POST", body: form });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: "invalid_metadata",
      fields: [{ field: "contactEmail", message: 'must match format "email"' }],
    });
  });

  it("enforces the rounds an admin sets: uploads after the close are refused with the deadline, and editing ends with the round", async () => {
    const run = promisify(execFile);
    const admin = (
      await run(process.execPath, [
        join(ROOT, "bin", "isv.mjs"),
        "token",
        "create",
        "--role",
        "admin",
        "--persist-to",
        state,
      ])
    ).stdout.trim();
    const asAdmin = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      });
    const defaults = ((await (await asAdmin("/v1/review/settings")).json()) as { settings: Record<string, unknown> })
      .settings;
    const hour = 3_600_000;
    const iso = (offset: number) => new Date(Date.now() + offset).toISOString();
    const saveRounds = async (rounds: object[]) =>
      expect(
        (await asAdmin("/v1/review/settings", { method: "PUT", body: JSON.stringify({ ...defaults, rounds }) })).status,
      ).toBe(200);

    const firstClose = iso(hour);
    await saveRounds([{ name: "Round 1", opensAt: iso(-2 * hour), closesAt: firstClose }]);
    expect(await (await fetch(`${server.url}/`)).text()).toContain(
      `Submissions for Round 1 are open until ${firstClose}.`,
    );
    const variant = join(state, "syllogism-variant.csv");
    writeFileSync(
      variant,
      readFileSync(join(REAL_TASKS, "syllogism-0shot.csv"), "utf8") +
        `9999,"Q: Is this a valid syllogism (${crypto.randomUUID()})?\nA:","[' Yes', ' No']",1\n`,
    );
    const created = await upload(server.url, variant);
    const { id, submitterToken } = (await created.json()) as { id: string; submitterToken: string };
    expect(created.status).toBe(201);

    // The admin moves the deadline into the past and schedules the next round.
    const closedAt = iso(-hour);
    const opensAt = iso(24 * hour);
    await saveRounds([
      { name: "Round 1", opensAt: iso(-2 * hour), closesAt: closedAt },
      { name: "Round 2", opensAt, closesAt: iso(48 * hour) },
    ]);
    const late = await upload(server.url, join(REAL_TASKS, "syllogism-0shot.csv"));
    expect(late.status).toBe(403);
    expect(await late.json()).toMatchObject({
      code: "submissions_closed",
      detail: `Submissions for Round 1 closed at ${closedAt}. Round 2 opens at ${opensAt}.`,
      closedAt,
      nextOpensAt: opensAt,
    });
    const settings = (await (await fetch(`${server.url}/v1/settings`)).json()) as { submissionsOpen: boolean };
    expect(settings.submissionsOpen).toBe(false);
    expect(await (await fetch(`${server.url}/`)).text()).toContain(
      `<p class="status">Submissions for Round 1 closed at ${closedAt}. Round 2 opens at ${opensAt}.</p>`,
    );

    const edit = () =>
      fetch(`${server.url}/v1/submissions/${id}/metadata`, {
        method: "PUT",
        body: JSON.stringify({ metadata: METADATA }),
        headers: { authorization: `Bearer ${submitterToken}`, "content-type": "application/json" },
      });
    const refused = await edit();
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      code: "not_editable",
      detail: `Editing closed with Round 1 at ${closedAt}.`,
      closedAt,
    });

    // Organisers asking for changes reopen editing for this task alone, deadline or not.
    expect(
      (
        await asAdmin(`/v1/review/submissions/${id}/decision`, {
          method: "POST",
          body: JSON.stringify({ decision: "request_changes", note: "Name the source." }),
        })
      ).status,
    ).toBe(200);
    const answered = await edit();
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ state: "valid" });
    await saveRounds([]);
  }, 120_000);
});
