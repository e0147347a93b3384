#!/usr/bin/env node
// `npm run fuzz`: the long run of the property-based tests in test/fuzz/ (fast-check) over the validator and the
// multipart reader: 200,000 cases by default, bounded in time, seeded and reproducible. Prints the seed, each
// property's count, time and slowest case, and on a failure the shrunk counterexample and how to replay it.
//   FUZZ_SEED     seed (default: a fresh random one, printed)
//   FUZZ_CASES    cases in all, shared among the properties by weight (default 200000)
//   FUZZ_SECONDS  time budget in all, shared the same way; a property stops early when its share is spent (default 600)
//   FUZZ_WORKERS  worker threads (default 1: the machine is shared)
//   FUZZ_ONLY     run only the properties whose name contains this text
//   FUZZ_PATH     replay one case (with FUZZ_SEED and FUZZ_ONLY, as a failure prints them)
//   FUZZ_STALL    seconds a single case may run before it is declared a hang (default 60)
// The TypeScript is bundled by esbuild into a temporary directory and run on worker threads; a watchdog on the
// main thread names the case (seed and path) if one never ends.
import { randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { integerFromEnv } from "./env-integer.mjs";
import { bundleForNode } from "./lib/bundle-node.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A worker: runs its share of the properties, one after another, and reports each result. */
async function work() {
  const { bundle, seed, plan, path, heartbeat } = workerData;
  const fuzz = await import(bundle);
  const bases = fuzz.loadBases((file) => new Uint8Array(readFileSync(join(ROOT, file))));
  const properties = fuzz.fuzzProperties({ bases });
  const beat = new Int32Array(heartbeat);
  for (const { index, numRuns, timeLimitMs } of plan) {
    Atomics.store(beat, 0, index);
    const result = await fuzz.runProperty(properties[index], {
      seed,
      numRuns,
      timeLimitMs,
      caseTimeoutMs: 30_000,
      ...(path !== undefined ? { path } : {}),
      onCase: (n) => {
        Atomics.store(beat, 1, n);
        Atomics.add(beat, 2, 1);
      },
    });
    parentPort.postMessage({ index, result, report: result.failure ? fuzz.failureReport(result, replay) : "" });
  }
}

function replay(result) {
  return `FUZZ_SEED=${result.seed} FUZZ_ONLY='${result.name}' FUZZ_PATH='${result.failure.path}' npm run fuzz`;
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const seed = integerFromEnv("FUZZ_SEED", randomInt(0, 2 ** 31 - 1), -(2 ** 31), 2 ** 31 - 1);
  const totalCases = integerFromEnv("FUZZ_CASES", 200_000, 1, 1e9);
  const budgetMs = integerFromEnv("FUZZ_SECONDS", 600, 1, 86_400) * 1000;
  const threads = integerFromEnv("FUZZ_WORKERS", 1, 1, 64);
  const stallMs = integerFromEnv("FUZZ_STALL", 60, 1, 86_400) * 1000;
  const only = process.env.FUZZ_ONLY || undefined;
  const path = process.env.FUZZ_PATH || undefined;

  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "isv-fuzz-"));
  let failed = false;
  try {
    const outfile = await bundleForNode(join(ROOT, "test", "fuzz", "index.ts"), join(dir, "fuzz.mjs"));
    const bundle = pathToFileURL(outfile).href;
    const fuzz = await import(bundle);
    const bases = fuzz.loadBases((file) => new Uint8Array(readFileSync(join(ROOT, file))));
    const all = fuzz.fuzzProperties({ bases });
    const chosen = all
      .map((property, index) => ({ property, index }))
      .filter(({ property }) => !only || property.name.includes(only));
    if (chosen.length === 0) {
      console.error(`FUZZ_ONLY=${only}: no property's name contains it`);
      process.exit(2);
    }
    const weights = chosen.reduce((sum, { property }) => sum + property.weight, 0);
    const plans = chosen.map(({ property, index }) => ({
      index,
      numRuns: path !== undefined ? 1 : Math.max(1, Math.ceil((totalCases * property.weight) / weights)),
      timeLimitMs: Math.floor((budgetMs * property.weight * Math.min(threads, chosen.length)) / weights),
    }));
    console.log(
      path !== undefined
        ? `fuzz: replaying seed ${seed} path ${path} of "${chosen[0].property.name}"`
        : `fuzz: seed ${seed}, ${totalCases} cases over ${chosen.length} properties, at most ${seconds(budgetMs)}, ${threads} worker thread(s)`,
    );
    console.log(`fuzz: base tasks: ${bases.map((base) => base.name).join(", ")}`);

    const shares = Array.from({ length: Math.min(threads, plans.length) }, () => []);
    for (const [i, plan] of plans.entries()) shares[i % shares.length].push(plan);
    const results = [];
    await Promise.all(
      shares.map(
        (plan) =>
          new Promise((resolve) => {
            const heartbeat = new SharedArrayBuffer(12);
            const beat = new Int32Array(heartbeat);
            const worker = new Worker(new URL(import.meta.url), {
              workerData: { bundle, seed, plan, path, heartbeat },
            });
            let lastCount = -1;
            let lastChange = performance.now();
            let done = 0;
            const watchdog = setInterval(() => {
              const count = Atomics.load(beat, 2);
              if (count !== lastCount) {
                lastCount = count;
                lastChange = performance.now();
                return;
              }
              if (performance.now() - lastChange < stallMs) return;
              const property = all[Atomics.load(beat, 0)];
              const index = Atomics.load(beat, 1);
              console.log(`HUNG: ${property.name}`);
              console.log(`  case ${index} has run for over ${seconds(stallMs)} (seed ${seed}, path ${index})`);
              console.log(`  replay: FUZZ_SEED=${seed} FUZZ_ONLY='${property.name}' FUZZ_PATH='${index}' npm run fuzz`);
              failed = true;
              clearInterval(watchdog);
              void worker.terminate().then(resolve);
            }, 1000);
            worker.on("message", ({ result, report }) => {
              results.push(result);
              const rate = result.cases / (result.ms / 1000);
              console.log(
                `${result.failure ? "FAIL" : "ok  "} ${result.name}\n       ${result.cases} cases in ${seconds(result.ms)} (${Math.round(rate)}/s)${result.interrupted ? ", stopped by its time share" : ""}; slowest case ${result.slowest.ms.toFixed(1)} ms: ${result.slowest.input.slice(0, 240)}`,
              );
              if (result.labels.length > 0) {
                const shown = result.labels.slice(0, 16).map(([label, n]) => `${label} ${n}`);
                console.log(`       ${shown.join(", ")}${result.labels.length > 16 ? ", …" : ""}`);
              }
              if (report) {
                failed = true;
                console.log(report);
              }
              if (++done === plan.length) {
                clearInterval(watchdog);
                void worker.terminate().then(resolve);
              }
            });
            worker.on("error", (error) => {
              failed = true;
              console.log(`worker failed: ${error.stack ?? error}`);
              clearInterval(watchdog);
              resolve();
            });
          }),
      ),
    );
    const cases = results.reduce((sum, result) => sum + result.cases, 0);
    const slowest = results.reduce((max, result) => (result.slowest.ms > max.slowest.ms ? result : max), results[0]);
    const slowestText = slowest ? `; slowest case ${slowest.slowest.ms.toFixed(1)} ms (${slowest.name})` : "";
    console.log(
      `fuzz: ${cases} cases in ${seconds(performance.now() - started)} (seed ${seed})${slowestText}; ${failed ? "FAILED" : "all properties held"}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

if (isMainThread) await main();
else await work();
