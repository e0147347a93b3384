#!/usr/bin/env node
// `npm run bench`: every benchmark, in one run; prints tables and writes bench/out/results.json.
// BENCH_REPEATS (default 3) sets how many interleaved runs each median is taken over.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { OUT, REPEATS } from "../bench/common.mjs";
import { benchAnalysis } from "../bench/analysis.mjs";
import { benchEvaluation } from "../bench/evaluation.mjs";
import { benchReference } from "../bench/reference.mjs";
import { benchShapes } from "../bench/shapes.mjs";
import { benchValidation } from "../bench/validation.mjs";

// BENCH_ONLY=analysis (a comma-separated list) runs some of them; results.json then holds only those.
const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
const wanted = (name) => !only || only.includes(name);
const benches = {
  validation: benchValidation,
  shapes: benchShapes,
  reference: benchReference,
  analysis: benchAnalysis,
  evaluation: benchEvaluation,
};
const results = {};
for (const [name, bench] of Object.entries(benches)) if (wanted(name)) results[name] = await bench();
writeFileSync(
  join(OUT, "results.json"),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, repeats: REPEATS, ...results }, null, 2),
);
console.log("\nwritten: bench/out/results.json");
