// Validation throughput against papaparse's raw parse of the same bytes, in one run, under Node (as the CLI runs)
// and inside workerd (as the Worker runs), with the peak memory of each. Figures are ratios to a baseline measured
// in the same run, never fixed targets.
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { OUT, REPEATS, benchWorkerd, bundle, measureInterleaved, median, mib } from "./common.mjs";

/**
 * Writes header + rows in batches of 10,000 until there are at least `rows` rows and `minBytes` bytes (the same
 * rule as bench/workerd-worker.ts, so both sides measure identical bytes). Never one string, even at 100 MB.
 */
async function writeBenchFile(generator, path, { rows = 0, minBytes = 0 }) {
  const stream = createWriteStream(path);
  stream.write(generator.BENCH_HEADER);
  let made = 0;
  let bytes = generator.BENCH_HEADER.length;
  while (made < rows || bytes < minBytes) {
    const batch = generator.benchmarkRows(10_000, made);
    made += 10_000;
    bytes += Buffer.byteLength(batch);
    if (!stream.write(batch)) await new Promise((resolve) => stream.once("drain", resolve));
  }
  await new Promise((resolve) => stream.end(resolve));
  return { path, rows: made, bytes: statSync(path).size, request: { rows, minBytes } };
}

function idleNodeRssMiB() {
  const output = execFileSync(process.execPath, ["-e", "console.log(process.resourceUsage().maxRSS / 1024)"], {
    encoding: "utf8",
  });
  return Number(output.trim());
}

/** One measurement in a fresh Node process, so its peak memory is its own. */
function nodeRun(mode, path) {
  const output = execFileSync(process.execPath, [join(OUT, "node-child.mjs"), mode, path], { encoding: "utf8" });
  return JSON.parse(output.trim().split("\n").at(-1));
}

function summarise(runs, file) {
  const ms = median(runs.map((run) => run.ms));
  const peak = (field) =>
    runs[0][field] === undefined ? undefined : Math.round(Math.max(...runs.map((run) => run[field])));
  return {
    ms: Math.round(ms),
    rowsPerSecond: Math.round(file.rows / (ms / 1000)),
    mbPerSecond: Math.round((mib(file.bytes) / (ms / 1000)) * 10) / 10,
    peakMiB: peak("peakRssMiB"),
    peakHeapMiB: peak("peakHeapMiB"),
  };
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
      // the process ended while we looked
    }
  }
  return peak;
}

/** A fresh Miniflare per mode, so the workerd process's high-water mark belongs to that mode. */
async function workerdRuns(mode, file, repeats) {
  const mf = benchWorkerd();
  try {
    const loaded = await mf.dispatchFetch(
      `http://bench/load?rows=${file.request.rows}&minBytes=${file.request.minBytes}`,
    );
    const made = await loaded.json();
    if (made.bytes !== file.bytes)
      throw new Error(`workerd generated ${made.bytes} bytes, Node ${file.bytes}: the inputs differ`);
    const runs = [];
    for (let i = 0; i < repeats; i++) runs.push(await (await mf.dispatchFetch(`http://bench/${mode}`)).json());
    const workerdPeak = workerdHighWaterMiB();
    return runs.map((run) => ({ ...run, peakRssMiB: workerdPeak }));
  } finally {
    await mf.dispose();
  }
}

const row = (label, s) =>
  `${label.padEnd(34)} ${String(s.ms).padStart(7)} ms ${String(s.rowsPerSecond).padStart(9)} rows/s ${String(s.mbPerSecond).padStart(6)} MB/s` +
  (s.peakMiB === undefined ? "" : `  peak RSS ${String(s.peakMiB).padStart(4)} MiB`) +
  (s.peakHeapMiB === undefined ? "" : `, heap+buffers ${String(s.peakHeapMiB).padStart(4)} MiB`);

export async function benchValidation() {
  mkdirSync(OUT, { recursive: true });
  await bundle({ "node-child": "bench/node-child.ts", generate: "bench/generate.ts" }, "node");
  await bundle({ "workerd-worker": "bench/workerd-worker.ts" }, "workerd");
  const generator = await import(pathToFileURL(join(OUT, "generate.mjs")).href);

  const dir = join(tmpdir(), "isv-bench");
  mkdirSync(dir, { recursive: true });
  const file100k = await writeBenchFile(generator, join(dir, "classification-100k.csv"), { rows: 100_000 });
  // 100 MB (decimal): just under the 100 MiB request-body limit of Workers (and of the local runtime).
  const file100mb = await writeBenchFile(generator, join(dir, "classification-100mb.csv"), { minBytes: 100_000_000 });

  console.log("== task-file validation");
  console.log(
    `input: ${file100k.rows} rows, ${mib(file100k.bytes).toFixed(1)} MiB; large input: ${file100mb.rows} rows, ${mib(file100mb.bytes).toFixed(1)} MiB`,
  );
  console.log(`each figure is the median of ${REPEATS} runs, modes interleaved\n`);

  const nodeModes = ["raw-string", "raw-stream", "validate"];
  const nodeRuns = measureInterleaved(nodeModes, (mode) => nodeRun(mode, file100k.path));
  const node = Object.fromEntries(nodeModes.map((mode) => [mode, summarise(nodeRuns[mode], file100k)]));
  const nodeLarge = {
    "raw-string": nodeRun("raw-string", file100mb.path),
    validate: nodeRun("validate", file100mb.path),
  };

  const workerd = {};
  for (const mode of ["raw-string", "validate"])
    workerd[mode] = summarise(await workerdRuns(mode, file100k, REPEATS), file100k);
  const workerdLarge = (await workerdRuns("validate", file100mb, 1))[0];

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
  console.log(
    `  Node:    ${ratios.nodeValidationVsRawString.toFixed(2)} vs string parse, ${ratios.nodeValidationVsRawStream.toFixed(2)} vs chunked core parse`,
  );
  console.log(`  workerd: ${ratios.workerdValidationVsRawString.toFixed(2)} vs string parse`);
  console.log(`\n${mib(file100mb.bytes).toFixed(0)} MiB file (${file100mb.rows} rows):`);
  console.log(
    `  Node validation: ${Math.round(nodeLarge.validate.ms)} ms; peak heap+buffers ${Math.round(nodeLarge.validate.peakHeapMiB)} MiB, peak RSS ${Math.round(nodeLarge.validate.peakRssMiB)} MiB` +
      ` (papaparse on the whole string: heap+buffers ${Math.round(nodeLarge["raw-string"].peakHeapMiB)} MiB, RSS ${Math.round(nodeLarge["raw-string"].peakRssMiB)} MiB)`,
  );
  console.log(`  Node baseline: an idle Node process has an RSS of about ${Math.round(idleNodeRssMiB())} MiB`);
  console.log(
    `  workerd validation: ${workerdLarge.ms} ms, workerd process peak RSS ${workerdLarge.peakRssMiB === undefined ? "n/a" : `${Math.round(workerdLarge.peakRssMiB)} MiB`} (includes the runtime and the local R2 object it serves)`,
  );
  return {
    input: { rows: file100k.rows, bytes: file100k.bytes },
    node,
    workerd,
    ratios,
    large: { bytes: file100mb.bytes, rows: file100mb.rows, node: nodeLarge, workerd: workerdLarge },
  };
}
