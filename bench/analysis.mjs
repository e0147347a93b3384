// Scaling analysis: the paired bootstrap with B = 10,000, 1,000 examples and 8 models inside workerd, against
// the practical floor (a tight typed-array loop doing the same number of additions), and a full family analysis.
// Then reading results files: 4 models x 100,000 rows through parseResultsCsv and the whole `isv analyse` CLI,
// against a floor measured in the same run.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { OUT, REPEATS, ROOT, bundle, measureInterleaved, median, mib } from "./common.mjs";

export async function benchAnalysis() {
  await bundle({ "analysis-worker": "bench/analysis-worker.ts" }, "workerd");
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(OUT, "analysis-worker.mjs"),
    compatibilityDate: "2026-04-20",
    cf: false,
    log: new Log(LogLevel.WARN),
  });
  const time = async (mode) => {
    const started = performance.now();
    const response = await mf.dispatchFetch(`http://bench/${mode}?samples=10000`);
    if (!response.ok) throw new Error(`${mode}: ${response.status}`);
    await response.json();
    return performance.now() - started;
  };
  let inWorkerd;
  try {
    await time("floor");
    await time("bootstrap");
    const runs = { floor: [], bootstrap: [], analyse: [] };
    for (let i = 0; i < REPEATS; i++) for (const mode of Object.keys(runs)) runs[mode].push(await time(mode));
    const result = Object.fromEntries(Object.entries(runs).map(([mode, times]) => [mode, Math.round(median(times))]));
    const ratio = result.bootstrap / result.floor;
    console.log(
      `\n== scaling analysis in workerd: bootstrap B = 10,000 x 1,000 examples x 8 models (80M additions); median of ${REPEATS}`,
    );
    console.log(`  floor (tight typed-array loop, same additions) ${String(result.floor).padStart(6)} ms`);
    console.log(
      `  paired bootstrap                               ${String(result.bootstrap).padStart(6)} ms  (${ratio.toFixed(2)}x the floor; targets: <= 1000 ms, <= 3x)`,
    );
    console.log(`  full family analysis (bootstrap, CIs, tests)   ${String(result.analyse).padStart(6)} ms`);
    inWorkerd = { ...result, ratioToFloor: ratio };
  } finally {
    await mf.dispose();
  }
  return { ...inWorkerd, resultsFiles: await benchResultsFiles() };
}

const RESULT_MODELS = ["ada", "babbage", "curie", "davinci"];
const RESULT_ROWS = 100_000;

/**
 * A classification results file as the pipeline writes it (csv.DictWriter: CRLF rows, the predicted class as
 * text, quoted when it holds a comma), from a seeded generator so every run reads the same bytes.
 */
function writeResultsFile(path, model, rows) {
  let state = 1 + RESULT_MODELS.indexOf(model);
  const random = () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
  const lines = ["index,loss,correct,predicted,total_logprob"];
  for (let index = 0; index < rows; index++) {
    const correct = random() < 0.6 ? 1 : 0;
    const predicted = correct ? " Yes" : random() < 0.5 ? " No" : '" No, never"';
    lines.push(`${index},${correct ? random() * 0.7 : 0.7 + random() * 2},${correct},${predicted},${-random() * 3}`);
  }
  writeFileSync(path, `${lines.join("\r\n")}\r\n`);
  return statSync(path).size;
}

/** A fresh process per run, so its peak memory is its own; the wall time includes Node's start-up. */
function timedChild(args) {
  const started = performance.now();
  const output = execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  return { wallMs: performance.now() - started, ...JSON.parse(output.trim().split("\n").at(-1)) };
}

/**
 * Reading 4 results files of 100,000 rows each: parseResultsCsv per file, and the whole `isv analyse` run (the
 * bundled dist/isv.mjs as bin/isv.mjs runs it, default options), each against a floor from the same run: a tight
 * loop that splits the same text into lines and fields and Number()s the fields into Float64Arrays.
 */
export async function benchResultsFiles() {
  const cli = join(ROOT, "dist", "isv.mjs");
  if (!existsSync(cli)) throw new Error("dist/isv.mjs is missing: run npm run build:cli first");
  mkdirSync(OUT, { recursive: true });
  await bundle({ "results-child": "bench/results-child.ts" }, "node");
  const dir = join(tmpdir(), "isv-bench", "results-100k");
  mkdirSync(dir, { recursive: true });
  const files = RESULT_MODELS.map((model) => join(dir, `${model}.csv`));
  const bytes = files.map((path, i) => writeResultsFile(path, RESULT_MODELS[i], RESULT_ROWS));

  const child = join(OUT, "results-child.mjs");
  // cli: default options, as a user runs it; cli-least: --samples 100, the fewest it takes, so what is left is
  // mostly start-up and reading.
  const modes = ["floor", "floor-analyse", "parse", "papaparse", "cli", "cli-least"];
  const runs = measureInterleaved(modes, (mode) => {
    if (!mode.startsWith("cli")) return timedChild([child, mode, ...files]);
    const options = mode === "cli" ? [] : ["--samples", "100"];
    const run = timedChild([join(ROOT, "bench", "cli-child.mjs"), cli, "analyse", ...files, ...options]);
    if (run.code !== 0) throw new Error(`isv analyse exited ${run.code}: ${run.errors.join("; ")}`);
    return run;
  });
  const idleRssMiB = Number(
    execFileSync(process.execPath, ["-e", "console.log(process.resourceUsage().maxRSS / 1024)"], {
      encoding: "utf8",
    }).trim(),
  );
  const summary = (mode) => ({
    msPerFile:
      mode.startsWith("cli") || mode === "floor-analyse"
        ? undefined
        : Math.round(median(runs[mode].map((run) => median(run.times))) * 10) / 10,
    wallMs: Math.round(median(runs[mode].map((run) => run.wallMs))),
    peakRssMiB: Math.round(Math.max(...runs[mode].map((run) => run.peakRssMiB))),
    peakHeapMiB:
      runs[mode][0].peakHeapMiB === undefined
        ? undefined
        : Math.round(Math.max(...runs[mode].map((run) => run.peakHeapMiB))),
  });
  const result = Object.fromEntries(modes.map((mode) => [mode, summary(mode)]));
  const ratios = {
    parseToFloor: result.parse.msPerFile / result.floor.msPerFile,
    papaparseToFloor: result.papaparse.msPerFile / result.floor.msPerFile,
    cliWallToFloorWall: result.cli.wallMs / result.floor.wallMs,
    cliWallToAnalyseFloorWall: result.cli.wallMs / result["floor-analyse"].wallMs,
    cliRssToFloorRss: result.cli.peakRssMiB / result.floor.peakRssMiB,
    cliLeastWallToFloorWall: result["cli-least"].wallMs / result.floor.wallMs,
    cliLeastRssToFloorRss: result["cli-least"].peakRssMiB / result.floor.peakRssMiB,
    parseRssToFloorRss: result.parse.peakRssMiB / result.floor.peakRssMiB,
  };
  const size = mib(bytes.reduce((a, b) => a + b, 0) / files.length).toFixed(1);
  const x = (ratio) => `${ratio.toFixed(2)}x`;
  const line = (label, s, extra = "") =>
    `  ${label.padEnd(50)} ${s.msPerFile === undefined ? " ".repeat(17) : `${String(s.msPerFile).padStart(6)} ms/file  `}` +
    `process ${String(s.wallMs).padStart(6)} ms, peak RSS ${String(s.peakRssMiB).padStart(4)} MiB${s.peakHeapMiB === undefined ? "" : `, heap+buffers ${String(s.peakHeapMiB).padStart(4)} MiB`}${extra}`;
  console.log(
    `\n== reading results files: ${files.length} models x ${RESULT_ROWS.toLocaleString("en")} rows (classification, ${size} MiB each); median of ${REPEATS}`,
  );
  console.log(
    "  (process: a fresh Node reading all 4 files, start-up included; an idle Node peaks at " +
      `${Math.round(idleRssMiB)} MiB RSS)`,
  );
  console.log(line("floor (split + Number() into Float64Arrays)", result.floor));
  console.log(line("parseResultsCsv (every check)", result.parse, `  (${x(ratios.parseToFloor)} the floor per file)`));
  console.log(
    line("papaparse on the whole string (before; no checks)", result.papaparse, `  (${x(ratios.papaparseToFloor)})`),
  );
  console.log(line("floor + the bootstrap's additions in a tight loop", result["floor-analyse"]));
  console.log(
    line(
      "isv analyse, whole CLI run (default options)",
      result.cli,
      `  (${x(ratios.cliWallToAnalyseFloorWall)} the floor with the bootstrap; ${x(ratios.cliWallToFloorWall)} reading alone; ${x(ratios.cliRssToFloorRss)} its RSS)`,
    ),
  );
  console.log(
    line(
      "isv analyse --samples 100 (mostly reading)",
      result["cli-least"],
      `  (${x(ratios.cliLeastWallToFloorWall)}, ${x(ratios.cliLeastRssToFloorRss)})`,
    ),
  );
  return {
    rows: RESULT_ROWS,
    files: files.length,
    bytesPerFile: Math.round(median(bytes)),
    idleRssMiB: Math.round(idleRssMiB),
    ...result,
    ratios,
  };
}
