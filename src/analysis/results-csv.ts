import { logSumExp } from "../evaluate/metrics";
import type { TaskType } from "../validate/task-types";
import { spreadsheetCsv } from "../util/spreadsheet-csv";
import { at } from "./checked";
import {
  INDEX_COLUMN,
  OPTIONAL_RESULT_COLUMNS,
  RESULT_COLUMNS,
  RESULT_FILE_COLUMNS,
  type AnalysedType,
  type ResultColumn,
  type ResultFileColumn,
} from "./results-columns";

/**
 * Per-example results in the prize pipeline's output format, one file per model: a row index (0-based position
 * of the example in the task) and the task type's columns (RESULT_FILE_COLUMNS in results-columns.ts).
 */
export interface ModelResults {
  /** Example count covered: values are indexed 0..length-1, NaN where a row is absent. */
  columns: Partial<Record<ResultColumn, Float64Array>>;
  rows: number;
  /** The log-odds difference's sign is unknown (the pipeline's per-prompt format): only its size may be analysed. */
  unsignedLogodds?: true;
}

/** A file that parses may still carry warnings (an old column name), for the caller to show. */
export type ResultsParse = { ok: true; results: ModelResults; warnings: string[] } | { ok: false; problems: string[] };

type Column = ResultColumn;

const MAX_PROBLEMS = 20;
/**
 * Without the task's example count, indices set the arrays' length: one stray huge index must not ask for
 * gigabytes. 10 million examples is far beyond any task in the prize's format.
 */
export const MAX_RESULT_EXAMPLES = 10_000_000;

/** Column names from older versions of the pipeline, with the name they are read as. */
const LEGACY_RESULT_COLUMNS: Partial<Record<string, Column>> = { logodds: "logodds_difference" };

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;

/**
 * A CSV scanner over one string, a field at a time, with no per-row arrays. The fast path is an unquoted field,
 * whose end is the nearest of the next comma, LF and CR, each found natively (indexOf) and remembered until the
 * scanner passes it. Quoted fields follow RFC 4180 (doubled quotes inside; commas and newlines allowed). A row ends
 * at LF, CRLF or a lone CR, so files that mix them read as they look. Nothing is copied until a caller asks for a
 * field's text.
 */
class Scanner {
  /** Where the next field starts. */
  position: number;
  /** The 1-based line the scanner is on (quoted newlines count). */
  line = 1;
  /** The last field: its content's bounds (inside the quotes when quoted), whether it holds doubled quotes, and
   * whether it ended its row. */
  start = 0;
  end = 0;
  escaped = false;
  rowEnded = false;
  /** Set when the last field could not be read (an unclosed or stray quote). */
  malformed: string | undefined;
  private comma = -1;
  private lf = -1;
  private cr = -1;

  constructor(
    readonly text: string,
    start: number,
  ) {
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.text.length;
  }

  /** Reads the next field. False (with `malformed` set) when its quoting is broken: the rest cannot be trusted. */
  field(): boolean {
    const text = this.text;
    const length = text.length;
    let at = this.position;
    this.escaped = false;
    if (at < length && text.charCodeAt(at) === QUOTE) {
      let close = at + 1;
      for (;;) {
        close = text.indexOf('"', close);
        if (close < 0) {
          this.malformed = "a quoted cell is never closed";
          return false;
        }
        if (text.charCodeAt(close + 1) !== QUOTE) break;
        this.escaped = true;
        close += 2;
      }
      this.start = at + 1;
      this.end = close;
      this.line += countLines(text, at + 1, close);
      at = close + 1;
      let code = text.charCodeAt(at);
      while (code === SPACE || code === TAB) code = text.charCodeAt(++at);
      if (at < length && code !== COMMA && code !== LF && code !== CR) {
        this.malformed = "text after a quoted cell's closing quote";
        return false;
      }
    } else {
      // The next comma, LF and CR are looked up natively and remembered until the scanner passes them.
      if (this.comma < at) this.comma = find(text, ",", at);
      if (this.lf < at) this.lf = find(text, "\n", at);
      if (this.cr < at) this.cr = find(text, "\r", at);
      this.start = at;
      at = Math.min(this.comma, this.lf);
      if (this.cr < at) at = this.cr;
      this.end = at;
    }
    if (at >= length) {
      this.rowEnded = true;
    } else {
      const code = text.charCodeAt(at++);
      this.rowEnded = code !== COMMA;
      if (code === CR && text.charCodeAt(at) === LF) at++;
      if (this.rowEnded) this.line++;
    }
    this.position = at;
    return true;
  }

  /** The last field's text, quotes undone. */
  fieldText(): string {
    return cellText(this.text, this.start, this.end, this.escaped ? 1 : 0);
  }
}

/** Where `needle` next occurs at or after `from`, or the text's length. */
function find(text: string, needle: string, from: number): number {
  const at = text.indexOf(needle, from);
  return at < 0 ? text.length : at;
}

function countLines(text: string, from: number, to: number): number {
  let lines = 0;
  for (let at = from; at < to; at++) {
    const code = text.charCodeAt(at);
    if (code === LF || (code === CR && text.charCodeAt(at + 1) !== LF)) lines++;
  }
  return lines;
}

/** True when text[from, to) is empty or only whitespace (a blank cell); printable ASCII answers at once. */
function isBlank(text: string, from: number, to: number): boolean {
  for (let at = from; at < to; at++) {
    const code = text.charCodeAt(at);
    if (code > SPACE && code < 127) return false;
    if (code !== SPACE && code !== TAB) return text.slice(at, to).trim() === "";
  }
  return true;
}

/**
 * Parses and checks one results file: indices whole and unique, values finite, `correct` 0/1 (or True/False).
 * With `expectedExamples` (the task's example count), every index 0..n-1 must appear exactly once.
 *
 * Reads the string in one pass with no per-row arrays, so memory is the output's typed arrays (plus one cell's
 * text at a time). Blank rows (only spaces, tabs and empty cells) are skipped; a row ends at LF, CRLF or a lone CR.
 * Cells may be quoted; the GPT-3 path of the pipeline writes some values as Python 1-tuples, `"(-0.12,)"`, which
 * read as the number inside. The older per-prompt format (a `logodds` column) is paired into examples, with a warning.
 */
export function parseResultsCsv(text: string, taskType: TaskType, expectedExamples?: number): ResultsParse {
  if (taskType === "numeric") return { ok: false, problems: ["numeric tasks are out of scope for analysis"] };
  const problems: string[] = [];
  const warnings: string[] = [];
  const problem = (message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(message);
  };
  const scanner = new Scanner(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);

  // The header: the first row that is not blank.
  let names: string[] = [];
  while (names.length === 0 && !scanner.done) {
    const row: string[] = [];
    do {
      if (!scanner.field()) return { ok: false, problems: [`line ${scanner.line}: ${scanner.malformed}`] };
      row.push(scanner.fieldText().trim());
    } while (!scanner.rowEnded);
    if (row.some((name) => name !== "")) names = row;
  }
  if (names.length === 0) return { ok: false, problems: ["the file is empty"] };

  const indexAt =
    names[0] === "" || names[0] === INDEX_COLUMN || names[0] === "Unnamed: 0" ? 0 : names.indexOf(INDEX_COLUMN);
  if (indexAt < 0)
    return {
      ok: false,
      problems: ['no row index: the first column must be "index" (or unnamed, as pandas writes it)'],
    };
  const wanted = RESULT_COLUMNS[taskType];
  const read: { column: Column; at: number }[] = [];
  let perPrompt = false;
  for (const column of wanted) {
    let at = names.indexOf(column);
    if (at < 0) {
      const legacy = names.findIndex((name) => LEGACY_RESULT_COLUMNS[name] === column);
      if (legacy >= 0) {
        if (expectedExamples !== undefined) return { ok: false, problems: [PER_PROMPT_UPLOAD] };
        at = legacy;
        perPrompt = true;
        warnings.push(PER_PROMPT_WARNING);
      }
    }
    if (at >= 0) read.push({ column, at });
    else if (!OPTIONAL_RESULT_COLUMNS.has(column)) {
      const required = wanted.filter((name) => !OPTIONAL_RESULT_COLUMNS.has(name));
      problem(`missing column "${column}" (a ${taskType} results file has ${required.join(", ")})`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  // Each header position's slot among the cells read (the index is slot 0), or -1 for a cell that is skipped.
  const slotOf = new Int32Array(names.length).fill(-1);
  slotOf[indexAt] = 0;
  read.forEach(({ at }, i) => {
    slotOf[at] = i + 1;
  });
  const slots = read.length + 1;
  const starts = new Int32Array(slots);
  const ends = new Int32Array(slots);
  const escaped = new Uint8Array(slots);
  // The record a slot was last filled in: a cell the row lacks is older than the row.
  const filledIn = new Int32Array(slots).fill(-1);

  // Without the task, the arrays grow to the largest index seen (a model may lack some examples). The row count
  // is at most the number of line feeds, which makes a first guess that is right for almost every file.
  let capacity = expectedExamples ?? Math.min(countOf(text, "\n") + 1, MAX_RESULT_EXAMPLES);
  // Each column read, in slot order, with its values so far (NaN for an example with no row yet).
  const outputs: { column: Column; values: Float64Array }[] = read.map(({ column }) => ({
    column,
    values: new Float64Array(capacity).fill(NaN),
  }));
  let seen = new Uint8Array(capacity);
  let size = expectedExamples ?? 0;
  let rows = 0;

  for (let record = 0; !scanner.done && problems.length < MAX_PROBLEMS; record++) {
    const line = scanner.line;
    let position = 0;
    let blank = true;
    do {
      if (!scanner.field()) {
        problem(`line ${scanner.line}: ${scanner.malformed}`);
        return { ok: false, problems };
      }
      const slot = slotOf[position] ?? -1;
      if (slot >= 0) {
        starts[slot] = scanner.start;
        ends[slot] = scanner.end;
        escaped[slot] = scanner.escaped ? 1 : 0;
        filledIn[slot] = record;
      }
      if (blank && !isBlank(text, scanner.start, scanner.end)) blank = false;
      position++;
    } while (!scanner.rowEnded);
    if (blank) continue;
    rows++;

    const cell = (slot: number): string => {
      if (filledIn[slot] !== record) return "";
      // biome-ignore lint/style/noNonNullAssertion: every slot is below `slots`, the arrays' length; unchecked, per cell.
      return cellText(text, starts[slot]!, ends[slot]!, escaped[slot]!);
    };
    // biome-ignore lint/style/noNonNullAssertion: slot 0, the index's, is in every array (slots >= 1).
    const index = filledIn[0] === record ? wholeNumber(text, starts[0]!, ends[0]!, escaped[0]!) : -1;
    if (index < 0) {
      problem(`line ${line}: index "${cell(0).trim()}" is not a whole number`);
      continue;
    }
    if (expectedExamples !== undefined && index >= expectedExamples) {
      problem(`line ${line}: index ${index} is past the task's ${expectedExamples} examples`);
      continue;
    }
    if (expectedExamples === undefined && index >= MAX_RESULT_EXAMPLES) {
      problem(`line ${line}: index ${index} is past the ${MAX_RESULT_EXAMPLES} examples a results file may cover`);
      continue;
    }
    if (index >= capacity) {
      capacity = Math.min(Math.max(index + 1, capacity * 2), MAX_RESULT_EXAMPLES);
      for (const output of outputs) output.values = grow(output.values, capacity, NaN);
      const grown = new Uint8Array(capacity);
      grown.set(seen);
      seen = grown;
    }
    if (seen[index]) {
      problem(`line ${line}: index ${index} appears twice`);
      continue;
    }
    seen[index] = 1;
    if (index >= size) size = index + 1;
    let slot = 0;
    for (const { column, values } of outputs) {
      slot++;
      const raw = cell(slot);
      const value = parseValue(raw, column);
      if (value === undefined) problem(`line ${line}: ${column} "${raw}" is not a finite number`);
      else values[index] = value;
    }
  }

  if (expectedExamples !== undefined && problems.length < MAX_PROBLEMS) {
    const missing: number[] = [];
    for (let index = 0; index < expectedExamples; index++) if (!seen[index]) missing.push(index);
    if (missing.length > 0)
      problem(
        `${missing.length} example${missing.length === 1 ? " has" : "s have"} no row (indices ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", ..." : ""})`,
      );
  }
  if (problems.length > 0) return { ok: false, problems };
  const columns: ModelResults["columns"] = {};
  for (const { column, values } of outputs) columns[column] = values.length === size ? values : values.slice(0, size);
  warnings.push(...positiveLogprobWarnings(columns));
  if (perPrompt) return pairPrompts(columns, rows, warnings);
  return { ok: true, results: { columns, rows }, warnings };
}

const LOGPROB_COLUMNS = ["logprob_matching", "logprob_not_matching"] as const;

/**
 * A log-probability is at most 0: positive values most likely are probabilities written where their logs belong,
 * which would make every derived metric wrong. A warning, not a problem: rounding may leave a value just above 0.
 */
function positiveLogprobWarnings(columns: ModelResults["columns"]): string[] {
  return LOGPROB_COLUMNS.flatMap((column) => {
    const positive = columns[column]?.reduce((count, value) => count + (value > 0 ? 1 : 0), 0) ?? 0;
    if (positive === 0) return [];
    const values = positive === 1 ? "1 value is" : `${positive} values are`;
    return [
      `column "${column}": ${values} above 0, which no log-probability is (probabilities instead of their logs?)`,
    ];
  });
}

const PER_PROMPT_WARNING =
  'column "logodds": the pipeline\'s format before April 2022, one row per prompt (a prompt, then its other prompt), ' +
  "each with that prompt's own log-odds. Rows 2k and 2k+1 are read as example k: the difference of their log-odds " +
  "(its size only: the file has no answer_index to sign it), correct from the other prompt, and total_logprob over both";
const PER_PROMPT_UPLOAD =
  'column "logodds" is the pipeline\'s format before April 2022 (one row per prompt, each with its own log-odds): ' +
  "convert it to one row per example with logodds_difference (prompt minus other prompt, negated when answer_index is 1)";

/**
 * Results in the pipeline's pre-April-2022 per-prompt format, as one row per example: rows 2k (the prompt) and
 * 2k+1 (its other prompt) become example k, as the pipeline computes these columns today. The difference's sign
 * needs the example's answer, which the file lacks, so only its size may be analysed (`unsignedLogodds`).
 */
function pairPrompts(columns: ModelResults["columns"], rows: number, warnings: string[]): ResultsParse {
  const logodds = columns.logodds_difference;
  if (logodds === undefined) throw new Error("per-prompt results are paired from their logodds column");
  if (logodds.length % 2 !== 0)
    return {
      ok: false,
      problems: [
        `a per-prompt "logodds" file needs an even number of rows (a prompt and its other prompt); it has ${logodds.length}`,
      ],
    };
  const examples = logodds.length / 2;
  const paired: ModelResults["columns"] = {};
  paired.logodds_difference = Float64Array.from(
    { length: examples },
    (_, k) => at(logodds, 2 * k) - at(logodds, 2 * k + 1),
  );
  if (columns.correct) paired.correct = columns.correct.filter((_, row) => row % 2 === 1);
  const total = columns.total_logprob;
  if (total)
    paired.total_logprob = Float64Array.from({ length: examples }, (_, k) =>
      logSumExp([at(total, 2 * k), at(total, 2 * k + 1)]),
    );
  return { ok: true, results: { columns: paired, rows, unsignedLogodds: true }, warnings };
}

function countOf(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

function grow(column: Float64Array, length: number, fill: number): Float64Array {
  const grown = new Float64Array(length).fill(fill);
  grown.set(column);
  return grown;
}

function cellText(text: string, start: number, end: number, escaped: number): string {
  const value = text.slice(start, end);
  return escaped ? value.replaceAll('""', '"') : value;
}

/** The whole number a cell spells (digits only, whitespace around), or -1. Digits alone are read in place. */
function wholeNumber(text: string, start: number, end: number, escaped: number): number {
  let value = 0;
  for (let at = start; at < end; at++) {
    const digit = text.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) {
      const trimmed = cellText(text, start, end, escaped).trim();
      return /^\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : -1;
    }
    value = value * 10 + digit;
  }
  return start < end && Number.isSafeInteger(value) ? value : -1;
}

/** A Python 1-tuple, as the GPT-3 path writes a value it left in a tuple: "(-0.12,)". */
const ONE_TUPLE = /^\s*\(([^(),]*),\s*\)\s*$/;
const DIGIT = /\d/;

function parseValue(cell: string, column: Column): number | undefined {
  let number = Number(cell);
  if (Number.isNaN(number)) {
    const value = cell.trim();
    if (column === "correct" && (value === "True" || value === "true")) return 1;
    if (column === "correct" && (value === "False" || value === "false")) return 0;
    const inner = ONE_TUPLE.exec(value)?.[1];
    if (inner === undefined) return undefined;
    number = DIGIT.test(inner) ? Number(inner) : NaN;
  } else if (number === 0 && !DIGIT.test(cell)) {
    return undefined; // Number("") and Number("  ") are 0: a blank cell is not a value
  }
  if (!Number.isFinite(number)) return undefined;
  if (column === "correct" && number !== 0 && number !== 1) return undefined;
  return number;
}

/** One example's row for writeResultsCsv: its index and its metrics by column name (a missing one is left blank). */
export interface ResultsRow {
  index: number;
  metrics: Readonly<Partial<Record<ResultFileColumn, number>>>;
}

/**
 * A model's results file in the pipeline's format, as parseResultsCsv reads it back: a header of `index` and the
 * task type's columns, then one row per given example, in the order given; LF line ends, a final one included.
 */
export function writeResultsCsv(taskType: AnalysedType, rows: Iterable<ResultsRow>): string {
  const columns = RESULT_FILE_COLUMNS[taskType];
  const data: unknown[][] = [[INDEX_COLUMN, ...columns]];
  for (const { index, metrics } of rows) data.push([index, ...columns.map((column) => metrics[column] ?? "")]);
  return spreadsheetCsv(data);
}
