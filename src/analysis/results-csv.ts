import Papa from "papaparse";
import type { TaskType } from "../validate/task-types";
import { RESULT_COLUMNS, type MetricDefinition } from "./metrics";

/**
 * Per-example results in the prize pipeline's output format, one file per model: a row index (0-based position
 * of the example in the task) and the task type's columns (classification: loss, correct, predicted,
 * total_logprob; sequence_prob: loss; logodds types: logodds_difference, correct, total_logprob).
 */
export interface ModelResults {
  /** Example count covered: values are indexed 0..length-1, NaN where a row is absent. */
  columns: Partial<Record<MetricDefinition["column"], Float64Array>>;
  rows: number;
}

export type ResultsParse = { ok: true; results: ModelResults } | { ok: false; problems: string[] };

const MAX_PROBLEMS = 20;

/**
 * Parses and checks one results file: indices whole and unique, values finite, `correct` 0/1 (or True/False).
 * With `expectedExamples` (the task's example count), every index 0..n-1 must appear exactly once.
 */
export function parseResultsCsv(text: string, taskType: TaskType, expectedExamples?: number): ResultsParse {
  if (taskType === "numeric") return { ok: false, problems: ["numeric tasks are out of scope for analysis"] };
  // Results have no multi-line fields, so row endings can be normalised first: papaparse guesses one newline
  // style from the start of the text and would merge the rows of a file that mixes CRLF and LF.
  const parsed = Papa.parse<string[]>(text.replace(/^\ufeff/, "").replace(/\r\n?/g, "\n"), { skipEmptyLines: "greedy", newline: "\n" });
  const [header, ...rows] = parsed.data;
  const problems: string[] = [];
  const problem = (message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(message);
  };
  if (!header) return { ok: false, problems: ["the file is empty"] };
  const names = header.map((name) => name.trim());
  const indexAt = names[0] === "" || names[0] === "index" || names[0] === "Unnamed: 0" ? 0 : names.indexOf("index");
  if (indexAt < 0) return { ok: false, problems: ['no row index: the first column must be "index" (or unnamed, as pandas writes it)'] };
  const wanted = [...RESULT_COLUMNS[taskType], ...(taskType === "sequence_prob" ? [] : (["total_logprob"] as const))];
  const positions = new Map<MetricDefinition["column"], number>();
  for (const column of wanted) {
    const at = names.indexOf(column);
    if (at >= 0) positions.set(column, at);
    else if (column !== "total_logprob") problem(`missing column "${column}" (a ${taskType} results file has ${RESULT_COLUMNS[taskType].join(", ")})`);
  }
  if (problems.length > 0) return { ok: false, problems };

  // Without the task, examples are indexed up to the largest index seen (a model may lack some examples).
  const size = expectedExamples ?? rows.reduce((max, row) => Math.max(max, /^\d+$/.test((row[indexAt] ?? "").trim()) ? Number(row[indexAt]) + 1 : 0), 0);
  const columns: ModelResults["columns"] = {};
  for (const column of positions.keys()) columns[column] = new Float64Array(size).fill(NaN);
  const seen = new Uint8Array(size);
  rows.forEach((row, i) => {
    const line = i + 2;
    const indexText = (row[indexAt] ?? "").trim();
    const index = /^\d+$/.test(indexText) ? Number(indexText) : NaN;
    if (!Number.isSafeInteger(index)) return problem(`line ${line}: index "${indexText}" is not a whole number`);
    if (index >= size) return problem(`line ${line}: index ${index} is past the task's ${size} examples`);
    if (seen[index]) return problem(`line ${line}: index ${index} appears twice`);
    seen[index] = 1;
    for (const [column, at] of positions) {
      const value = parseValue(row[at] ?? "", column);
      if (value === undefined) problem(`line ${line}: ${column} "${row[at] ?? ""}" is not a finite number`);
      else columns[column]![index] = value;
    }
  });
  if (expectedExamples !== undefined) {
    const missing: number[] = [];
    for (let index = 0; index < size; index++) if (!seen[index]) missing.push(index);
    if (missing.length > 0) problem(`${missing.length} example${missing.length === 1 ? " has" : "s have"} no row (indices ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", ..." : ""})`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, results: { columns, rows: rows.length } };
}

function parseValue(text: string, column: MetricDefinition["column"]): number | undefined {
  const value = text.trim();
  if (column === "correct") {
    if (value === "True" || value === "true") return 1;
    if (value === "False" || value === "false") return 0;
  }
  const number = value === "" ? NaN : Number(value);
  if (!Number.isFinite(number)) return undefined;
  if (column === "correct" && number !== 0 && number !== 1) return undefined;
  return number;
}
