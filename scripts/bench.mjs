#!/usr/bin/env node
// `npm run bench`: every benchmark, in one run; prints tables and writes bench/out/results.json.
// BENCH_REPEATS (default 3) sets how many interleaved runs each median is taken over.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { OUT, REPEATS } from "../bench/common.mjs";
import { benchAnalysis } from "../bench/analysis.mjs";
import { benchEvaluation } from "../bench/evaluation.mjs";
import { benchReference } from "../bench/reference.mjs";
import { benchValidation } from "../bench/validation.mjs";

const validation = await benchValidation();
const reference = await benchReference();
const analysis = await benchAnalysis();
const evaluation = await benchEvaluation();
writeFileSync(join(OUT, "results.json"), JSON.stringify({ date: new Date().toISOString(), node: process.version, repeats: REPEATS, validation, reference, analysis, evaluation }, null, 2));
console.log("\nwritten: bench/out/results.json");
