import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer } from "../../scripts/dev-server.mjs";
import { REAL_TASKS, ROOT, freePort, createTokenWithCli, isv } from "./helpers";

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
    // Many uploads from one local client here: the upload limit is tested in test/workers/intake-limits.test.ts.
    server = await startDevServer({
      port: await freePort(),
      persistTo: state,
      vars: { DEFAULT_FAMILIES: "", UPLOADS_PER_HOUR: "100000" },
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  describe("a real prize file", () => {
    const file = join(REAL_TASKS, "syllogism-0shot.csv");
    let response: Response;
    let body: { id: string; submitterToken: string; report: unknown };

    beforeAll(async () => {
      response = await upload(server.url, file);
      body = (await response.clone().json()) as typeof body;
    });

    it("is accepted with the same report as the CLI gives", async () => {
      expect(response.status).toBe(201);
      expect(body.report).toEqual(await cliReport(file));
    });

    it("can be read back by the submitter", async () => {
      const read = await fetch(`${server.url}/v1/submissions/${body.id}`, {
        headers: { authorization: `Bearer ${body.submitterToken}` },
      });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ id: body.id, state: "valid", examples: 1000 });
    });
  });

  describe("an early-schema file", () => {
    const file = join(REAL_TASKS, "sentiment_analysis.csv");
    let response: Response;
    let problem: { code: string; report: unknown };

    beforeAll(async () => {
      response = await upload(server.url, file);
      problem = (await response.clone().json()) as typeof problem;
    });

    it("is refused (422) as problem+json", () => {
      expect(response.status).toBe(422);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(problem.code).toBe("invalid_task_file");
    });

    it("is refused with the same report as the CLI gives", async () => {
      expect(problem.report).toEqual(await cliReport(file));
    });
  });

  describe("a token made by `isv token create`", () => {
    let created: { stdout: string; stderr: string };
    let token: string;
    const path = () => `${server.url}/v1/review/submissions/${crypto.randomUUID()}/analysis`;

    // isv token create retries a local wrangler call that hangs (30 s each): room for one retry.
    beforeAll(async () => {
      created = await createTokenWithCli("organiser", state, "e2e");
      token = created.stdout.trim();
    }, 120_000);

    it("is printed alone on stdout, as an organiser token, and the CLI says what it made", () => {
      expect(token).toMatch(/^isv_ot_[A-Za-z0-9_-]{43}$/);
      expect(created.stderr).toContain("created an organiser token (e2e)");
    });

    it("is needed by the organiser API: a request without one gets 401", async () => {
      expect((await fetch(path())).status).toBe(401);
    });

    it("is accepted by the organiser API", async () => {
      const withToken = await fetch(path(), { headers: { authorization: `Bearer ${token}` } });
      expect(withToken.status).toBe(404);
      expect(await withToken.json()).toMatchObject({ code: "not_found" });
    });
  });

  describe("a token revoked with `isv token revoke`", () => {
    let token: string;
    let id: string;
    let revoked: { code: number; stdout: string; stderr: string };
    let listed: string;

    beforeAll(async () => {
      const created = await createTokenWithCli("organiser", state, "to revoke");
      token = created.stdout.trim();
      id = /id ([0-9a-f-]{36})/.exec(created.stderr)?.[1] ?? "";
      revoked = await isv("token", "revoke", id, "--persist-to", state);
      listed = (await isv("token", "list", "--persist-to", state)).stdout;
    }, 240_000);

    it("is reported revoked by the CLI", () => {
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toMatch(new RegExp(`^revoked ${id} \\(organiser, to revoke\\) at \\d{4}-`));
    });

    it("is listed as revoked, with its id, role and label and no hash", () => {
      const line = listed.split("\n").find((entry) => entry.startsWith(id)) ?? "";
      expect(line).toMatch(new RegExp(`^${id}  organiser  revoked \\S+  created \\S+  to revoke$`));
    });

    it("is refused by the organiser API at once (401)", async () => {
      const response = await fetch(`${server.url}/v1/review/audit`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(401);
    });
  });

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

  // workerd needs every request body read to its end before the next request on the connection; a body answered
  // early and left unread made the next POST a 503 "Your worker restarted mid-request" (issue 13, finding 6).
  describe("bodies answered before they are read, and parts in either order", () => {
    const syllogism = readFileSync(join(REAL_TASKS, "syllogism-0shot.csv"), "utf8");
    const variant = (): string =>
      `${syllogism}9999,"Q: Is this syllogism (${crypto.randomUUID()}) valid?\nA:","[' Yes', ' No']",1\n`;
    const post = (parts: [string, Blob][]): Promise<Response> => {
      const form = new FormData();
      for (const [name, value] of parts) form.append(name, value, name === "file" ? "task.csv" : undefined);
      return fetch(`${server.url}/v1/submissions`, { method: "POST", body: form });
    };
    const metadataPart = (metadata: object): [string, Blob] => [
      "metadata",
      new Blob([JSON.stringify(metadata)], { type: "application/json" }),
    ];
    const filePart = (csv: string): [string, Blob] => ["file", new Blob([csv], { type: "text/csv" })];
    /** Six MiB of valid rows after the header, so the body is still arriving when the answer is known. */
    const largeCsv = () => variant() + `0,"A filler prompt:","[' Yes', ' No']",0\n`.repeat(150_000);
    const answer = async (response: Response) => ({
      status: response.status,
      type: response.headers.get("content-type"),
      code: ((await response.json().catch(() => ({}))) as { code?: string }).code,
    });

    describe("bad metadata sent before a large file", () => {
      let refused: Awaited<ReturnType<typeof answer>>;
      let next: Awaited<ReturnType<typeof answer>>;

      beforeAll(async () => {
        refused = await answer(await post([metadataPart({ ...METADATA, contactEmail: "nope" }), filePart(largeCsv())]));
        next = await answer(await post([metadataPart(METADATA), filePart(variant())]));
      });

      it("is refused (400) as problem+json", () => {
        expect(refused).toEqual({ status: 400, type: "application/problem+json", code: "invalid_metadata" });
      });

      it("leaves the next upload unaffected (201)", () => {
        expect(next).toEqual({ status: 201, type: "application/json", code: undefined });
      });
    });

    describe("a file whose validation stops early (a quote never closed)", () => {
      let refused: Awaited<ReturnType<typeof answer>>;
      let next: Awaited<ReturnType<typeof answer>>;

      beforeAll(async () => {
        const unclosed = `${variant()}"A quote that never closes, ${"and on ".repeat(500_000)}\n`;
        refused = await answer(await post([metadataPart(METADATA), filePart(unclosed)]));
        next = await answer(await post([metadataPart(METADATA), filePart(variant())]));
      });

      it("is refused (422) as an invalid task file", () => {
        expect(refused).toEqual({ status: 422, type: "application/problem+json", code: "invalid_task_file" });
      });

      it("leaves the next upload unaffected (201)", () => {
        expect(next).toEqual({ status: 201, type: "application/json", code: undefined });
      });
    });

    describe("a file sent before its metadata", () => {
      let created: Awaited<ReturnType<typeof answer>>;
      let next: Awaited<ReturnType<typeof answer>>;

      beforeAll(async () => {
        created = await answer(await post([filePart(largeCsv()), metadataPart(METADATA)]));
        next = await answer(await post([metadataPart(METADATA), filePart(variant())]));
      });

      it("is accepted (201)", () => {
        expect(created).toEqual({ status: 201, type: "application/json", code: undefined });
      });

      it("leaves the next upload unaffected (201)", () => {
        expect(next).toEqual({ status: 201, type: "application/json", code: undefined });
      });
    });

    describe("a file sent before bad metadata", () => {
      let refused: Awaited<ReturnType<typeof answer>>;
      let next: Awaited<ReturnType<typeof answer>>;

      beforeAll(async () => {
        refused = await answer(await post([filePart(largeCsv()), metadataPart({ ...METADATA, contactEmail: "nope" })]));
        next = await answer(await post([metadataPart(METADATA), filePart(variant())]));
      });

      it("is refused (400) for its metadata", () => {
        expect(refused).toEqual({ status: 400, type: "application/problem+json", code: "invalid_metadata" });
      });

      it("leaves the next upload unaffected (201)", () => {
        expect(next).toEqual({ status: 201, type: "application/json", code: undefined });
      });
    });
  });

  describe("the rounds an admin sets", () => {
    const hour = 3_600_000;
    const iso = (offset: number) => new Date(Date.now() + offset).toISOString();
    const firstClose = iso(hour);
    let asAdmin: (path: string, init?: RequestInit) => Promise<Response>;
    let saveRounds: (rounds: object[]) => Promise<void>;
    let openPage: string;
    let created: Response;
    let id: string;
    let submitterToken: string;

    beforeAll(async () => {
      const admin = (await createTokenWithCli("admin", state)).stdout.trim();
      asAdmin = (path: string, init: RequestInit = {}) =>
        fetch(`${server.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        });
      const defaults = ((await (await asAdmin("/v1/review/settings")).json()) as { settings: Record<string, unknown> })
        .settings;
      saveRounds = async (rounds: object[]) =>
        expect(
          (await asAdmin("/v1/review/settings", { method: "PUT", body: JSON.stringify({ ...defaults, rounds }) }))
            .status,
        ).toBe(200);

      await saveRounds([{ name: "Round 1", opensAt: iso(-2 * hour), closesAt: firstClose }]);
      openPage = await (await fetch(`${server.url}/`)).text();
      const variant = join(state, "syllogism-variant.csv");
      writeFileSync(
        variant,
        readFileSync(join(REAL_TASKS, "syllogism-0shot.csv"), "utf8") +
          `9999,"Q: Is this a valid syllogism (${crypto.randomUUID()})?\nA:","[' Yes', ' No']",1\n`,
      );
      created = await upload(server.url, variant);
      ({ id, submitterToken } = (await created.clone().json()) as { id: string; submitterToken: string });
    }, 120_000);
    afterAll(async () => {
      await saveRounds?.([]);
    });

    it("are announced on the page while a round is open, with its close", () => {
      expect(openPage).toContain(`Submissions for Round 1 are open until ${firstClose}.`);
    });

    it("take uploads while a round is open", () => {
      expect(created.status).toBe(201);
    });

    // The admin moves the deadline into the past and schedules the next round.
    describe("once the round has closed and the next is scheduled", () => {
      const closedAt = iso(-hour);
      const opensAt = iso(24 * hour);
      let late: Response;
      let settings: { submissionsOpen: boolean };
      let closedPage: string;
      let refusedEdit: Response;
      const edit = () =>
        fetch(`${server.url}/v1/submissions/${id}/metadata`, {
          method: "PUT",
          body: JSON.stringify({ metadata: METADATA }),
          headers: { authorization: `Bearer ${submitterToken}`, "content-type": "application/json" },
        });

      beforeAll(async () => {
        await saveRounds([
          { name: "Round 1", opensAt: iso(-2 * hour), closesAt: closedAt },
          { name: "Round 2", opensAt, closesAt: iso(48 * hour) },
        ]);
        late = await upload(server.url, join(REAL_TASKS, "syllogism-0shot.csv"));
        settings = (await (await fetch(`${server.url}/v1/settings`)).json()) as typeof settings;
        closedPage = await (await fetch(`${server.url}/`)).text();
        refusedEdit = await edit();
      });

      it("refuse uploads (403), naming the close and the next round's opening", async () => {
        expect(late.status).toBe(403);
        expect(await late.json()).toMatchObject({
          code: "submissions_closed",
          detail: `Submissions for Round 1 closed at ${closedAt}. Round 2 opens at ${opensAt}.`,
          closedAt,
          nextOpensAt: opensAt,
        });
      });

      it("say in the public settings that submissions are closed", () => {
        expect(settings.submissionsOpen).toBe(false);
      });

      it("say on the page that submissions are closed, and when the next round opens", () => {
        expect(closedPage).toContain(
          `<p class="status">Submissions for Round 1 closed at ${closedAt}. Round 2 opens at ${opensAt}.</p>`,
        );
      });

      it("end editing with the round (409), naming the close", async () => {
        expect(refusedEdit.status).toBe(409);
        expect(await refusedEdit.json()).toMatchObject({
          code: "not_editable",
          detail: `Editing closed with Round 1 at ${closedAt}.`,
          closedAt,
        });
      });

      // Organisers asking for changes reopen editing for this task alone, deadline or not.
      it("let a task whose changes organisers asked for be edited after the close", async () => {
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
      });
    });
  });
});
