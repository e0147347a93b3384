/**
 * The short run of the fuzz properties (test/fuzz/properties.ts): a few hundred cases each, from a fixed seed so a
 * failure here is the same on every machine. `npm run fuzz` runs the same properties for 100,000+ cases from a
 * fresh seed. FUZZ_SEED and FUZZ_RUNS change the seed and the cases per property; a failure prints how to replay it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BASE_SOURCES, loadBases } from "../fuzz/corpus";
import { readCsv } from "../fuzz/csv-model";
import { fuzzProperties } from "../fuzz/properties";
import { failureReport, runProperty } from "../fuzz/runner";
import { ROOT } from "./helpers";
import Papa from "papaparse";

const SEED = Number(process.env.FUZZ_SEED ?? 20_221_010);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const bases = loadBases((path) => new Uint8Array(readFileSync(join(ROOT, path))));
const properties = fuzzProperties({ bases });

describe("the fuzz tests' model of a CSV", () => {
  it.each(BASE_SOURCES.map((source) => source.name))("reads %s field for field as papaparse does", (name) => {
    const base = bases.find((b) => b.name === name);
    const parsed = Papa.parse<string[]>(base?.text ?? "", { delimiter: ",", newline: "\n", skipEmptyLines: false });
    const records = (base?.model.records ?? []).map((record) => record.fields.map((field) => field.value));
    expect(records).toEqual(parsed.data.filter((row) => !(row.length === 1 && row[0] === "")));
  });

  it("numbers lines as physical lines, a record spanning lines by its first", () => {
    const model = readCsv('a,b\r\n"x\ny",1\r\n"p\r\nq\rr",2\nlast,3');
    expect(model.records.map((record) => record.line)).toEqual([1, 2, 4, 7]);
  });
});

describe("fuzz (short run)", () => {
  it.each(properties.map((property) => [property.name, property] as const))("%s", async (_, property) => {
    const result = await runProperty(property, { seed: SEED, numRuns: RUNS, caseTimeoutMs: 30_000 });
    if (result.failure) {
      const replay = `FUZZ_SEED=${result.seed} FUZZ_ONLY='${result.name}' FUZZ_PATH='${result.failure.path}' npm run fuzz`;
      throw new Error(failureReport(result, () => replay));
    }
    expect(result.cases).toBe(RUNS);
  });
});
