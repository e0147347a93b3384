// Evaluation: a 1,000-example two-class task on a 4-model reference family whose server adds 50 ms a request
// (then 200 ms, as real providers take 0.3-2 s a batch) and allows 8 at once, through the real service under
// wrangler dev (local Queue, D1, R2, Durable Object). Reports provider requests against the minimum for the
// adapter's prompts-per-request limit, wall time against the ideal (requests x latency / concurrency) and against a
// direct client sending the same requests at the same concurrency in the same run, and a second run's provider
// calls (all cached: 0) and wall time (the fixed cost of a cached re-run).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Papa from "papaparse";
import { REFERENCE_CONFIG, freePort, startDevServer } from "../scripts/dev-server.mjs";
import { ROOT } from "./common.mjs";

const LATENCIES_MS = [50, 200];
const CONCURRENCY = 8;
const PROMPTS_PER_REQUEST = 50;
const MODELS = 4;
const EXAMPLES = 1000;

/**
 * The practical floor on this machine: the same requests (each model's texts, 50 a request) sent straight to
 * the reference server, 8 at a time, with no queue or storage. The server computes each answer on one core,
 * which the ideal (requests x latency / concurrency) leaves out.
 */
async function directClientMs(referenceUrl, task) {
  const rows = Papa.parse(task, { skipEmptyLines: true }).data.slice(1);
  const texts = rows.flatMap(([prompt, classes]) =>
    JSON.parse(classes.replace(/'/g, '"')).map((name) => prompt + name),
  );
  const requests = [];
  for (let m = 1; m <= MODELS; m++)
    for (let i = 0; i < texts.length; i += PROMPTS_PER_REQUEST)
      requests.push({
        model: `isv-ngram-${m}`,
        prompt: texts.slice(i, i + PROMPTS_PER_REQUEST),
        echo: true,
        max_tokens: 0,
        logprobs: 0,
      });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const body = requests[next++];
        const response = await fetch(`${referenceUrl}/completions`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        });
        await response.json();
      }
    }),
  );
  return { ms: performance.now() - started, requests: requests.length };
}

/** 1,000 distinct two-class examples from the reference facts: the true completion against another one. */
function benchTask() {
  const facts = Papa.parse(readFileSync(join(ROOT, "fixtures/tasks/reference/facts-standard.csv"), "utf8"), {
    skipEmptyLines: true,
  }).data.slice(1);
  const rows = [["prompt", "classes", "answer_index"]];
  for (let i = 0; i < EXAMPLES; i++) {
    const [prompt, completion] = facts[i % facts.length];
    let wrong = facts[(i + 5) % facts.length][1];
    if (wrong === completion) wrong = facts[(i + 6) % facts.length][1];
    const classes = i % 2 === 0 ? [completion, wrong] : [wrong, completion];
    rows.push([`Fact ${i}: ${prompt}`, `[${classes.map((name) => `'${name}'`).join(", ")}]`, String(i % 2)]);
  }
  return `${Papa.unparse(rows)}\n`;
}

export async function benchEvaluation() {
  const runs = [];
  for (const latencyMs of LATENCIES_MS) runs.push(await benchAtLatency(latencyMs));
  return { runs };
}

async function benchAtLatency(LATENCY_MS) {
  const state = mkdtempSync(join(tmpdir(), "isv-bench-eval-"));
  const token = execFileSync(
    process.execPath,
    // Registering a family is for admins.
    [join(ROOT, "bin", "isv.mjs"), "token", "create", "--role", "admin", "--persist-to", state],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  ).trim();
  const reference = await startDevServer({
    config: REFERENCE_CONFIG,
    port: await freePort(),
    vars: { FAULT_LATENCY_MS: String(LATENCY_MS), FAULT_MAX_CONCURRENCY: String(CONCURRENCY) },
  });
  // The bench family is the reference server on loopback: allowed for local development, as the README says.
  const service = await startDevServer({
    port: await freePort(),
    persistTo: state,
    vars: { DEFAULT_FAMILIES: "", OUTBOUND_ALLOW_HOSTS: "127.0.0.1" },
  });
  const organiser = (path, init = {}) =>
    fetch(`${service.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });
  try {
    const family = JSON.parse(readFileSync(join(ROOT, "fixtures/families/reference.json"), "utf8"));
    const definition = {
      ...family,
      name: "bench-reference",
      baseUrl: `${reference.url}/v1`,
      models: family.models.slice(0, MODELS),
      limits: { promptsPerRequest: PROMPTS_PER_REQUEST, concurrency: CONCURRENCY, requestsPerMinute: 100_000 },
    };
    await organiser("/v1/review/families/bench-reference", { method: "PUT", body: JSON.stringify(definition) });
    const task = benchTask();
    const direct = await directClientMs(`${reference.url}/v1`, task);
    const form = new FormData();
    form.append("metadata", readFileSync(join(ROOT, "fixtures/metadata/classification.json"), "utf8"));
    form.append("file", new Blob([task], { type: "text/csv" }), "bench.csv");
    const submission = await (await fetch(`${service.url}/v1/submissions`, { method: "POST", body: form })).json();
    if (!submission.id) throw new Error(`the bench task was not accepted: ${JSON.stringify(submission).slice(0, 300)}`);

    const run = async () => {
      const started = performance.now();
      const response = await organiser(`/v1/review/submissions/${submission.id}/evaluations`, {
        method: "POST",
        body: JSON.stringify({ families: ["bench-reference"] }),
      });
      const id = (await response.json()).evaluations[0].id;
      for (;;) {
        const summary = await (await organiser(`/v1/review/evaluations/${id}`)).json();
        if (["evaluated", "partially_evaluated", "failed"].includes(summary.state))
          return { ...summary, wallMs: performance.now() - started };
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const first = await run();
    const second = await run();
    const minimum = MODELS * Math.ceil((EXAMPLES * 2) / PROMPTS_PER_REQUEST);
    const idealMs = (first.counters.requests * LATENCY_MS) / CONCURRENCY;
    console.log(
      `\n== evaluation: ${EXAMPLES} two-class examples x ${MODELS} reference models, ${LATENCY_MS} ms a request, ${CONCURRENCY} at once, ${PROMPTS_PER_REQUEST} prompts a request`,
    );
    console.log(
      `  first run: ${first.state}; provider requests ${first.counters.requests} (minimum ${minimum}); retries ${first.counters.retries}`,
    );
    console.log(
      `  wall time ${Math.round(first.wallMs)} ms against the ideal ${Math.round(idealMs)} ms (${(first.wallMs / idealMs).toFixed(2)}x; target <= 1.5x)`,
    );
    console.log(
      `  the same ${direct.requests} requests sent straight from a client, ${CONCURRENCY} at a time: ${Math.round(direct.ms)} ms (the server's own compute is the floor here); service / direct ${(first.wallMs / direct.ms).toFixed(2)}x${LATENCY_MS >= 200 ? " (target <= 1.2x)" : ""}`,
    );
    console.log(
      `  second run: ${second.state}; provider requests ${second.counters.requests} (target 0), cache hits ${second.counters.cacheHits}, wall time ${Math.round(second.wallMs)} ms`,
    );
    return {
      latencyMs: LATENCY_MS,
      concurrency: CONCURRENCY,
      requests: first.counters.requests,
      minimum,
      retries: first.counters.retries,
      wallMs: Math.round(first.wallMs),
      idealMs: Math.round(idealMs),
      directClientMs: Math.round(direct.ms),
      serviceOverDirect: Number((first.wallMs / direct.ms).toFixed(3)),
      secondRunRequests: second.counters.requests,
      secondRunWallMs: Math.round(second.wallMs),
    };
  } finally {
    await service.stop();
    await reference.stop();
    rmSync(state, { recursive: true, force: true });
  }
}
