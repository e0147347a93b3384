/**
 * Under Node: the largest reference member scoring 1,000 prompt+class sequences alone, and through the server app
 * (request parsing, JSON in and out) in the same process. Prints one JSON line.
 *   node reference-child.mjs SEQUENCES.json REPEATS
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { trainReferenceFamily } from "../src/reference/family";
import { createReferenceApp } from "../src/reference/server";
import { familyTrends } from "../src/reference/trends";
import { parseClassesLiteral } from "../src/validate/classes-literal";
import Papa from "papaparse";

const [sequencesPath, repeatsText] = process.argv.slice(2);
if (sequencesPath === undefined) throw new Error("usage: node reference-child.mjs SEQUENCES.json REPEATS");
const sequences = JSON.parse(readFileSync(sequencesPath, "utf8")) as string[];
const repeats = Number(repeatsText ?? 3);
const BATCH = 50;

let started = performance.now();
const family = trainReferenceFamily(
  readFileSync(join(import.meta.dirname, "..", "..", "src", "reference", "corpus.txt"), "utf8"),
);
const trainMs = performance.now() - started;
const member = family.member("isv-ngram-5");
if (!member) throw new Error("the reference family has no isv-ngram-5");
const app = createReferenceApp({ family: () => family, vars: () => ({}) });

const modelMs: number[] = [];
const serverMs: number[] = [];
let tokens = 0;
for (let rep = 0; rep < repeats; rep++) {
  started = performance.now();
  tokens = 0;
  for (const text of sequences) tokens += member.score(text, 1).length;
  modelMs.push(performance.now() - started);
  started = performance.now();
  for (let i = 0; i < sequences.length; i += BATCH) {
    const body = { model: member.id, prompt: sequences.slice(i, i + BATCH), echo: true, max_tokens: 0, logprobs: 1 };
    const response = await app.request("/v1/completions", {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    await response.json();
  }
  serverMs.push(performance.now() - started);
}
// The fixture tasks' trends, for the README (the tests assert them).
const fixture = (name: string): string[][] =>
  Papa.parse<string[]>(
    readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "tasks", "reference", name), "utf8"),
    { skipEmptyLines: true },
  ).data.slice(1);
const trends = familyTrends(
  family,
  fixture("facts-standard.csv").map(([prompt, completion]) => {
    if (prompt === undefined || completion === undefined) throw new Error("facts-standard.csv: a row lacks a cell");
    return { prompt, completion };
  }),
  fixture("memo-trap-inverse.csv").map(([prompt, classes, answer]) => {
    if (prompt === undefined || classes === undefined) throw new Error("memo-trap-inverse.csv: a row lacks a cell");
    const parsed = parseClassesLiteral(classes);
    return { prompt, classes: parsed.ok ? parsed.classes : [], answer: Number(answer) };
  }),
);
console.log(
  JSON.stringify({ trainMs, tokens, modelMs, serverMs, requests: Math.ceil(sequences.length / BATCH), trends }),
);
