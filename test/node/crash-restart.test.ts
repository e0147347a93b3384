import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LOCAL_CRON_MS,
  LOCAL_RESTART_CRON,
  REFERENCE_CONFIG,
  WRANGLER_ENV,
  startDevServer,
} from "../../scripts/dev-server.mjs";
import { LOCAL_RESTART_CRON as SERVICE_RESTART_CRON } from "../../src/evaluate/local-restart";
import { defined } from "../defined";
import { ROOT, createTokenWithCli, freePort } from "./helpers";

/**
 * A crash mid-evaluation, for real: the service under wrangler dev is killed (SIGKILL to wrangler and its runtime)
 * while it evaluates a task against a reference server that fails 20% of requests, then started again on the same
 * local state. The local queue has lost its messages; the restart sends the shards that were pending again. The
 * same task evaluated by a second service that is never interrupted gives the results to compare with.
 *
 * Provider calls go through a counting proxy, which records each text the reference server answered in full, so
 * the test can tell which texts were scored before the kill and which after. It prints the time from restart to
 * done (`npx vitest run test/node/crash-restart.test.ts`; docs/reliability.md quotes it).
 */
const TASK = readFileSync(join(ROOT, "fixtures/tasks/reference/memo-trap-inverse.csv"));
const METADATA = JSON.stringify(JSON.parse(readFileSync(join(ROOT, "fixtures/metadata/classification.json"), "utf8")));
const MODELS = [1, 2, 3, 4, 5].map((order) => `isv-ngram-${order}`);
/** Provider requests answered in full before the kill: about a third of the 60 the task needs at least. */
const KILL_AFTER_ANSWERS = 20;
const TERMINAL = ["evaluated", "partially_evaluated", "failed"];
const run = promisify(execFile);
const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

type DevServer = Awaited<ReturnType<typeof startDevServer>>;

/**
 * A proxy in front of the reference server that records, per phase, each (model, prompt) of every answer that
 * came back whole (200 and complete JSON, one choice per prompt); faults and cut-short answers are passed on and
 * not counted. `answers(n)` resolves once n requests were answered whole.
 */
async function countingProxy(target: string) {
  const answered = { before: [] as string[], after: [] as string[] };
  let phase: keyof typeof answered = "before";
  let wholeAnswers = 0;
  const waiting: { count: number; resolve: () => void }[] = [];
  const server: Server = createServer(async (request, response) => {
    response.on("error", () => {});
    const asked = phase;
    // Any step can fail when the service is killed mid-request: the request is then dropped, as a provider would.
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const upstream = await fetch(`${target}${request.url ?? "/"}`, {
        method: request.method,
        headers: { "content-type": request.headers["content-type"] ?? "application/json" },
        ...(request.method === "POST" ? { body } : {}),
      });
      const text = await upstream.text();
      if (upstream.status === 200 && request.url === "/v1/completions") {
        const sent = JSON.parse(body) as { model: string; prompt: string | string[] };
        const prompts = typeof sent.prompt === "string" ? [sent.prompt] : sent.prompt;
        let choices = -1;
        try {
          choices = (JSON.parse(text) as { choices: unknown[] }).choices.length;
        } catch {
          // cut short on purpose: not an answer
        }
        if (choices === prompts.length) {
          answered[asked].push(...prompts.map((prompt) => JSON.stringify([sent.model, prompt])));
          wholeAnswers++;
          for (const wait of waiting.filter((w) => wholeAnswers >= w.count)) wait.resolve();
        }
      }
      const retryAfter = upstream.headers.get("retry-after");
      response.writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "application/json",
        ...(retryAfter ? { "retry-after": retryAfter } : {}),
      });
      response.end(text);
    } catch {
      response.destroy();
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    startPhase: (next: keyof typeof answered) => {
      phase = next;
    },
    answers: (count: number) => new Promise<void>((resolve) => waiting.push({ count, resolve })),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A query on the service's local D1 state while no service runs on it. */
async function queryState<T>(state: string, sql: string): Promise<T[]> {
  const { stdout } = await run(
    process.execPath,
    [wrangler, "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql],
    { cwd: ROOT, env: WRANGLER_ENV },
  );
  const [statement] = JSON.parse(stdout) as { results: T[] }[];
  return defined(statement, `wrangler's results for ${sql}`).results;
}

interface Summary {
  id: string;
  state: string;
  reason: string | null;
}

/** One service: its local state, an organiser token, the evaluation its upload started. */
class Service {
  server: DevServer | undefined;
  organiserToken = "";
  evaluationId = "";
  readonly state = mkdtempSync(join(tmpdir(), "isv-crash-"));

  constructor(private readonly vars: Record<string, string>) {}

  async start(): Promise<void> {
    this.server = await startDevServer({
      port: await freePort(),
      persistTo: this.state,
      vars: this.vars,
      scheduledEveryMs: LOCAL_CRON_MS,
      processGroup: true,
    });
  }

  get url(): string {
    return defined(this.server, "a running service").url;
  }

  async upload(): Promise<void> {
    this.organiserToken = (await createTokenWithCli("organiser", this.state)).stdout.trim();
    const form = new FormData();
    form.append("metadata", METADATA);
    form.append("file", new Blob([TASK], { type: "text/csv" }), "task.csv");
    const created = (await (await fetch(`${this.url}/v1/submissions`, { method: "POST", body: form })).json()) as {
      evaluations: { id: string }[];
    };
    this.evaluationId = defined(created.evaluations[0], "the evaluation started at upload").id;
  }

  organiser(path: string): Promise<Response> {
    return fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.organiserToken}` } });
  }

  /** The evaluation once it has ended, or as it stands after `waitMs`. */
  async ended(waitMs: number): Promise<Summary> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const summary = (await (await this.organiser(`/v1/review/evaluations/${this.evaluationId}`)).json()) as Summary;
      if (TERMINAL.includes(summary.state) || Date.now() > deadline) return summary;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async results(model: string): Promise<string> {
    return (await this.organiser(`/v1/review/evaluations/${this.evaluationId}/results/${model}.csv`)).text();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    rmSync(this.state, { recursive: true, force: true });
  }
}

describe("an evaluation whose service is killed mid-run and started again", () => {
  let reference: DevServer;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let uninterrupted: Service;
  let crashed: Service;
  let cachedAtKill: number;
  let restartedAfterMs: number;
  let doneAfterRestartMs: number;
  let summary: Summary;

  beforeAll(async () => {
    // The fault knobs of the end-to-end test: 20% of requests fail (429, 500, timeout, cut-short JSON).
    reference = await startDevServer({
      config: REFERENCE_CONFIG,
      port: await freePort(),
      vars: {
        FAULT_SEED: "7",
        FAULT_RATE_429: "0.05",
        FAULT_RATE_500: "0.05",
        FAULT_RATE_TIMEOUT: "0.05",
        FAULT_RATE_MALFORMED: "0.05",
        FAULT_TIMEOUT_MS: "300",
      },
    });
    proxy = await countingProxy(reference.url);
    uninterrupted = new Service({ DEFAULT_FAMILIES: "isv-reference", REFERENCE_BASE_URL: `${reference.url}/v1` });
    crashed = new Service({ DEFAULT_FAMILIES: "isv-reference", REFERENCE_BASE_URL: `${proxy.url}/v1` });
    await uninterrupted.start();
    await crashed.start();

    const killPoint = proxy.answers(KILL_AFTER_ANSWERS);
    await Promise.all([uninterrupted.upload(), crashed.upload()]);
    await killPoint;
    const killedAt = Date.now();
    await defined(crashed.server, "the service").kill();
    proxy.startPhase("after");
    const [cache] = await queryState<{ texts: number }>(crashed.state, "SELECT COUNT(*) AS texts FROM score_cache");
    cachedAtKill = defined(cache, "the score cache's size").texts;

    const restarting = Date.now();
    await crashed.start();
    const restarted = Date.now();
    restartedAfterMs = restarted - killedAt;
    // A little past the bound the test sets, so a miss shows by how much (the evaluation's state, then the time).
    summary = await crashed.ended(130_000);
    doneAfterRestartMs = Date.now() - restarted;
    console.log(
      `crash-restart: killed after ${KILL_AFTER_ANSWERS} whole answers, ${cachedAtKill} texts stored; ` +
        `wrangler dev answering again ${(restartedAfterMs / 1000).toFixed(1)} s after the kill ` +
        `(${((restarted - restarting) / 1000).toFixed(1)} s to start); ` +
        `${summary.state} ${(doneAfterRestartMs / 1000).toFixed(1)} s after that; ` +
        `${proxy.answered.after.length} texts scored after the restart`,
    );
    await uninterrupted.ended(60_000);
  }, 300_000);

  afterAll(async () => {
    await crashed?.stop();
    await uninterrupted?.stop();
    await proxy?.close();
    await reference?.stop();
  });

  it("names the restart's cron as the service does", () => {
    expect(LOCAL_RESTART_CRON).toBe(SERVICE_RESTART_CRON);
  });

  it("is killed mid-run: some of the task's texts are stored, not all", () => {
    expect(cachedAtKill).toBeGreaterThan(0);
    expect(cachedAtKill).toBeLessThan(MODELS.length * 600);
  });

  it("is evaluated within 2 minutes of the restart", () => {
    expect(summary.state, summary.reason ?? "").toBe("evaluated");
    expect(doneAfterRestartMs).toBeLessThan(120_000);
  });

  it("gives results identical to the uninterrupted run's, model by model", async () => {
    for (const model of MODELS) expect(await crashed.results(model), model).toBe(await uninterrupted.results(model));
  });

  it("has one result per example and model", async () => {
    for (const model of MODELS) {
      const indices = (await crashed.results(model))
        .trim()
        .split("\n")
        .slice(1)
        .map((row) => row.split(",")[0]);
      expect(new Set(indices).size, model).toBe(300);
      expect(indices.length, model).toBe(300);
    }
  });

  it("asks the provider for no text twice after the restart", () => {
    expect(new Set(proxy.answered.after).size).toBe(proxy.answered.after.length);
  });

  it("asks after the restart for exactly the texts not stored before the kill", () => {
    const everyText = new Set([...proxy.answered.before, ...proxy.answered.after]);
    expect(everyText.size).toBe(MODELS.length * 600);
    expect(proxy.answered.after.length).toBe(everyText.size - cachedAtKill);
  });
});
