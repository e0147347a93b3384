import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Papa from "papaparse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFERENCE_CONFIG, startDevServer } from "../../scripts/dev-server.mjs";
import { trainReferenceFamily } from "../../src/reference/family";
import { classificationLoss, continuationLogprob } from "../../src/reference/trends";
import { parseClassesLiteral } from "../../src/validate/classes-literal";
import { defined } from "../defined";
import { ROOT, freePort, createTokenWithCli } from "./helpers";

/**
 * Evaluation end to end, all real: the service under wrangler dev (local D1, R2, Queue and Durable Object),
 * the reference family's Worker over HTTP, a fixture task submitted over HTTP and queued automatically.
 */
const TASK = join(ROOT, "fixtures/tasks/reference/memo-trap-inverse.csv");
const METADATA = JSON.parse(readFileSync(join(ROOT, "fixtures/metadata/classification.json"), "utf8"));
const TERMINAL = ["evaluated", "partially_evaluated", "failed"];

interface Summary {
  id: string;
  state: string;
  reason: string | null;
  models: { model: string; done: number; total: number; mean: number | null }[];
  counters: { requests: number; retries: number; cacheHits: number; tokensUsed: number };
}

describe("evaluation through the real Queue and the reference server over HTTP", () => {
  let reference: { url: string; stop: () => Promise<void> };
  let faulty: { url: string; stop: () => Promise<void> };
  let service: { url: string; stop: () => Promise<void> };
  const state = mkdtempSync(join(tmpdir(), "isv-eval-"));
  let organiserToken = "";
  let adminToken = "";

  beforeAll(async () => {
    reference = await startDevServer({ config: REFERENCE_CONFIG, port: await freePort() });
    // The same models behind a server that fails 20% of requests: 429s, 500s, timeouts and JSON cut short.
    faulty = await startDevServer({
      config: REFERENCE_CONFIG,
      port: await freePort(),
      vars: {
        FAULT_SEED: "42",
        FAULT_RATE_429: "0.05",
        FAULT_RATE_500: "0.05",
        FAULT_RATE_TIMEOUT: "0.05",
        FAULT_RATE_MALFORMED: "0.05",
        FAULT_TIMEOUT_MS: "300",
      },
    });
    service = await startDevServer({
      port: await freePort(),
      persistTo: state,
      // The faulty server is on loopback too: allowed for local development (REFERENCE_BASE_URL is by itself).
      vars: {
        DEFAULT_FAMILIES: "isv-reference",
        REFERENCE_BASE_URL: `${reference.url}/v1`,
        OUTBOUND_ALLOW_HOSTS: "127.0.0.1",
      },
    });
    organiserToken = (await createTokenWithCli("organiser", state)).stdout.trim();
    // Registering a family is for admins.
    adminToken = (await createTokenWithCli("admin", state)).stdout.trim();
  });
  afterAll(async () => {
    await service?.stop();
    await reference?.stop();
    await faulty?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  const organiser = (path: string, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${organiserToken}`, ...(init.headers ?? {}) },
    });

  async function waitForEvaluation(id: string): Promise<Summary> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const summary = (await (await organiser(`/v1/review/evaluations/${id}`)).json()) as Summary;
      if (TERMINAL.includes(summary.state)) return summary;
      if (Date.now() > deadline)
        throw new Error(`evaluation ${id} still ${summary.state}: ${JSON.stringify(summary.models)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  describe("a valid submission on the public family", () => {
    let created: Response;
    let submission: {
      id: string;
      submitterToken: string;
      evaluations: { family: string; id: string; state: string }[];
    };
    let summary: Summary;

    beforeAll(async () => {
      const form = new FormData();
      form.append("metadata", JSON.stringify(METADATA));
      form.append("file", new Blob([readFileSync(TASK)], { type: "text/csv" }), "task.csv");
      created = await fetch(`${service.url}/v1/submissions`, { method: "POST", body: form });
      submission = (await created.clone().json()) as typeof submission;
      summary = await waitForEvaluation(defined(submission.evaluations[0], "an evaluation queued at upload").id);
    }, 180_000);

    it("is queued for evaluation on the public family at upload", () => {
      expect(created.status).toBe(201);
      expect(submission.evaluations).toEqual([{ family: "isv-reference", id: expect.any(String), state: "queued" }]);
    });

    it("is evaluated on every model and every example", () => {
      expect(summary.state, summary.reason ?? "").toBe("evaluated");
      expect(summary.models.map((m) => [m.model, m.done, m.total])).toEqual(
        [1, 2, 3, 4, 5].map((order) => [`isv-ngram-${order}`, 300, 300]),
      );
    });

    it("shows the submitter the same progress and means", async () => {
      const view = (await (
        await fetch(`${service.url}/v1/submissions/${submission.id}`, {
          headers: { authorization: `Bearer ${submission.submitterToken}` },
        })
      ).json()) as { evaluations: Summary[] };
      expect(defined(view.evaluations[0], "the evaluation in the submitter's view").models.map((m) => m.mean)).toEqual(
        summary.models.map((m) => m.mean),
      );
    });

    it("exports per-example losses, in the prize pipeline's format, equal to the model's own numbers", async () => {
      const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
      const examples = Papa.parse<string[]>(readFileSync(TASK, "utf8"), { skipEmptyLines: true }).data.slice(1);
      for (const model of ["isv-ngram-2", "isv-ngram-5"]) {
        const csv = await (await organiser(`/v1/review/evaluations/${summary.id}/results/${model}.csv`)).text();
        const rows = Papa.parse<string[]>(csv, { skipEmptyLines: true }).data.slice(1);
        expect(rows).toHaveLength(300);
        const member = defined(family.member(model), `reference member ${model}`);
        for (const [index, loss, correct] of rows) {
          const [prompt, classes, answer] = defined(examples[Number(index)], `example ${index}`);
          const text = defined(prompt, `example ${index}'s prompt`);
          const parsed = parseClassesLiteral(defined(classes, `example ${index}'s classes`));
          const scores = (parsed.ok ? parsed.classes : []).map((name) => continuationLogprob(member, text, name));
          expect(Math.abs(Number(loss) - classificationLoss(scores, Number(answer)))).toBeLessThan(1e-9);
          expect(Number(correct)).toBe(scores.indexOf(Math.max(...scores)) === Number(answer) ? 1 : 0);
        }
      }
    });

    // An evaluation that reads as ended has its analysis already (it is analysed before it is marked ended).
    it("is analysed by the time it reads as ended: larger members do worse on the memo trap", async () => {
      const analysisResponse = await organiser(`/v1/review/submissions/${submission.id}/analysis`);
      expect(analysisResponse.status).toBe(200);
      const analysis = (await analysisResponse.json()) as {
        analysis: { families: { family: string; verdict: string }[] };
      };
      expect(analysis.analysis.families).toEqual([
        expect.objectContaining({ family: "isv-reference", verdict: "inverse" }),
      ]);
    });

    describe("run again", () => {
      let rerun: Response;
      let second: Summary;

      beforeAll(async () => {
        rerun = await organiser(`/v1/review/submissions/${submission.id}/evaluations`, {
          method: "POST",
          body: JSON.stringify({ families: ["isv-reference"] }),
          headers: { "content-type": "application/json" },
        });
        second = await waitForEvaluation(
          defined(((await rerun.clone().json()) as { evaluations: { id: string }[] }).evaluations[0], "the rerun").id,
        );
      }, 180_000);

      it("is accepted (202)", () => {
        expect(rerun.status).toBe(202);
      });

      it("is evaluated", () => {
        expect(second.state).toBe("evaluated");
      });

      it("costs no provider call", () => {
        expect(second.counters.requests).toBe(0);
      });

      it("takes every text from the cache", () => {
        expect(second.counters.cacheHits).toBe(summary.counters.cacheHits + 5 * 600);
      });
    });
  });

  describe("a provider that fails 20% of requests", () => {
    let clean: Summary;
    let faultyRun: Summary;

    beforeAll(async () => {
      const form = new FormData();
      form.append("metadata", JSON.stringify({ ...METADATA, taskType: "sequence_prob" }));
      form.append(
        "file",
        new Blob([readFileSync(join(ROOT, "fixtures/tasks/reference/facts-standard.csv"))], { type: "text/csv" }),
        "task.csv",
      );
      const created = (await (await fetch(`${service.url}/v1/submissions`, { method: "POST", body: form })).json()) as {
        id: string;
        evaluations: { id: string }[];
      };
      clean = await waitForEvaluation(defined(created.evaluations[0], "the fault-free evaluation").id);

      const definition = {
        ...JSON.parse(readFileSync(join(ROOT, "fixtures/families/reference.json"), "utf8")),
        name: "reference-faulty",
        baseUrl: `${faulty.url}/v1`,
      };
      const put = await fetch(`${service.url}/v1/review/families/reference-faulty`, {
        method: "PUT",
        body: JSON.stringify(definition),
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      });
      expect(put.status).toBe(200);
      const started = await organiser(`/v1/review/submissions/${created.id}/evaluations`, {
        method: "POST",
        body: JSON.stringify({ families: ["reference-faulty"] }),
        headers: { "content-type": "application/json" },
      });
      faultyRun = await waitForEvaluation(
        defined(((await started.json()) as { evaluations: { id: string }[] }).evaluations[0], "the faulty run").id,
      );
    }, 180_000);

    it("is compared with a fault-free run of the same task, which is evaluated", () => {
      expect(clean.state).toBe("evaluated");
    });

    it("is evaluated all the same", () => {
      expect(faultyRun.state, faultyRun.reason ?? "").toBe("evaluated");
    });

    it("has its failed requests retried", () => {
      expect(faultyRun.counters.retries).toBeGreaterThan(0);
    });

    it("gives results identical to the fault-free run, one row per example", async () => {
      for (const model of ["isv-ngram-1", "isv-ngram-3", "isv-ngram-5"]) {
        const results = async (id: string) =>
          (await organiser(`/v1/review/evaluations/${id}/results/${model}.csv`)).text();
        const [expected, actual] = await Promise.all([results(clean.id), results(faultyRun.id)]);
        const rows = actual.trim().split("\n").slice(1);
        expect(rows).toHaveLength(350);
        expect(new Set(rows.map((row) => row.split(",")[0])).size).toBe(350);
        expect(actual).toBe(expected);
      }
    });
  });

  describe("isv submit", () => {
    const run = promisify(execFile);
    const isv = (...args: string[]) =>
      run(process.execPath, [join(ROOT, "bin", "isv.mjs"), ...args]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const submitFile = (file: string) =>
      isv(
        "submit",
        join(ROOT, file),
        "--url",
        service.url,
        "--meta",
        join(ROOT, "fixtures/metadata/classification.json"),
      );
    let submitted: Awaited<ReturnType<typeof isv>>;
    let id: string;
    let submitterToken: string;

    beforeAll(async () => {
      submitted = await submitFile("fixtures/tasks/valid/classification.csv");
      id = /^submission (\S+)$/m.exec(submitted.stdout)?.[1] ?? "";
      submitterToken = /^submitter token (\S+) /m.exec(submitted.stdout)?.[1] ?? "";
    }, 180_000);

    it("checks the file first, and sends nothing when it has errors", async () => {
      const invalid = await submitFile("fixtures/tasks/invalid/answer_index_negative.csv");
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toContain("nothing was sent");
      expect(invalid.stdout).toContain("error answer_index_negative");
    });

    it("uploads a valid file and follows each model's progress to the end", () => {
      expect(submitted.code, submitted.stderr).toBe(0);
      expect(submitted.stdout).toMatch(/^ {2}isv-ngram-5 +\[#{30}\] +400\/400 +mean -?\d/m);
    });

    it("prints the verdicts on the headline metric", () => {
      expect(submitted.stdout).toMatch(/^verdicts on loss \(the headline metric\):\n {2}isv-reference: \S+ \(slope/m);
    });

    it("is followed by isv status, with the submitter's token", async () => {
      const status = await isv("status", id, "--url", service.url, "--token", submitterToken);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain("isv-reference: evaluated");
    });

    it("is refused by isv status with a wrong token", async () => {
      expect((await isv("status", id, "--url", service.url, "--token", "isv_st_wrong")).code).toBe(1);
    });
  });
});
