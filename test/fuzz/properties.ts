/**
 * The fuzz properties, shared by the short run in `npm test` (test/node/fuzz.test.ts) and the long one
 * (`npm run fuzz`, scripts/fuzz.mjs). Each input is drawn from integers and byte arrays, so fast-check shrinks a
 * failure to a small counterexample and a seed and path replay it exactly.
 */
import fc from "fast-check";
import { type MultipartReader, boundaryOf, withMultipart } from "../../src/http/multipart";
import { ISSUE_SEVERITY } from "../../src/validate/issues";
import { DEFAULT_LIMITS } from "../../src/validate/report";
import { TaskFileValidator, type ValidatorOptions } from "../../src/validate/validator";
import { type Base, type Excerpt, REQUIRED, type TaskType, excerpt } from "./corpus";
import { type CsvModel, readCsv } from "./csv-model";
import { type Corruption, type KnownLimits, type Picks, corrupt } from "./corruptions";
import { type Part, type ReadPart, type ReadStrategy, concat, multipartBody, readBody } from "./multipart-harness";
import { ENTRIES, type Entry, chunksOf, reportViolations, sourceOf, validateBy, whereOf } from "./validate-harness";

export interface FuzzProperty<T = unknown> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Throws when the property does not hold for `input`; may name the class of the case, for the run's tally. */
  check: (input: T) => Promise<string | undefined>;
  /** A short account of an input (its source, size, what was done to it), for the slowest case and failures. */
  describe: (input: T) => string;
  /** Share of the long run's cases (the short run gives each property the same number). */
  weight: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fail(message: string, details: readonly string[] = []): never {
  throw new Error([message, ...details.map((line) => `  ${line}`)].join("\n"));
}

/** The paths at which two JSON values differ, with both values (at most `max`). */
export function differences(a: unknown, b: unknown, max = 8, path = "$"): string[] {
  if (Object.is(a, b)) return [];
  if (
    typeof a !== "object" ||
    typeof b !== "object" ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  ) {
    return [`${path}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`];
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const found: string[] = [];
  for (const key of keys) {
    if (found.length >= max) break;
    const left = (a as Record<string, unknown>)[key];
    const right = (b as Record<string, unknown>)[key];
    found.push(...differences(left, right, max - found.length, `${path}.${key}`));
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs for the validator

const TEXT_TOKENS = [
  ...['"', '""', ",", "\n", "\r", "\r\n", " ", "\t", "'", "[", "]", "a", "0", "1", "2", "-1", "1.0", "-0.0"],
  ...["[' Yes', ' No']", "\"[' Yes', ' No']\"", "prompt", "classes", "answer_index", "completion", "other_prompt"],
  ...["true_answer", "anchor", "answer_ix", "filled_template", "Unnamed: 0", "\u0000", "\u0007", "\u00a0", "é"],
  ...["\uFEFF", "\u2028", "𝔸", "prompt,classes,answer_index\n", "prompt,completion\r\n"],
  ",prompt,other_prompt,classes,answer_index\n",
];
/** Byte sequences that are not (or not whole) UTF-8, and a BOM, in hex. */
const BYTE_TOKENS = ["efbbbf", "ff", "fe", "c3", "a9", "e282", "eda080", "f4908080", "c080", "f09f98", "8080"].map(
  (hex) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16)),
);
const TOKENS: readonly Uint8Array[] = [...TEXT_TOKENS.map((text) => encoder.encode(text)), ...BYTE_TOKENS];

const tokenSoup = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS), fc.uint8Array({ minLength: 1, maxLength: 6 })), { maxLength: 400 })
  .map(concat);

const COLUMN_NAMES = [
  ...["", "Unnamed: 0", "prompt", "classes", "answer_index", "completion", "other_prompt", "true_answer", "anchor"],
  ...["answer_ix", "filled_template", "biased_prompt", "single_word", " prompt", "notes", "constructor", "__proto__"],
];
const CELLS = [
  ...["[' Yes', ' No']", '[" a", " b", " c"]', "['a']", "[]", "[' x', ' x']", "['', ' y']", "[' Yes' ' No']"],
  ...["[' Yes', ' No'", "[u' a', r' b']", "['\\x41', ' \\u00e9']", "0", "1", "2", "-1", "1.0", "-0.0", "1.5", "x", ""],
  ...[" ", "Q: is it?\nA:", "Answer: ", " yes", "\u0000", "a\u0007b", "1e999", "NaN", "12", "é", '"quoted"', "a,b"],
];
const cell = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CELLS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
);

/** A CSV-shaped file: a header of known and odd column names, rows of likely and unlikely cells. */
const generatedCsv = fc
  .record({
    header: fc.array(fc.constantFrom(...COLUMN_NAMES), { minLength: 1, maxLength: 6 }),
    rows: fc.array(
      fc.record({
        cells: fc.array(cell, { minLength: 7, maxLength: 7 }),
        width: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(8) }),
      }),
      { maxLength: 30 },
    ),
    quote: fc.constantFrom("minimal", "all", "none"),
    ending: fc.constantFrom("\n", "\r\n", "\r"),
    lastEnding: fc.boolean(),
  })
  .map(({ header, rows, quote, ending, lastEnding }) => {
    const field = (value: string): string =>
      quote === "none" || (quote === "minimal" && !/[",\r\n]/.test(value)) ? value : `"${value.replaceAll('"', '""')}"`;
    const lines = [header, ...rows.map((row) => row.cells.slice(0, row.width < 0 ? header.length : row.width))];
    return encoder.encode(lines.map((line) => line.map(field).join(",")).join(ending) + (lastEnding ? ending : ""));
  });

const excerptArb: fc.Arbitrary<Excerpt> = fc.record({
  first: fc.nat(),
  count: fc.nat(),
  whole: fc.nat(39).map((n) => n === 0),
  crlf: fc.boolean(),
  bom: fc.nat(4).map((n) => n === 0),
});

interface Mutation {
  op: number;
  at: number;
  length: number;
  bytes: Uint8Array;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.nat(6),
  at: fc.nat(),
  length: fc.nat(63),
  bytes: fc.oneof(fc.constantFrom(...TOKENS), fc.uint8Array({ minLength: 1, maxLength: 8 })),
});

/** Byte-level edits: flip a bit, overwrite, insert, delete, duplicate a range, truncate. */
function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = bytes;
  for (const { op, at: n, length, bytes: inserted } of mutations) {
    const at = n % (out.length + 1);
    const end = Math.min(out.length, at + length + 1);
    switch (op) {
      case 0:
        if (at < out.length) {
          out = out.slice();
          out[at] = (out[at] ?? 0) ^ (1 << (length % 8));
        }
        break;
      case 1:
        out = concat([out.subarray(0, at), inserted, out.subarray(Math.min(out.length, at + inserted.length))]);
        break;
      case 2:
      case 3:
        out = concat([out.subarray(0, at), inserted, out.subarray(at)]);
        break;
      case 4:
        out = concat([out.subarray(0, at), out.subarray(end)]);
        break;
      case 5:
        out = concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        break;
      default:
        out = out.subarray(0, at);
    }
  }
  return out;
}

const chunkSizes = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 16 }) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 8192 }) },
    { weight: 1, arbitrary: fc.constantFrom(65_535, 65_536, 65_537, 1 << 20) },
  ),
  { minLength: 1, maxLength: 6 },
);

const TASK_TYPE_NAMES = [
  ...["classification", "classification_loss", "classification_acc", "sequence_prob", "logodds", "absolute_logodds"],
  ...["numeric", "single_word", "regression", "", "constructor", "__proto__", "toString"],
];

/** Options as the Worker and the CLI pass them: a declared type or none, and limits, sometimes very small. */
const optionsArb: fc.Arbitrary<ValidatorOptions> = fc.record(
  {
    taskType: fc.constantFrom(...TASK_TYPE_NAMES),
    limits: fc.record(
      {
        minExamples: fc.nat(3),
        maxRows: fc.integer({ min: 1, max: 20 }),
        maxBytes: fc.integer({ min: 1, max: 4000 }),
        maxRecordBytes: fc.integer({ min: 1, max: 300 }),
        maxFieldsPerRecord: fc.integer({ min: 1, max: 8 }),
        maxClasses: fc.integer({ min: 2, max: 5 }),
        maxPromptChars: fc.integer({ min: 1, max: 60 }),
        maxIssues: fc.nat(12),
        maxIssuesPerCode: fc.nat(4),
      },
      { requiredKeys: ["minExamples"] },
    ),
  },
  { requiredKeys: ["limits"] },
);

interface Input {
  source: string;
  bytes: Uint8Array;
  /** The task type of the file it was made from, if any. */
  taskType?: TaskType;
}

const preview = (bytes: Uint8Array, max = 160): string => {
  const text = JSON.stringify(decoder.decode(bytes.subarray(0, max)));
  return `${bytes.length} bytes: ${text}${bytes.length > max ? "…" : ""}`;
};

export interface Corpus {
  bases: readonly Base[];
}

function pickBase(corpus: Corpus, n: number): Base {
  const base = corpus.bases[n % corpus.bases.length];
  if (!base) throw new Error("no base files");
  return base;
}

function mutatedInputs(corpus: Corpus): fc.Arbitrary<Input> {
  return fc
    .record({ base: fc.nat(), excerpt: excerptArb, mutations: fc.array(mutationArb, { minLength: 1, maxLength: 8 }) })
    .map(({ base: n, excerpt: choice, mutations }): Input => {
      const base = pickBase(corpus, n);
      const bytes = mutate(encoder.encode(excerpt(base, choice).text), mutations);
      const ops = mutations.map(
        (m) => `${["flip", "overwrite", "insert", "insert", "delete", "duplicate", "cut"][m.op]}@${m.at}`,
      );
      return {
        source: `${base.name} [${choice.whole ? "whole" : `${choice.first}+${choice.count}`}] ${ops.join(" ")}`,
        bytes,
        taskType: base.taskType,
      };
    });
}

function inputs(corpus: Corpus): fc.Arbitrary<Input> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 3000 }).map((bytes) => ({ source: "random bytes", bytes })),
    tokenSoup.map((bytes) => ({ source: "token soup", bytes })),
    generatedCsv.map((bytes) => ({ source: "generated CSV", bytes })),
    mutatedInputs(corpus),
  );
}

const runArb = fc.record({ entry: fc.constantFrom<Entry>(...ENTRIES), sizes: chunkSizes });

/** Checks the report and names the case by its outcome: valid, invalid (with its first error) or stopped. */
async function soundReport(
  bytes: Uint8Array,
  options: ValidatorOptions,
  entry: Entry,
  sizes: number[],
): Promise<string> {
  const validated = await validateBy(entry, bytes, sizes, options);
  const violations = reportViolations(validated, bytes.length);
  if (violations.length > 0)
    fail("the report is unsound:", [...violations, ...whereOf(validated.report.issues).slice(0, 20)]);
  const { report } = validated;
  if (report.truncated) return "stopped at a limit";
  return report.valid ? "valid" : `invalid (${report.issues.find((issue) => issue.severity === "error")?.code ?? "?"})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Corruptions

const knows = (code: string): boolean => Object.hasOwn(ISSUE_SEVERITY, code);
const { maxFieldsPerRecord, maxClasses, maxPromptChars } = DEFAULT_LIMITS;
const knownLimits: KnownLimits = { maxFieldsPerRecord, maxClasses, maxPromptChars };

interface CorruptionInput {
  base: number;
  excerpt: Excerpt;
  giveType: boolean;
  picks: Picks;
  entry: Entry;
  sizes: number[];
}

const picksArb: fc.Arbitrary<Picks> = fc.record({
  kind: fc.nat(),
  record: fc.nat(),
  field: fc.nat(),
  position: fc.nat(),
  variant: fc.nat(),
  extra: fc.nat(),
  sequence: fc.uint8Array({ min: 0x80, max: 0xff, minLength: 1, maxLength: 4 }),
});

function corruptionOf(
  corpus: Corpus,
  input: CorruptionInput,
): { base: Base; corruption: Corruption; taskType?: string } {
  const base = pickBase(corpus, input.base);
  const corruption = corrupt(base, excerpt(base, input.excerpt), knownLimits, knows, input.picks);
  if (!corruption) throw new Error(`no corruption applies to ${base.name}`);
  const given = corruption.needsType || base.typeRequired || input.giveType;
  return { base, corruption, ...(given ? { taskType: base.taskType } : {}) };
}

/** Examples whose line is not that of their row's record in the model (rows count data records from 1). */
function misplacedExamples(examples: Validated["examples"], model: CsvModel): string[] {
  const wrong = examples.flatMap((example) => {
    const line = model.records[example.row]?.line;
    return line === example.line ? [] : [`the example of row ${example.row} is on line ${example.line}, not ${line}`];
  });
  return wrong.length > 5 ? [...wrong.slice(0, 5), `… and ${wrong.length - 5} more examples on the wrong line`] : wrong;
}

/** How the report differs from what the corruption must give; empty when it is right. */
export function corruptionMismatch(corruption: Corruption, report: Validated["report"]): string[] {
  const errors = report.issues.filter((issue) => issue.severity === "error");
  const found = whereOf(errors);
  if (report.valid) return ["the corrupted file was accepted"];
  const expected = corruption.expected;
  if (expected.mode === "first") {
    return found[0] === expected.error ? [] : [`first error ${found[0] ?? "none"}, expected ${expected.error}`];
  }
  const mismatch: string[] = [];
  const sortedFound = [...found].sort();
  const sortedExpected = [...expected.errors].sort();
  if (report.errorCount !== expected.errors.length || sortedFound.join() !== sortedExpected.join()) {
    mismatch.push(
      `errors ${JSON.stringify(sortedFound)} (${report.errorCount}), expected ${JSON.stringify(sortedExpected)}`,
    );
  }
  if (expected.message) {
    const { code, includes } = expected.message;
    const message = report.issues.find((issue) => issue.code === code)?.message ?? "";
    if (!message.includes(includes))
      mismatch.push(`${code} says ${JSON.stringify(message)}, expected ${JSON.stringify(includes)}`);
  }
  return mismatch;
}

type Validated = Awaited<ReturnType<typeof validateBy>>;

// ---------------------------------------------------------------------------------------------------------------
// Valid tasks of any shape, for line numbers

const TASK_TYPES: readonly TaskType[] = ["classification", "sequence_prob", "logodds", "absolute_logodds", "numeric"];
const ENDINGS = ["\n", "\r\n", "\r"] as const;
/** Never blank: quotes, commas and row ends of every style inside fields, and characters of 2 to 4 UTF-8 bytes. */
const fieldText = fc
  .string({ unit: fc.constantFrom("a", "b", " ", ",", '"', "\n", "\r", "\r\n", "é", "'", "𝔸"), maxLength: 16 })
  .map((text) => `q${text}`);

interface ShapedTask {
  type: TaskType;
  giveType: boolean;
  indexColumn: boolean;
  notes: boolean;
  headerEnding: (typeof ENDINGS)[number];
  rows: {
    blank: boolean;
    prompt: string;
    other: string;
    answer: number;
    quoteAll: boolean;
    spaces: number;
    ending: (typeof ENDINGS)[number];
  }[];
  lastEnding: boolean;
  /** The first row's prompt runs past one parse batch (64 Ki characters), across tens of thousands of lines. */
  long: boolean;
}

const shapedTaskArb: fc.Arbitrary<ShapedTask> = fc.record({
  type: fc.constantFrom(...TASK_TYPES),
  giveType: fc.boolean(),
  indexColumn: fc.boolean(),
  notes: fc.boolean(),
  headerEnding: fc.constantFrom(...ENDINGS),
  rows: fc.array(
    fc.record({
      blank: fc.nat(9).map((n) => n === 0),
      prompt: fieldText,
      other: fieldText,
      answer: fc.nat(1),
      quoteAll: fc.boolean(),
      spaces: fc.nat(2),
      ending: fc.constantFrom(...ENDINGS),
    }),
    { minLength: 1, maxLength: 25 },
  ),
  lastEnding: fc.boolean(),
  long: fc.nat(39).map((n) => n === 0),
});

/** The task as CSV: fields quoted where they must be (or always), spaces after some closing quotes, mixed row ends. */
function shapedTaskText(task: ShapedTask): string {
  const columns = [...(task.indexColumn ? [""] : []), ...REQUIRED[task.type], ...(task.notes ? ["notes"] : [])];
  const cellValue = (column: string, row: ShapedTask["rows"][number], i: number): string =>
    ({
      "": String(i),
      prompt: task.long && i === 0 ? `${row.prompt}${'é,"\r\n'.repeat(12_000)}${row.prompt}` : row.prompt,
      other_prompt: row.other,
      notes: row.other,
      classes: "[' a', ' b']",
      answer_index: String(row.answer),
      completion: " c",
      true_answer: "1",
      anchor: "2",
    })[column] ?? "";
  let text = columns.join(",") + task.headerEnding;
  task.rows.forEach((row, i) => {
    const last = i === task.rows.length - 1;
    if (!row.blank) {
      text += columns
        .map((column, k) => {
          const value = cellValue(column, row, i);
          if (!row.quoteAll && !/[",\r\n]/.test(value)) return value;
          // Spaces after the closing quote, but never at the end of the file (papaparse then finds no closing quote).
          const spaces = last && !task.lastEnding && k === columns.length - 1 ? 0 : row.spaces;
          return `"${value.replaceAll('"', '""')}"${" ".repeat(spaces)}`;
        })
        .join(",");
    }
    if (!last || task.lastEnding) text += row.ending;
  });
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs for the multipart reader

const BOUNDARY_CHARS = [..."0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"];
const boundaryArb = fc.string({ unit: fc.constantFrom(...BOUNDARY_CHARS), minLength: 1, maxLength: 70 });

/** Content with likely trouble: CRLFs, dashes and every proper prefix of the delimiter. */
type ContentPiece = Uint8Array | number;
const contentArb = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  fc.array(
    fc.oneof(
      fc.constantFrom(
        ...["\r\n", "\r", "\n", "--", "-", "\r\n--", "\r\n\r\n", "a"].map((text) => encoder.encode(text)),
      ),
      fc.nat(80),
      fc.uint8Array({ minLength: 1, maxLength: 16 }),
    ),
    { maxLength: 60 },
  ),
);
function contentOf(content: Uint8Array | ContentPiece[], boundary: string): Uint8Array {
  if (content instanceof Uint8Array) return content;
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  return concat(
    content.map((piece) => (typeof piece === "number" ? delimiter.subarray(0, piece % delimiter.length) : piece)),
  );
}

const partArb = fc.record(
  {
    name: fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/),
    filename: fc.string({ unit: "grapheme", maxLength: 24 }).filter((name) => !/[\r\n]/.test(name)),
    contentType: fc.constantFrom("text/csv", "application/json", "application/octet-stream; charset=binary"),
    content: contentArb,
  },
  { requiredKeys: ["name", "content"] },
);
const strategiesArb = fc.array(fc.constantFrom<ReadStrategy>("text", "chunks", "skip"), { minLength: 1, maxLength: 4 });

interface BodyInput {
  boundary: string;
  parts: { name: string; filename?: string; contentType?: string; content: Uint8Array | ContentPiece[] }[];
  preamble: Uint8Array;
  epilogue: Uint8Array;
}
const bodyArb: fc.Arbitrary<BodyInput> = fc.record({
  boundary: boundaryArb,
  parts: fc.array(partArb, { maxLength: 5 }),
  preamble: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 60 })),
  epilogue: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 60 })),
});

function buildBody(input: BodyInput): { parts: Part[]; body: ReturnType<typeof multipartBody> } {
  const parts = input.parts.map((part) => ({ ...part, content: contentOf(part.content, input.boundary) }));
  return { parts, body: multipartBody(parts, input.boundary, input.preamble, input.epilogue) };
}

// ---------------------------------------------------------------------------------------------------------------
// The properties

/** A property whose input type is forgotten, so that properties of different inputs fit in one list. */
function erased<T>(property: FuzzProperty<T>): FuzzProperty<unknown> {
  return property as unknown as FuzzProperty<unknown>;
}

export function fuzzProperties(corpus: Corpus): FuzzProperty<unknown>[] {
  const anyInput = inputs(corpus);

  const arbitraryBytes: FuzzProperty<{
    input: Input;
    options: ValidatorOptions;
    run: { entry: Entry; sizes: number[] };
  }> = {
    name: "validator: arbitrary bytes never throw and always yield a sound report",
    weight: 3,
    arbitrary: fc.record({ input: anyInput, options: optionsArb, run: runArb }),
    check: ({ input, options, run }) => soundReport(input.bytes, options, run.entry, run.sizes),
    describe: ({ input, options, run }) =>
      `${input.source}, ${preview(input.bytes)}, options ${JSON.stringify(options)}, ${run.entry} in chunks of ${run.sizes}`,
  };

  const mutatedFiles: FuzzProperty<{ input: Input; giveType: boolean; run: { entry: Entry; sizes: number[] } }> = {
    name: "validator: mutated real-format files never throw and always yield a sound report",
    weight: 3,
    arbitrary: fc.record({ input: mutatedInputs(corpus), giveType: fc.boolean(), run: runArb }),
    check: ({ input, giveType, run }) => {
      const taskType = giveType ? input.taskType : undefined;
      return soundReport(
        input.bytes,
        { limits: { minExamples: 0 }, ...(taskType ? { taskType } : {}) },
        run.entry,
        run.sizes,
      );
    },
    describe: ({ input, giveType, run }) =>
      `${input.source}, ${preview(input.bytes)}, type ${giveType ? input.taskType : "inferred"}, ${run.entry} in chunks of ${run.sizes}`,
  };

  const chunking: FuzzProperty<{
    input: Input;
    options: ValidatorOptions;
    a: { entry: Entry; sizes: number[] };
    b: { entry: Entry; sizes: number[] };
  }> = {
    name: "validator: the report and examples do not depend on chunk sizes or the entry point",
    weight: 2,
    arbitrary: fc.record({
      input: anyInput,
      options: fc.oneof(optionsArb, fc.constant({ limits: { minExamples: 0 } })),
      a: runArb,
      b: runArb,
    }),
    check: async ({ input, options, a, b }) => {
      const first = await validateBy(a.entry, input.bytes, a.sizes, options);
      const second = await validateBy(b.entry, input.bytes, b.sizes, options);
      if (first.report.truncated !== second.report.truncated) fail("one run stopped at a limit and the other did not");
      if (first.report.truncated) return "both stopped at a limit"; // where a limit stops depends on the chunks
      const differ = differences(first.report, second.report);
      if (differ.length > 0) fail(`the reports differ (${a.entry} ${a.sizes} vs ${b.entry} ${b.sizes}):`, differ);
      const examples = differences(first.examples, second.examples);
      if (examples.length > 0) fail("the examples handed on differ:", examples);
      return first.report.valid ? "valid" : "invalid";
    },
    describe: ({ input, options, a, b }) =>
      `${input.source}, ${preview(input.bytes)}, options ${JSON.stringify(options)}; ${a.entry} ${a.sizes} vs ${b.entry} ${b.sizes}`,
  };

  const corruptions: FuzzProperty<CorruptionInput> = {
    name: "validator: every single-point corruption of a valid task is rejected with the right code and line",
    weight: 4,
    arbitrary: fc.record({
      base: fc.nat(),
      excerpt: excerptArb,
      giveType: fc.boolean(),
      picks: picksArb,
      entry: fc.constantFrom<Entry>(...ENTRIES),
      sizes: chunkSizes,
    }),
    check: async (input) => {
      const { corruption, taskType } = corruptionOf(corpus, input);
      const options = { limits: { minExamples: 0 }, ...(taskType ? { taskType } : {}) };
      const validated = await validateBy(input.entry, corruption.bytes, input.sizes, options);
      const mismatch = corruptionMismatch(corruption, validated.report);
      const violations = reportViolations(validated, corruption.bytes.length);
      if (corruption.linesFrom !== undefined) {
        violations.push(...misplacedExamples(validated.examples, readCsv(corruption.linesFrom)));
      }
      if (mismatch.length > 0 || violations.length > 0) {
        fail(`${corruption.kind}: ${corruption.description}`, [...mismatch, ...violations]);
      }
      const expected = corruption.expected;
      return `${expected.mode === "first" ? expected.error : expected.errors[0]}`.replace(/@.*/, "");
    },
    describe: (input) => {
      const { base, corruption, taskType } = corruptionOf(corpus, input);
      const { excerpt: e } = input;
      const cut = e.whole ? "whole" : `records from ${e.first} (+${e.count})`;
      return `${base.name} ${cut}${e.crlf ? " CRLF" : ""}${e.bom ? " BOM" : ""}, type ${taskType ?? "inferred"}: ${corruption.kind}: ${corruption.description}; expected ${JSON.stringify(corruption.expected)}; ${input.entry} in chunks of ${input.sizes}`;
    },
  };

  const validExcerpts: FuzzProperty<{
    base: number;
    excerpt: Excerpt;
    giveType: boolean;
    run: { entry: Entry; sizes: number[] };
  }> = {
    name: "validator: the bases stay valid in any excerpt, with CRLF row ends or a BOM (the corruptions' control)",
    weight: 1,
    arbitrary: fc.record({ base: fc.nat(), excerpt: excerptArb, giveType: fc.boolean(), run: runArb }),
    check: async ({ base: n, excerpt: choice, giveType, run }) => {
      const base = pickBase(corpus, n);
      const { text, model } = excerpt(base, choice);
      const bytes = encoder.encode(text);
      const taskType = base.typeRequired || giveType ? base.taskType : undefined;
      const validated = await validateBy(run.entry, bytes, run.sizes, {
        limits: { minExamples: 0 },
        ...(taskType ? { taskType } : {}),
      });
      const { report } = validated;
      const problems = reportViolations(validated, bytes.length);
      if (!report.valid)
        problems.push(`invalid: ${JSON.stringify(whereOf(report.issues.filter((i) => i.severity === "error")))}`);
      if (report.stats.examples !== model.records.length - 1)
        problems.push(`${report.stats.examples} examples of ${model.records.length - 1}`);
      if (report.taskType !== base.taskType) problems.push(`task type ${report.taskType}`);
      problems.push(...misplacedExamples(validated.examples, model));
      if (problems.length > 0) fail(`${base.name}:`, problems);
      return base.name;
    },
    describe: ({ base: n, excerpt: e, run }) =>
      `${pickBase(corpus, n).name} ${e.whole ? "whole" : `${e.first}+${e.count}`}${e.crlf ? " CRLF" : ""}${e.bom ? " BOM" : ""}, ${run.entry} ${run.sizes}`,
  };

  const lineNumbers: FuzzProperty<{ task: ShapedTask; run: { entry: Entry; sizes: number[] } }> = {
    name: "validator: examples carry their record's physical line and row (any quoting, mixed row ends, blank records)",
    weight: 2,
    arbitrary: fc.record({ task: shapedTaskArb, run: runArb }),
    check: async ({ task, run }) => {
      const text = shapedTaskText(task);
      const model = readCsv(text);
      const bytes = encoder.encode(text);
      const given = task.giveType || task.type === "logodds" || task.type === "absolute_logodds";
      const validated = await validateBy(run.entry, bytes, run.sizes, {
        limits: { minExamples: 0, maxPromptChars: 1 << 20 },
        ...(given ? { taskType: task.type } : {}),
      });
      const { report, examples } = validated;
      const problems = [...reportViolations(validated, bytes.length), ...misplacedExamples(examples, model)];
      const rows = model.records.length - 1;
      const blank = model.records.slice(1).filter((record) => record.fields.every((f) => f.value.trim() === "")).length;
      if (report.stats.records !== rows) problems.push(`${report.stats.records} records, the file has ${rows}`);
      if (report.stats.blankRecords !== blank)
        problems.push(`${report.stats.blankRecords} blank records, not ${blank}`);
      if (examples.length !== rows - blank) problems.push(`${examples.length} examples of ${rows - blank} rows`);
      if (problems.length > 0) fail("lines and rows are wrong:", [...problems, ...whereOf(report.issues).slice(0, 12)]);
      return task.type;
    },
    describe: ({ task, run }) => {
      const text = shapedTaskText(task);
      return `${task.type}${task.giveType ? " (given)" : ""}, ${task.rows.length} rows, ${text.length} chars: ${JSON.stringify(text.slice(0, 300))}; ${run.entry} in chunks of ${run.sizes}`;
    },
  };

  const multipartArbitrary: FuzzProperty<{
    boundary: string;
    body:
      | { kind: "bytes"; bytes: Uint8Array }
      | { kind: "mutated"; body: BodyInput; mutations: Mutation[] }
      | { kind: "soup"; pieces: ContentPiece[] };
    sizes: number[];
    strategies: ReadStrategy[];
  }> = {
    name: "multipart: any body is read or refused as invalid_multipart, never anything else, and is released",
    weight: 3,
    arbitrary: fc.record({
      boundary: boundaryArb,
      body: fc.oneof(
        fc.uint8Array({ maxLength: 2000 }).map((bytes) => ({ kind: "bytes" as const, bytes })),
        fc
          .record({ body: bodyArb, mutations: fc.array(mutationArb, { minLength: 1, maxLength: 6 }) })
          .map((m) => ({ kind: "mutated" as const, ...m })),
        fc
          .array(
            fc.oneof(
              fc.nat(80),
              fc.constantFrom(
                ...[
                  "\r\n",
                  "--",
                  "\r\n\r\n",
                  'Content-Disposition: form-data; name="file"',
                  '; filename="a.csv"',
                  "\r\n--",
                ].map((t) => encoder.encode(t)),
              ),
              fc.uint8Array({ minLength: 1, maxLength: 12 }),
            ),
            { maxLength: 80 },
          )
          .map((pieces) => ({ kind: "soup" as const, pieces })),
      ),
      sizes: chunkSizes,
      strategies: strategiesArb,
    }),
    check: async ({ boundary, body, sizes, strategies }) => {
      const bytes = multipartInput(boundary, body);
      const source = sourceOf(chunksOf(bytes, sizes));
      const outcome = await readBody(source.stream, boundary, strategies);
      if (!source.state.ended && !source.state.cancelled) fail(`the body was left half-read (${outcome.kind})`);
      return outcome.kind === "read" ? `read (${outcome.parts.length} parts)` : "invalid_multipart";
    },
    describe: ({ boundary, body, sizes, strategies }) =>
      `boundary ${JSON.stringify(boundary)}, ${body.kind} body ${preview(multipartInput(boundary, body), 200)}, chunks ${sizes}, read ${strategies}`,
  };

  const roundTrip: FuzzProperty<{ body: BodyInput; sizes: number[]; strategies: ReadStrategy[] }> = {
    name: "multipart: parts round-trip whatever the boundary, chunking, preamble, epilogue and content",
    weight: 2,
    arbitrary: fc.record({ body: bodyArb, sizes: chunkSizes, strategies: strategiesArb }),
    check: async ({ body: input, sizes, strategies }) => {
      const { parts, body } = buildBody(input);
      fc.pre(body !== undefined);
      if (!body) return;
      // The boundary as a client writes it in the Content-Type: quoted, or bare when it is a token (RFC 2045).
      const bare = /^[A-Za-z0-9'+_.-]+$/.test(input.boundary);
      const value = bare && sizes.length % 2 === 0 ? input.boundary : `"${input.boundary}"`;
      const contentType = `${bare && sizes.length > 2 ? "Multipart/Form-Data; charset=utf-8; Boundary" : "multipart/form-data; boundary"}=${value}`;
      if (boundaryOf(contentType) !== input.boundary)
        fail(`boundaryOf(${JSON.stringify(contentType)}) is ${boundaryOf(contentType)}`);
      const outcome = await readBody(sourceOf(chunksOf(body.bytes, sizes)).stream, input.boundary, strategies);
      if (outcome.kind !== "read") fail(`refused: ${outcome.detail}`);
      const problems = compareParts(parts, outcome.parts);
      if (problems.length > 0) fail("the parts read differ from those sent:", problems);
      return `${parts.length} parts`;
    },
    describe: ({ body, sizes, strategies }) => {
      const built = buildBody(body);
      return `boundary ${JSON.stringify(body.boundary)}, ${built.parts.length} parts (${built.parts.map((p) => p.content.length)} bytes), preamble ${body.preamble.length}, epilogue ${body.epilogue.length}, chunks ${sizes}, read ${strategies}`;
    },
  };

  const truncated: FuzzProperty<{ body: BodyInput; cut: number; sizes: number[]; strategies: ReadStrategy[] }> = {
    name: "multipart: a body cut before its closing delimiter is refused, and cut after it reads whole",
    weight: 2,
    arbitrary: fc.record({ body: bodyArb, cut: fc.nat(), sizes: chunkSizes, strategies: strategiesArb }),
    check: async ({ body: input, cut: n, sizes, strategies }) => {
      const { parts, body } = buildBody(input);
      fc.pre(body !== undefined);
      if (!body) return;
      const cut = n % (body.bytes.length + 1);
      const outcome = await readBody(
        sourceOf(chunksOf(body.bytes.subarray(0, cut), sizes)).stream,
        input.boundary,
        strategies,
      );
      if (cut < body.closeEnd) {
        if (outcome.kind === "read")
          fail(`cut at ${cut} of ${body.closeEnd} and read as ${outcome.parts.length} parts`);
        return "cut before the end: refused";
      }
      if (outcome.kind !== "read") fail(`cut in the epilogue at ${cut} and refused: ${outcome.detail}`);
      const problems = compareParts(parts, outcome.parts);
      if (problems.length > 0) fail("the parts read differ from those sent:", problems);
      return "cut after the end: read whole";
    },
    describe: ({ body, cut, sizes }) => {
      const built = buildBody(body);
      return `boundary ${JSON.stringify(body.boundary)}, ${built.parts.length} parts, ${built.body?.bytes.length} bytes cut at ${cut % ((built.body?.bytes.length ?? 0) + 1)} (closing delimiter ends at ${built.body?.closeEnd}), chunks ${sizes}`;
    },
  };

  const intake: FuzzProperty<{ boundary: string; file: Input; options: ValidatorOptions; sizes: number[] }> = {
    name: "intake: a task file streamed through the multipart reader gets the report of the file itself",
    weight: 2,
    arbitrary: fc.record({
      boundary: boundaryArb,
      file: anyInput,
      options: fc.oneof(optionsArb, fc.constant({ limits: { minExamples: 0 } })),
      sizes: chunkSizes,
    }),
    check: async ({ boundary, file, options, sizes }) => {
      const metadata: Part = {
        name: "metadata",
        contentType: "application/json",
        content: encoder.encode('{"title":"t"}'),
      };
      const body = multipartBody(
        [metadata, { name: "file", filename: "task.csv", contentType: "text/csv", content: file.bytes }],
        boundary,
        new Uint8Array(0),
        new Uint8Array(0),
      );
      fc.pre(body !== undefined);
      if (!body) return;
      const direct = await validateBy("push", file.bytes, [file.bytes.length], options);
      const source = sourceOf(chunksOf(body.bytes, sizes));
      const streamed = await streamFilePart(source.stream, boundary, options);
      if (streamed.truncated !== direct.report.truncated) fail("one run stopped at a limit and the other did not");
      const differ = streamed.truncated ? [] : differences(streamed, direct.report);
      if (differ.length > 0) fail("the reports differ (through the multipart reader vs directly):", differ);
      return streamed.truncated ? "stopped at a limit" : streamed.valid ? "valid" : "invalid";
    },
    describe: ({ boundary, file, options, sizes }) =>
      `boundary ${JSON.stringify(boundary)}, file ${file.source} ${preview(file.bytes)}, options ${JSON.stringify(options)}, chunks ${sizes}`,
  };

  return [
    erased(arbitraryBytes),
    erased(mutatedFiles),
    erased(chunking),
    erased(corruptions),
    erased(validExcerpts),
    erased(lineNumbers),
    erased(multipartArbitrary),
    erased(roundTrip),
    erased(truncated),
    erased(intake),
  ];
}

function multipartInput(
  boundary: string,
  body:
    | { kind: "bytes"; bytes: Uint8Array }
    | { kind: "mutated"; body: BodyInput; mutations: Mutation[] }
    | { kind: "soup"; pieces: ContentPiece[] },
): Uint8Array {
  if (body.kind === "bytes") return body.bytes;
  if (body.kind === "soup") return contentOf(body.pieces, boundary);
  const built = buildBody({ ...body.body, boundary });
  return mutate(built.body?.bytes ?? new Uint8Array(0), body.mutations);
}

function compareParts(sent: readonly Part[], read: readonly ReadPart[]): string[] {
  if (sent.length !== read.length) return [`${read.length} parts read, ${sent.length} sent`];
  return sent.flatMap((part, i) => {
    const got = read[i];
    if (!got) return [`part ${i} missing`];
    const problems: string[] = [];
    const same = (what: string, a: unknown, b: unknown): void => {
      if (a !== b) problems.push(`part ${i}: ${what} ${JSON.stringify(a)}, sent ${JSON.stringify(b)}`);
    };
    same("name", got.name, part.name);
    same("filename", got.filename, part.filename);
    same("content type", got.contentType, part.contentType);
    if (got.content && hexOf(got.content, Infinity) !== hexOf(part.content, Infinity)) {
      same("content", hexOf(got.content), hexOf(part.content));
    }
    if (got.text !== undefined) same("text", got.text, decoder.decode(part.content));
    return problems;
  });
}

/** Bytes as their length and hex, cut to `max` hex digits for a message. */
function hexOf(bytes: Uint8Array, max = 400): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${bytes.length}:${hex.length > max ? `${hex.slice(0, max)}…` : hex}`;
}

/** What src/routes/submissions.ts and src/intake/receive-task.ts do with an upload's body, minus the storage. */
async function streamFilePart(
  stream: ReadableStream<Uint8Array>,
  boundary: string,
  options: ValidatorOptions,
): Promise<Validated["report"]> {
  return withMultipart(stream, boundary, async (reader: MultipartReader) => {
    const metadata = await reader.nextPart();
    if (metadata?.name !== "metadata") fail(`first part ${metadata?.name}`);
    JSON.parse(await reader.readBodyText(64 * 1024));
    const file = await reader.nextPart();
    if (file?.name !== "file") fail(`second part ${file?.name}`);
    const validator = new TaskFileValidator(options);
    for await (const chunk of reader.bodyChunks()) {
      await validator.write(chunk);
      if (validator.stopped) break;
    }
    return validator.finish();
  });
}
