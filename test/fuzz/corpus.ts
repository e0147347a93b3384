/**
 * Valid task files the fuzz tests corrupt and mutate: the valid fixture of each task type, the reference tasks, and
 * the real prize files read in place from ../shared/samples/real (the caller reads the bytes: this module is pure,
 * so that the same code runs under vitest and in `npm run fuzz`'s worker thread).
 */
import { type CsvModel, readCsv } from "./csv-model";

export type TaskType = "classification" | "sequence_prob" | "logodds" | "absolute_logodds" | "numeric";

/** The columns each task type needs (DESIGN.md section 2), and their early names (README, "What is checked"). */
export const REQUIRED: Record<TaskType, readonly string[]> = {
  classification: ["prompt", "classes", "answer_index"],
  sequence_prob: ["prompt", "completion"],
  logodds: ["prompt", "other_prompt", "classes", "answer_index"],
  absolute_logodds: ["prompt", "other_prompt", "classes", "answer_index"],
  numeric: ["prompt", "true_answer", "anchor"],
};
export const LEGACY_NAME: Record<string, string> = {
  other_prompt: "biased_prompt",
  answer_index: "answer_ix",
  prompt: "filled_template",
  completion: "single_word",
};

/** Where a base file is and how it is read; `path` is relative to the project's root. */
export interface BaseSource {
  name: string;
  path: string;
  taskType: TaskType;
  /** The type cannot be inferred from the header (logodds and absolute_logodds share their columns). */
  typeRequired: boolean;
  /** An in-memory edit that makes the file valid (an early-format header renamed), applied before use. */
  fix?: (text: string) => string;
}

const renameEarlyHeader = (text: string): string => {
  const end = text.indexOf("\n");
  return text.slice(0, end).replace("filled_template", "prompt").replace("answer_ix", "answer_index") + text.slice(end);
};

const REAL = "../shared/samples/real/tasks";

export const BASE_SOURCES: readonly BaseSource[] = [
  {
    name: "classification",
    path: "fixtures/tasks/valid/classification.csv",
    taskType: "classification",
    typeRequired: false,
  },
  {
    name: "sequence_prob",
    path: "fixtures/tasks/valid/sequence_prob.csv",
    taskType: "sequence_prob",
    typeRequired: false,
  },
  { name: "logodds", path: "fixtures/tasks/valid/logodds.csv", taskType: "logodds", typeRequired: true },
  {
    name: "absolute_logodds",
    path: "fixtures/tasks/valid/absolute_logodds.csv",
    taskType: "absolute_logodds",
    typeRequired: true,
  },
  { name: "numeric", path: "fixtures/tasks/valid/numeric.csv", taskType: "numeric", typeRequired: false },
  {
    name: "facts-standard",
    path: "fixtures/tasks/reference/facts-standard.csv",
    taskType: "sequence_prob",
    typeRequired: false,
  },
  {
    name: "memo-trap-inverse",
    path: "fixtures/tasks/reference/memo-trap-inverse.csv",
    taskType: "classification",
    typeRequired: false,
  },
  { name: "syllogism-0shot", path: `${REAL}/syllogism-0shot.csv`, taskType: "classification", typeRequired: false },
  { name: "lambada-1k", path: `${REAL}/lambada-1k.csv`, taskType: "sequence_prob", typeRequired: false },
  { name: "QA_bias-v2", path: `${REAL}/QA_bias-v2.csv`, taskType: "logodds", typeRequired: true },
  {
    name: "sentiment_analysis (header renamed)",
    path: `${REAL}/sentiment_analysis.csv`,
    taskType: "classification",
    typeRequired: false,
    fix: renameEarlyHeader,
  },
];

/** A base file, read and split into records once. */
export interface Base extends BaseSource {
  text: string;
  model: CsvModel;
  /** Field index of each column name in the header. */
  column: Record<string, number>;
}

export function loadBases(read: (path: string) => Uint8Array): Base[] {
  return BASE_SOURCES.map((source) => {
    const raw = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(read(source.path));
    const text = source.fix ? source.fix(raw) : raw;
    const model = readCsv(text);
    const header = model.records[0];
    if (!header) throw new Error(`${source.path} has no header`);
    const column: Record<string, number> = {};
    header.fields.forEach((field, i) => {
      column[field.value] ??= i;
    });
    return { ...source, text, model, column };
  });
}

/** How a base is cut and re-encoded for one case; every choice is an integer, so fast-check shrinks it to 0. */
export interface Excerpt {
  /** First data record and how many follow (taken modulo the file's size); `whole` takes every record. */
  first: number;
  count: number;
  whole: boolean;
  crlf: boolean;
  bom: boolean;
}

/** The header and a run of data records of a base, with CRLF row ends and a BOM if asked: still a valid task. */
export function excerpt(base: Base, choice: Excerpt): { text: string; model: CsvModel } {
  const records = base.model.records;
  const header = records[0];
  const data = records.length - 1;
  if (!header || data < 1) throw new Error(`${base.name} has no data records`);
  const first = choice.whole ? 1 : 1 + (choice.first % data);
  const last = choice.whole ? data : Math.min(data, first + (choice.count % 40));
  const from = records[first];
  const to = records[last];
  if (!from || !to) throw new Error("record out of range");
  let text = base.text.slice(header.start, header.next) + base.text.slice(from.start, to.next);
  if (!text.endsWith("\n")) text += "\n";
  if (choice.crlf) text = text.replaceAll("\n", "\r\n");
  if (choice.bom) text = `\uFEFF${text}`;
  return { text, model: readCsv(text) };
}
