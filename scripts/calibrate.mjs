#!/usr/bin/env node
// `npm run calibrate`: the scaling verdict's error rates and power on simulated paired results with a known truth
// (bench/calibrate.ts). Prints a Markdown table and writes bench/out/calibration.json. Deterministic for a seed.
//   CALIBRATE_REPLICATES  replicates per cell (default 1000)
//   CALIBRATE_B           bootstrap resamples per analysis (default 200; only the displayed intervals use them)
//   CALIBRATE_SEED        seed (default 20221010)
//   CALIBRATE_WORKERS     worker threads (default: the machine's available parallelism)
//   CALIBRATE_REV         calibrate src/analysis as committed at this git revision (e.g. HEAD) instead of the
//                         working tree, for a before/after comparison; read with `git archive`, nothing checked out
// The TypeScript is bundled by esbuild into a temporary directory, then run on worker threads.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { build } from "esbuild";
import { OUT, ROOT } from "../bench/common.mjs";
import { integerFromEnv } from "./env-integer.mjs";

/** Replicates a worker runs per message: small enough to balance two workers, large enough to cost nothing. */
const CHUNK = 50;

if (isMainThread) await main();
else await work();

async function work() {
  const calibrate = await import(workerData.bundle);
  const cells = calibrate.calibrationCells();
  parentPort.on("message", ({ task, cell, from, to, settings }) => {
    try {
      parentPort.postMessage({ task, counts: calibrate.runReplicates(cells[cell], from, to, settings) });
    } catch (error) {
      parentPort.postMessage({ task, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}

/** Bundles bench/calibrate.ts (with src/analysis from the working tree or from `rev`) into `dir`. */
async function bundleCalibration(dir, rev) {
  const plugins = [];
  if (rev) {
    const tree = join(dir, "tree");
    mkdirSync(tree);
    const archive = execFileSync("git", ["archive", "--format=tar", rev, "src/analysis"], {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    });
    execFileSync("tar", ["-x", "-C", tree], { input: archive });
    const statistics = join(tree, "src", "analysis", "statistics.ts");
    plugins.push({
      name: "analysis-at-revision",
      setup(builder) {
        builder.onResolve({ filter: /\/src\/analysis\/statistics$/ }, () => ({ path: statistics }));
      },
    });
  }
  const outfile = join(dir, "calibrate.mjs");
  await build({
    entryPoints: [join(ROOT, "bench", "calibrate.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
    plugins,
  });
  return outfile;
}

async function main() {
  const replicates = integerFromEnv("CALIBRATE_REPLICATES", 1000, 1, 1e7);
  const bootstrapSamples = integerFromEnv("CALIBRATE_B", 200, 1, 1e6);
  const seed = integerFromEnv("CALIBRATE_SEED", 20221010, 0, 2 ** 32 - 1);
  const workers = integerFromEnv("CALIBRATE_WORKERS", availableParallelism(), 1, 256);
  const rev = process.env.CALIBRATE_REV || undefined;
  const revision = rev
    ? execFileSync("git", ["rev-parse", "--short", rev], { cwd: ROOT, encoding: "utf8" }).trim()
    : undefined;

  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "isv-calibrate-"));
  try {
    const bundle = await bundleCalibration(dir, rev);
    const bundleUrl = pathToFileURL(bundle).href;
    const calibrate = await import(bundleUrl);
    const cells = calibrate.calibrationCells();
    const settings = { seed, bootstrapSamples };
    const tasks = cells.flatMap((_, cell) =>
      Array.from({ length: Math.ceil(replicates / CHUNK) }, (_, k) => ({
        cell,
        from: k * CHUNK,
        to: Math.min(replicates, (k + 1) * CHUNK),
      })),
    );
    // The largest cells first, so the last tasks are small and both workers finish together.
    const cost = ({ cell }) => cells[cell].examples * cells[cell].family.models.length;
    const order = tasks.map((_, i) => i).sort((a, b) => cost(tasks[b]) - cost(tasks[a]) || a - b);
    const counts = cells.map(() => calibrate.emptyCounts());
    const remaining = cells.map(() => Math.ceil(replicates / CHUNK));
    let cellsDone = 0;
    const threads = Math.min(workers, tasks.length);

    await new Promise((resolve, reject) => {
      const pool = Array.from(
        { length: threads },
        () => new Worker(new URL(import.meta.url), { workerData: { bundle: bundleUrl } }),
      );
      let next = 0;
      let running = 0;
      const stop = (error) => {
        for (const worker of pool) void worker.terminate();
        if (error) reject(error);
        else resolve();
      };
      const feed = (worker) => {
        if (next >= order.length) {
          if (running === 0) stop();
          return;
        }
        const task = order[next++];
        running++;
        worker.postMessage({ task, ...tasks[task], settings });
      };
      for (const worker of pool) {
        worker.on("message", ({ task, counts: chunk, error }) => {
          running--;
          if (error) return stop(new Error(`${calibrate.cellKey(cells[tasks[task].cell])}: ${error}`));
          const { cell } = tasks[task];
          calibrate.addCounts(counts[cell], chunk);
          if (--remaining[cell] === 0 && process.stderr.isTTY)
            process.stderr.write(`\r${++cellsDone} of ${cells.length} cells`);
          feed(worker);
        });
        worker.on("error", stop);
        feed(worker);
      }
    });
    if (process.stderr.isTTY) process.stderr.write("\n");

    const wallSeconds = (performance.now() - started) / 1000;
    const source = revision ? `src/analysis at ${rev} (${revision})` : "src/analysis in the working tree";
    const header =
      `Verdicts of \`analyseFamily\` (${calibrate.ANALYSIS_CODE_VERSION}, ${source}) on simulated families: % of ${replicates} ` +
      `replicates per row, 95% Wilson intervals; B = ${bootstrapSamples}, seed ${seed}. Bold: the verdict that detects the truth.`;
    const report = calibrate.calibrationReport(cells, counts, header);
    console.log(report.markdown);
    console.log(
      `\nwall time: ${wallSeconds.toFixed(1)} s on ${threads} worker threads (${cells.length} cells x ${replicates} replicates)`,
    );

    mkdirSync(OUT, { recursive: true });
    const json = {
      generatedBy: "npm run calibrate",
      codeVersion: calibrate.ANALYSIS_CODE_VERSION,
      source,
      seed,
      replicates,
      bootstrapSamples,
      node: process.version,
      workers: threads,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      data: {
        loss: { difficultySd: calibrate.DIFFICULTY_SD, noiseSd: calibrate.NOISE_SD },
        accuracy: { difficultySdLogits: calibrate.ACCURACY_DIFFICULTY_SD },
      },
      scenarios: calibrate.SCENARIOS.map(({ id, label, metric, truth, detects, falseClaims }) => ({
        id,
        label,
        metric,
        truth,
        detects,
        falseClaims,
      })),
      cells: report.cells,
    };
    writeFileSync(join(OUT, "calibration.json"), `${JSON.stringify(json, null, 2)}\n`);
    console.log("written: bench/out/calibration.json");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
