// Pathological file shapes (bench/generate.ts, SHAPES): each one's validation throughput as a ratio to a normal
// file of about the same size, measured in the same run, under Node (a fresh process a run) and inside workerd
// (streamed from local R2). Target: >= 0.5x. Figures are medians of BENCH_REPEATS interleaved runs.
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { OUT, REPEATS, benchWorkerd, bundle, measureInterleaved, median, mib } from "./common.mjs";

const MIN_BYTES = 16 * 1024 * 1024;

/**
 * What is measured: a shape, the size it is generated to, and the limits it is checked under. `{}` is the
 * service's defaults (300 examples at least, 200,000 rows, 1 MiB a record, 64 fields a record); the "every row"
 * cases lift the row limit, to measure the cost of each row rather than the limit that stops them.
 */
const CASES = [
  { name: "normal", shape: "normal", minBytes: MIN_BYTES, limits: {} },
  { name: "wide rows", shape: "wide", minBytes: MIN_BYTES, limits: {} },
  { name: "1 MB quoted prompts", shape: "quoted-1mb", minBytes: MIN_BYTES, limits: {} },
  { name: "stray quotes", shape: "stray-quotes", minBytes: MIN_BYTES, limits: {} },
  { name: "one 50 MB quoted field", shape: "quoted-50mb", minBytes: 50_000_000, limits: {} },
  { name: "tiny rows", shape: "tiny", minBytes: MIN_BYTES, limits: {} },
  { name: "tiny rows, every row", shape: "tiny", minBytes: MIN_BYTES, limits: { maxRows: 100_000_000 } },
  { name: "blank lines, every row", shape: "blank", minBytes: MIN_BYTES, limits: { maxRows: 100_000_000 } },
];

async function writeShape(generator, shape, minBytes, dir) {
  const path = join(dir, `shape-${shape}-${minBytes}.csv`);
  const stream = createWriteStream(path);
  for (const piece of generator.shapePieces(shape, minBytes))
    if (!stream.write(piece)) await new Promise((resolve) => stream.once("drain", resolve));
  await new Promise((resolve) => stream.end(resolve));
  return { path, bytes: statSync(path).size };
}

function nodeRun(testCase, file) {
  const output = execFileSync(
    process.execPath,
    [join(OUT, "node-child.mjs"), "check", file.path, JSON.stringify(testCase.limits)],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  return JSON.parse(output.trim().split("\n").at(-1));
}

/** One Miniflare per case: the shape is generated into R2 inside workerd, then checked REPEATS times. */
async function workerdRuns(testCase, file) {
  const mf = benchWorkerd();
  try {
    const loaded = await (
      await mf.dispatchFetch(`http://bench/load-shape?shape=${testCase.shape}&minBytes=${testCase.minBytes}`)
    ).json();
    if (loaded.bytes !== file.bytes) throw new Error(`${testCase.name}: workerd made ${loaded.bytes} bytes`);
    const limits = encodeURIComponent(JSON.stringify(testCase.limits));
    const runs = [];
    for (let i = 0; i < REPEATS; i++)
      runs.push(await (await mf.dispatchFetch(`http://bench/check?limits=${limits}`)).json());
    return runs;
  } finally {
    await mf.dispose();
  }
}

const mbPerSecond = (bytes, ms) => mib(bytes) / (ms / 1000);
const outcome = (run) =>
  Object.entries(run.counts)
    .map(([code, count]) => `${code} ${count.toLocaleString("en-US")}`)
    .join(", ") + (run.truncated ? " (stopped)" : "");

export async function benchShapes() {
  mkdirSync(OUT, { recursive: true });
  await bundle({ "node-child": "bench/node-child.ts", generate: "bench/generate.ts" }, "node");
  await bundle({ "workerd-worker": "bench/workerd-worker.ts" }, "workerd");
  const generator = await import(pathToFileURL(join(OUT, "generate.mjs")).href);
  const dir = join(tmpdir(), "isv-bench");
  mkdirSync(dir, { recursive: true });
  const files = {};
  for (const testCase of CASES)
    files[testCase.name] ??= await writeShape(generator, testCase.shape, testCase.minBytes, dir);

  console.log("== pathological shapes: throughput against a normal file of about the same size");
  console.log(`each figure is the median of ${REPEATS} runs, cases interleaved; ratio = MB/s / normal MB/s\n`);
  const names = CASES.map((testCase) => testCase.name);
  const byName = Object.fromEntries(CASES.map((testCase) => [testCase.name, testCase]));
  const nodeRuns = measureInterleaved(names, (name) => nodeRun(byName[name], files[name]));
  const workerdByName = {};
  for (const testCase of CASES) workerdByName[testCase.name] = await workerdRuns(testCase, files[testCase.name]);

  const summarise = (runs, file) => {
    const ms = median(runs.map((run) => run.ms));
    return {
      ms: Math.round(ms),
      mbPerSecond: Math.round(mbPerSecond(file.bytes, ms) * 10) / 10,
      records: runs[0].rows,
    };
  };
  const results = {};
  for (const name of names) {
    const file = files[name];
    results[name] = {
      shape: byName[name].shape,
      description: generator.SHAPES[byName[name].shape],
      limits: byName[name].limits,
      bytes: file.bytes,
      outcome: outcome(nodeRuns[name][0]),
      node: summarise(nodeRuns[name], file),
      workerd: summarise(workerdByName[name], file),
    };
  }
  const normal = results.normal;
  for (const name of names) {
    const result = results[name];
    result.node.ratio = Math.round((result.node.mbPerSecond / normal.node.mbPerSecond) * 100) / 100;
    result.workerd.ratio = Math.round((result.workerd.mbPerSecond / normal.workerd.mbPerSecond) * 100) / 100;
  }
  const pad = (text, width) => String(text).padStart(width);
  console.log(
    `${"case".padEnd(24)} ${pad("MiB", 5)} | ${pad("Node ms", 8)} ${pad("MB/s", 7)} ${pad("ratio", 6)} | ${pad("workerd ms", 10)} ${pad("MB/s", 7)} ${pad("ratio", 6)} | outcome`,
  );
  for (const name of names) {
    const { bytes, node, workerd, outcome: found } = results[name];
    console.log(
      `${name.padEnd(24)} ${pad(mib(bytes).toFixed(1), 5)} | ${pad(node.ms, 8)} ${pad(node.mbPerSecond, 7)} ${pad(node.ratio.toFixed(2), 6)} | ${pad(workerd.ms, 10)} ${pad(workerd.mbPerSecond, 7)} ${pad(workerd.ratio.toFixed(2), 6)} | ${found}`,
    );
  }
  return results;
}
