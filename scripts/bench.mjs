#!/usr/bin/env node
// `npm run bench`: validation throughput against papaparse's raw parse of the same bytes, in one run, under Node
// (as the CLI runs) and inside workerd (as the Worker runs), with the peak memory of each. Prints a table and
// writes bench/out/results.json. Figures are ratios to a baseline measured in the same run, never fixed targets.
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "bench", "out");
mkdirSync(out, { recursive: true });
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

await build({
  entryPoints: { "node-child": join(root, "bench/node-child.ts"), generate: join(root, "bench/generate.ts") },
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  logLevel: "warning",
});
await build({
  entryPoints: [join(root, "bench/workerd-worker.ts")],
  outfile: join(out, "workerd-worker.mjs"),
  bundle: true,
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker"],
  // papaparse require()s "stream" only for Node duplex streams, a path never taken here (wrangler does the same).
  external: ["stream"],
  format: "esm",
  logLevel: "warning",
});
const { benchmarkRows, BENCH_HEADER } = await import(pathToFileURL(join(out, "generate.mjs")).href);

/**
 * Writes header + rows in batches of 10,000 until there are at least `rows` rows and `minBytes` bytes (the same
 * rule as bench/workerd-worker.ts, so both sides measure identical bytes). Never one string, even at 100 MB.
 */
async function writeBenchFile(path, { rows = 0, minBytes = 0 }) {
  const stream = createWriteStream(path);
  stream.write(BENCH_HEADER);
  let made = 0;
  let bytes = BENCH_HEADER.length;
  while (made < rows || bytes < minBytes) {
    const batch = benchmarkRows(10_000, made);
    made += 10_000;
    bytes += Buffer.byteLength(batch);
    if (!stream.write(batch)) await new Promise((resolve) => stream.once("drain", resolve));
  }
  await new Promise((resolve) => stream.end(resolve));
  return { path, rows: made, bytes: statSync(path).size, request: { rows, minBytes } };
}

const dir = join(tmpdir(), "isv-bench");
mkdirSync(dir, { recursive: true });
const file100k = await writeBenchFile(join(dir, "classification-100k.csv"), { rows: 100_000 });
// 100 MB (decimal): just under the 100 MiB request-body limit of Workers (and of the local runtime).
const file100mb = await writeBenchFile(join(dir, "classification-100mb.csv"), { minBytes: 100_000_000 });

function idleNodeRssMiB() {
  const output = execFileSync(process.execPath, ["-e", "console.log(process.resourceUsage().maxRSS / 1024)"], { encoding: "utf8" });
  return Number(output.trim());
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mib = (bytes) => bytes / (1024 * 1024);

function nodeRun(mode, path) {
  const output = execFileSync(process.execPath, [join(out, "node-child.mjs"), mode, path], { encoding: "utf8" });
  return JSON.parse(output.trim().split("\n").at(-1));
}

/** Runs each mode REPEATS times, interleaved so drift in machine load hits all modes alike. */
function measure(modes, run) {
  const results = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let i = 0; i < REPEATS; i++) for (const mode of modes) results[mode].push(run(mode));
  return results;
}

function summarise(runs, file) {
  const ms = median(runs.map((run) => run.ms));
  return {
    ms: Math.round(ms),
    rowsPerSecond: Math.round(file.rows / (ms / 1000)),
    mbPerSecond: Math.round((mib(file.bytes) / (ms / 1000)) * 10) / 10,
    peakMiB: runs[0].peakRssMiB !== undefined ? Math.round(Math.max(...runs.map((run) => run.peakRssMiB))) : undefined,
    peakHeapMiB: runs[0].peakHeapMiB !== undefined ? Math.round(Math.max(...runs.map((run) => run.peakHeapMiB))) : undefined,
  };
}

console.log(`input: ${file100k.rows} rows, ${mib(file100k.bytes).toFixed(1)} MiB; large input: ${file100mb.rows} rows, ${mib(file100mb.bytes).toFixed(1)} MiB`);
console.log(`each figure is the median of ${REPEATS} runs, modes interleaved\n`);

// Node: a fresh process per run, so peak RSS belongs to that run alone.
const nodeModes = ["raw-string", "raw-stream", "validate"];
const nodeRuns = measure(nodeModes, (mode) => nodeRun(mode, file100k.path));
const node = Object.fromEntries(nodeModes.map((mode) => [mode, summarise(nodeRuns[mode], file100k)]));
const nodeLarge = { "raw-string": nodeRun("raw-string", file100mb.path), validate: nodeRun("validate", file100mb.path) };

// workerd: a fresh Miniflare per mode, so the workerd process's high-water mark belongs to that mode.
async function workerdRuns(mode, file, repeats) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(out, "workerd-worker.mjs"),
    compatibilityDate: "2026-04-20",
    r2Buckets: ["BENCH"],
    cf: false,
    log: new Log(LogLevel.WARN),
  });
  try {
    const loaded = await mf.dispatchFetch(`http://bench/load?rows=${file.request.rows}&minBytes=${file.request.minBytes}`);
    const made = await loaded.json();
    if (made.bytes !== file.bytes) throw new Error(`workerd generated ${made.bytes} bytes, Node ${file.bytes}: the inputs differ`);
    const runs = [];
    for (let i = 0; i < repeats; i++) runs.push(await (await mf.dispatchFetch(`http://bench/${mode}`)).json());
    const workerdPeak = workerdHighWaterMiB();
    return runs.map((run) => ({ ...run, peakRssMiB: workerdPeak }));
  } finally {
    await mf.dispose();
  }
}

/** VmHWM of the workerd processes this process started (Linux /proc); undefined where unavailable. */
function workerdHighWaterMiB() {
  let peak;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s*workerd/m.test(status) || !new RegExp(`^PPid:\\s*${process.pid}$`, "m").test(status)) continue;
      const kib = Number(/^VmHWM:\s*(\d+)/m.exec(status)?.[1]);
      peak = Math.max(peak ?? 0, kib / 1024);
    } catch {
      // process ended while we looked
    }
  }
  return peak;
}

const workerd = {};
for (const mode of ["raw-string", "validate"]) workerd[mode] = summarise(await workerdRuns(mode, file100k, REPEATS), file100k);
const workerdLarge = (await workerdRuns("validate", file100mb, 1))[0];

const row = (label, s) =>
  `${label.padEnd(34)} ${String(s.ms).padStart(7)} ms ${String(s.rowsPerSecond).padStart(9)} rows/s ${String(s.mbPerSecond).padStart(6)} MB/s` +
  (s.peakMiB === undefined ? "" : `  peak RSS ${String(s.peakMiB).padStart(4)} MiB`) +
  (s.peakHeapMiB === undefined ? "" : `, heap+buffers ${String(s.peakHeapMiB).padStart(4)} MiB`);
console.log("Node 20 (the CLI), 100,000 rows");
console.log(row("  papaparse raw parse (string)", node["raw-string"]));
console.log(row("  papaparse core parser (chunks)", node["raw-stream"]));
console.log(row("  isv full validation (stream)", node.validate));
console.log("workerd (the Worker), 100,000 rows from R2");
console.log(row("  papaparse raw parse (string)", workerd["raw-string"]));
console.log(row("  isv full validation (stream)", workerd.validate));

const ratios = {
  nodeValidationVsRawString: node["raw-string"].ms / node.validate.ms,
  nodeValidationVsRawStream: node["raw-stream"].ms / node.validate.ms,
  workerdValidationVsRawString: workerd["raw-string"].ms / workerd.validate.ms,
};
console.log("\nthroughput ratio, validation / raw parse (1.0 = as fast as parsing alone; target >= 0.5)");
console.log(`  Node:    ${ratios.nodeValidationVsRawString.toFixed(2)} vs string parse, ${ratios.nodeValidationVsRawStream.toFixed(2)} vs chunked core parse`);
console.log(`  workerd: ${ratios.workerdValidationVsRawString.toFixed(2)} vs string parse`);
console.log(`\n${mib(file100mb.bytes).toFixed(0)} MiB file (${file100mb.rows} rows):`);
console.log(
  `  Node validation: ${Math.round(nodeLarge.validate.ms)} ms; peak heap+buffers ${Math.round(nodeLarge.validate.peakHeapMiB)} MiB, peak RSS ${Math.round(nodeLarge.validate.peakRssMiB)} MiB` +
    ` (papaparse on the whole string: heap+buffers ${Math.round(nodeLarge["raw-string"].peakHeapMiB)} MiB, RSS ${Math.round(nodeLarge["raw-string"].peakRssMiB)} MiB)`,
);
console.log(`  Node baseline: an idle Node process has an RSS of about ${Math.round(idleNodeRssMiB())} MiB`);
console.log(`  workerd validation: ${workerdLarge.ms} ms, workerd process peak RSS ${workerdLarge.peakRssMiB === undefined ? "n/a" : Math.round(workerdLarge.peakRssMiB) + " MiB"} (includes the runtime and the local R2 object it serves)`);

writeFileSync(
  join(out, "results.json"),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, repeats: REPEATS, input: { rows: file100k.rows, bytes: file100k.bytes }, node, workerd, ratios, large: { bytes: file100mb.bytes, rows: file100mb.rows, node: nodeLarge, workerd: workerdLarge } }, null, 2),
);
console.log(`\nwritten: bench/out/results.json`);
