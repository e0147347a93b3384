/**
 * One measurement of reading results files, in a fresh process so its peak memory is its own:
 *   node results-child.mjs floor|parse|papaparse FILE...
 * Each file is read into a string (not timed), then turned into per-column Float64Arrays (timed):
 *   floor      the practical floor: a tight loop that splits the text into lines and fields with indexOf and
 *              Number()s the fields parseResultsCsv reads (index, loss, correct, total_logprob), no checks;
 *   parse      parseResultsCsv with every check (what `isv analyse` and the Worker run);
 *   papaparse  papaparse on the whole string, rows as arrays, as parseResultsCsv did before (no conversion);
 *   floor-analyse  the floor, then the bootstrap's additions in a tight loop: the floor of a whole CLI run.
 * Prints one JSON line: the time per file, the peak of JS heap plus buffers, and the process's peak RSS.
 */
import { readFileSync } from "node:fs";
import Papa from "papaparse";
import { at } from "../src/analysis/checked";
import { parseResultsCsv } from "../src/analysis/results-csv";
import { DEFAULT_OPTIONS, bootstrapSize } from "../src/analysis/statistics";

const [mode, ...files] = process.argv.slice(2);
let peakHeapAndBuffers = 0;
const sampleMemory = (): void => {
  const memory = process.memoryUsage();
  peakHeapAndBuffers = Math.max(peakHeapAndBuffers, memory.heapUsed + memory.arrayBuffers);
};
const sampler = setInterval(sampleMemory, 10);

/** The header's positions of the columns parseResultsCsv reads for a classification file. */
function floor(text: string): Float64Array[] {
  const headerEnd = text.indexOf("\n");
  const names = text.slice(0, headerEnd).trim().split(",");
  const wanted = ["", "loss", "correct", "total_logprob"].map((name) => names.indexOf(name));
  let lines = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) lines++;
  const columns = wanted.map(() => new Float64Array(lines));
  const slotOf = names.map((_, position) => wanted.indexOf(position));
  let start = headerEnd + 1;
  for (let row = 0; start < text.length; row++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    for (let field = 0, from = start; from <= end; field++) {
      let to = text.indexOf(",", from);
      if (to < 0 || to > end) to = end;
      const slot = slotOf[field] ?? -1;
      // biome-ignore lint/style/noNonNullAssertion: the floor has no checks; slotOf holds indices into columns or -1.
      if (slot >= 0) columns[slot]![row] = Number(text.slice(from, to));
      from = to + 1;
    }
    start = end + 1;
  }
  return columns;
}

/**
 * The analysis's share of the floor: a tight loop doing the paired bootstrap's additions (as many resamples as
 * `isv analyse` draws for this size, bootstrapSize) over the loss columns, read in the same example-major order.
 */
function bootstrapFloor(losses: Float64Array[]): number {
  const models = losses.length;
  const examples = at(losses, 0).length;
  const matrix = new Float64Array(examples * models);
  for (let m = 0; m < models; m++) {
    // biome-ignore lint/style/noNonNullAssertion: unchecked, as in prepareFamily; m < models and i < examples, every column's length.
    for (let i = 0; i < examples; i++) matrix[i * models + m] = losses[m]![i]!;
  }
  const samples = bootstrapSize(DEFAULT_OPTIONS.bootstrapSamples, examples, models);
  const sums = new Float64Array(models);
  for (let b = 0; b < samples; b++)
    for (let i = 0; i < matrix.length; i += models) {
      // biome-ignore lint/style/noNonNullAssertion: unchecked, as in bootstrapMeans; m < models = sums.length, i + m < matrix.length.
      for (let m = 0; m < models; m++) sums[m]! += matrix[i + m]!;
    }
  return at(sums, 0);
}

const times: number[] = [];
let rows = 0;
const losses: Float64Array[] = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  sampleMemory();
  const started = performance.now();
  if (mode === "floor" || mode === "floor-analyse") {
    const columns = floor(text);
    rows += at(columns, 0).length - 1;
    losses.push(at(columns, 1));
  } else if (mode === "parse") {
    const parsed = parseResultsCsv(text, "classification");
    if (!parsed.ok) throw new Error(`${file}: ${parsed.problems.join("; ")}`);
    rows += parsed.results.rows;
  } else if (mode === "papaparse") {
    rows +=
      Papa.parse<string[]>(text.replace(/\r\n?/g, "\n"), { skipEmptyLines: "greedy", newline: "\n" }).data.length - 1;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  times.push(performance.now() - started);
  sampleMemory();
}
if (mode === "floor-analyse") {
  const started = performance.now();
  bootstrapFloor(losses);
  times.push(performance.now() - started);
}
clearInterval(sampler);
console.log(
  JSON.stringify({
    mode,
    times,
    rows,
    peakHeapMiB: peakHeapAndBuffers / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
