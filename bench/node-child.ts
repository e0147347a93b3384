/**
 * One measurement in a fresh process, so its peak memory (maxRSS) is its own:
 *   node node-child.mjs raw-string|raw-stream|validate FILE
 *   node node-child.mjs check FILE [LIMITS_JSON]
 * raw-string: papaparse on the whole decoded file (its usual use); raw-stream: papaparse's core parser fed the
 * same chunks as validation, no checks; validate: the service's full validation of a file that must be valid;
 * check: the same validation under the given limits (the service's defaults when none), valid or not, for the
 * pathological shapes (bench/shapes.mjs).
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import Papa from "papaparse";
import { validateStream } from "../src/validate/validator";
import { fileStream } from "../src/cli/file-stream";

const [mode, file, limitsJson] = process.argv.slice(2);
if (file === undefined) throw new Error("usage: node node-child.mjs raw-string|raw-stream|validate|check FILE");
let outcome: { counts: Record<string, number>; truncated: boolean } | undefined;
const bytes = statSync(file).size;
/** Peak of JS heap in use plus ArrayBuffers: what counts against a Worker isolate's 128 MB, unlike Node's RSS. */
let peakHeapAndBuffers = 0;
const sampleMemory = (): void => {
  const memory = process.memoryUsage();
  peakHeapAndBuffers = Math.max(peakHeapAndBuffers, memory.heapUsed + memory.arrayBuffers);
};
const sampler = setInterval(sampleMemory, 20);
const started = performance.now();
let rows = 0;
if (mode === "raw-string") {
  const text = new TextDecoder().decode(readFileSync(file));
  rows = Papa.parse<string[]>(text).data.length - 1;
} else if (mode === "raw-stream") {
  const parser = new Papa.Parser({ delimiter: ",", newline: "\n", quoteChar: '"' });
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of createReadStream(file)) {
    pending += decoder.decode(chunk as Buffer, { stream: true });
    if (pending.length < 65536) continue;
    const parsed = parser.parse(pending, 0, true) as { data: string[][]; meta: { cursor: number } };
    rows += parsed.data.length;
    pending = pending.slice(parsed.meta.cursor);
  }
  rows += (parser.parse(pending, 0, false) as { data: string[][] }).data.length - 1;
} else if (mode === "check") {
  const report = await validateStream(fileStream(file), { limits: JSON.parse(limitsJson ?? "{}") });
  rows = report.stats.records;
  outcome = { counts: report.counts, truncated: report.truncated };
} else {
  const report = await validateStream(fileStream(file), {
    limits: { maxRows: 10_000_000, maxBytes: 1 << 30 },
  });
  if (!report.valid) throw new Error(`benchmark file is invalid: ${JSON.stringify(report.counts)}`);
  rows = report.stats.examples;
}
const ms = performance.now() - started;
sampleMemory();
clearInterval(sampler);
console.log(
  JSON.stringify({
    mode,
    ms,
    rows,
    bytes,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    peakHeapMiB: peakHeapAndBuffers / 2 ** 20,
    ...outcome,
  }),
);
