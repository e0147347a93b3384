#!/usr/bin/env node
// `npm run calibrate`: the scaling verdict's error rates and power on simulated paired results with a known truth
// (bench/calibrate.ts), then the task-minus-control slope difference's false-claim rate, interval coverage and
// power (bench/calibrate-slope-difference.ts). Prints Markdown tables and writes bench/out/calibration.json and
// bench/out/calibration-slope-difference.json. Deterministic for a seed.
//   CALIBRATE_REPLICATES  replicates per cell (default 1000)
//   CALIBRATE_B           bootstrap resamples per verdict analysis (default 200; only the displayed intervals use them)
//   CALIBRATE_DIFFERENCE_B  bootstrap resamples per slope difference (default 1000: its interval's coverage is measured)
//   CALIBRATE_ONLY        verdicts or difference: run one of the two (default both)
//   CALIBRATE_SEED        seed (default 20221010)
//   CALIBRATE_WORKERS     worker threads (default: the machine's available parallelism)
//   CALIBRATE_REV         calibrate src/analysis as committed at this git revision (e.g. HEAD) instead of the
//                         working tree, for a before/after comparison; read with `git archive`, nothing checked out
//                         (the verdicts only: the slope difference is always the working tree's)
// The TypeScript is bundled by esbuild into a temporary directory, then run on worker threads.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { OUT, ROOT } from "../bench/common.mjs";
import { integerFromEnv } from "./env-integer.mjs";
import { bundleForNode } from "./lib/bundle-node.mjs";

/** Replicates a worker runs per message: small enough to balance two workers, large enough to cost nothing. */
const CHUNK = 50;

if (isMainThread) await main();
else await work();

async function work() {
  const calibrate = await import(workerData.bundle);
  const difference = await import(workerData.differenceBundle);
  const cells = { verdicts: calibrate.calibrationCells(), difference: difference.differenceCells() };
  const run = { verdicts: calibrate.runReplicates, difference: difference.runDifferenceReplicates };
  parentPort.on("message", ({ task, suite, cell, from, to, settings }) => {
    try {
      parentPort.postMessage({ task, counts: run[suite](cells[suite][cell], from, to, settings[suite]) });
    } catch (error) {
      parentPort.postMessage({ task, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}

/** Bundles bench/calibrate-slope-difference.ts (src/analysis from the working tree) into `dir`. */
async function bundleDifference(dir) {
  return bundleForNode(
    join(ROOT, "bench", "calibrate-slope-difference.ts"),
    join(dir, "calibrate-slope-difference.mjs"),
  );
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
  return bundleForNode(join(ROOT, "bench", "calibrate.ts"), join(dir, "calibrate.mjs"), plugins);
}

async function main() {
  const replicates = integerFromEnv("CALIBRATE_REPLICATES", 1000, 1, 1e7);
  const bootstrapSamples = integerFromEnv("CALIBRATE_B", 200, 1, 1e6);
  const differenceSamples = integerFromEnv("CALIBRATE_DIFFERENCE_B", 1000, 1, 1e6);
  const seed = integerFromEnv("CALIBRATE_SEED", 20221010, 0, 2 ** 32 - 1);
  const workers = integerFromEnv("CALIBRATE_WORKERS", availableParallelism(), 1, 256);
  const only = process.env.CALIBRATE_ONLY || undefined;
  if (only !== undefined && only !== "verdicts" && only !== "difference") {
    console.error(`CALIBRATE_ONLY=${only}: expected verdicts or difference`);
    process.exit(2);
  }
  const rev = process.env.CALIBRATE_REV || undefined;
  const revision = rev
    ? execFileSync("git", ["rev-parse", "--short", rev], { cwd: ROOT, encoding: "utf8" }).trim()
    : undefined;

  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "isv-calibrate-"));
  try {
    const bundleUrl = pathToFileURL(await bundleCalibration(dir, rev)).href;
    const differenceUrl = pathToFileURL(await bundleDifference(dir)).href;
    const calibrate = await import(bundleUrl);
    const difference = await import(differenceUrl);
    const suites = {
      verdicts: {
        cells: only === "difference" ? [] : calibrate.calibrationCells(),
        empty: calibrate.emptyCounts,
        add: calibrate.addCounts,
        key: calibrate.cellKey,
        // Additions per replicate, roughly: the analysis reads every value a few times.
        cost: (cell) => cell.examples * cell.family.models.length,
      },
      difference: {
        cells: only === "verdicts" ? [] : difference.differenceCells(),
        empty: difference.emptyDifferenceCounts,
        add: difference.addDifferenceCounts,
        key: difference.differenceCellKey,
        // Two slices, and a bootstrap of the per-example differences.
        cost: (cell) => cell.examples * (2 * cell.family.models.length + differenceSamples / 100),
      },
    };
    const settings = {
      verdicts: { seed, bootstrapSamples },
      difference: { seed, bootstrapSamples: differenceSamples },
    };
    const tasks = Object.entries(suites).flatMap(([suite, { cells }]) =>
      cells.flatMap((_, cell) =>
        Array.from({ length: Math.ceil(replicates / CHUNK) }, (_, k) => ({
          suite,
          cell,
          from: k * CHUNK,
          to: Math.min(replicates, (k + 1) * CHUNK),
        })),
      ),
    );
    // The largest cells first, so the last tasks are small and both workers finish together.
    const cost = ({ suite, cell }) => suites[suite].cost(suites[suite].cells[cell]);
    const order = tasks.map((_, i) => i).sort((a, b) => cost(tasks[b]) - cost(tasks[a]) || a - b);
    const counts = {
      verdicts: suites.verdicts.cells.map(() => suites.verdicts.empty()),
      difference: suites.difference.cells.map(() => suites.difference.empty()),
    };
    const remaining = {
      verdicts: suites.verdicts.cells.map(() => Math.ceil(replicates / CHUNK)),
      difference: suites.difference.cells.map(() => Math.ceil(replicates / CHUNK)),
    };
    const cellCount = suites.verdicts.cells.length + suites.difference.cells.length;
    let cellsDone = 0;
    const threads = Math.min(workers, tasks.length);

    await new Promise((resolve, reject) => {
      const pool = Array.from(
        { length: threads },
        () =>
          new Worker(new URL(import.meta.url), { workerData: { bundle: bundleUrl, differenceBundle: differenceUrl } }),
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
          const { suite, cell } = tasks[task];
          if (error) return stop(new Error(`${suites[suite].key(suites[suite].cells[cell])}: ${error}`));
          suites[suite].add(counts[suite][cell], chunk);
          if (--remaining[suite][cell] === 0 && process.stderr.isTTY)
            process.stderr.write(`\r${++cellsDone} of ${cellCount} cells`);
          feed(worker);
        });
        worker.on("error", stop);
        feed(worker);
      }
    });
    if (process.stderr.isTTY) process.stderr.write("\n");

    const wallSeconds = (performance.now() - started) / 1000;
    const source = revision ? `src/analysis at ${rev} (${revision})` : "src/analysis in the working tree";
    mkdirSync(OUT, { recursive: true });
    const common = {
      generatedBy: "npm run calibrate",
      codeVersion: calibrate.ANALYSIS_CODE_VERSION,
      seed,
      replicates,
      node: process.version,
      workers: threads,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
    };
    if (suites.verdicts.cells.length > 0) {
      const header =
        `Verdicts of \`analyseFamily\` (${calibrate.ANALYSIS_CODE_VERSION}, ${source}) on simulated families: % of ${replicates} ` +
        `replicates per row, 95% Wilson intervals; B = ${bootstrapSamples}, seed ${seed}. Bold: the verdict that detects the truth.`;
      const report = calibrate.calibrationReport(suites.verdicts.cells, counts.verdicts, header);
      console.log(report.markdown);
      const json = {
        ...common,
        source,
        bootstrapSamples,
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
    }
    if (suites.difference.cells.length > 0) {
      const header =
        `Task − control slope differences of \`slopeDifference\` (${calibrate.ANALYSIS_CODE_VERSION}, src/analysis in the working tree) ` +
        `on simulated slices: % of ${replicates} replicates per row, 95% Wilson intervals; B = ${differenceSamples}, seed ${seed}.`;
      const report = difference.differenceReport(suites.difference.cells, counts.difference, header);
      console.log(`\n${report.markdown}`);
      const json = {
        ...common,
        source: "src/analysis in the working tree",
        bootstrapSamples: differenceSamples,
        data: {
          difficultySd: calibrate.DIFFICULTY_SD,
          noiseSd: calibrate.NOISE_SD,
          exampleSlopeSd: difference.EXAMPLE_SLOPE_SD,
          controlShareUnpaired: difference.CONTROL_SHARE,
        },
        scenarios: difference.DIFFERENCE_SCENARIOS,
        cells: report.cells,
      };
      writeFileSync(join(OUT, "calibration-slope-difference.json"), `${JSON.stringify(json, null, 2)}\n`);
      console.log("written: bench/out/calibration-slope-difference.json");
    }
    console.log(
      `\nwall time: ${wallSeconds.toFixed(1)} s on ${threads} worker threads (${cellCount} cells x ${replicates} replicates)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
