/**
 * Single-point corruptions of a valid task, each with the outcome it must have: the exact errors (code, line, row,
 * column), or, where a broken quote swallows what follows, the first error. Each kind applies only where its
 * outcome is well defined; the expected outcome comes from the format's rules and the test's own CSV model, not
 * from the validator.
 */
// Used only to count the classes of a base's (valid) cell, to aim an answer_index just past them.
import { parseClassesLiteral } from "../../src/validate/classes-literal";
import { LEGACY_NAME, REQUIRED, type Base, type TaskType } from "./corpus";
import {
  type CsvField,
  type CsvModel,
  type CsvRecord,
  csvField,
  lineAt,
  quotedFieldOutcome,
  rawOffset,
} from "./csv-model";

/** The limits a corruption may aim just past (undefined while the validator has no such limit). */
export interface KnownLimits {
  maxFieldsPerRecord?: number;
  maxClasses?: number;
  maxPromptChars?: number;
}

/** What the report must say, as `code@line/row/column` ("-" for absent parts). */
export type Expected =
  | {
      mode: "exact";
      /** Every error, in any order; warnings are not compared (a corruption may add some). */
      errors: string[];
      /** Text the first error with this code must contain (a byte offset, a character position). */
      message?: { code: string; includes: string };
    }
  | { mode: "first"; error: string };

export interface Corruption {
  kind: string;
  /** What was done, for a counterexample. */
  description: string;
  bytes: Uint8Array;
  /** The task type must be given with the file (the header no longer tells it). */
  needsType: boolean;
  /**
   * A well-formed CSV whose records have the rows and lines of the corrupted file's (the corrupted text itself, or
   * the excerpt when only bytes changed): the examples handed on must carry those. Absent when a quote is broken.
   */
  linesFrom?: string;
  expected: Expected;
}

/** The integers a case is drawn from; each is reduced modulo the number of choices. */
export interface Picks {
  kind: number;
  record: number;
  field: number;
  position: number;
  variant: number;
  extra: number;
  /** Invalid UTF-8 sequence to insert (bytes 0x80 to 0xFF). */
  sequence: Uint8Array;
}

interface Context {
  base: Base;
  model: CsvModel;
  text: string;
  taskType: TaskType;
  limits: KnownLimits;
  /** Whether the validator knows this code (new codes appear while src/validate is being extended). */
  knows: (code: string) => boolean;
}

type Kind = (context: Context, picks: Picks) => Corruption | undefined;

const encoder = new TextEncoder();
const where = (code: string, line?: number, row?: number, column?: string): string =>
  `${code}@${line ?? "-"}/${row ?? "-"}/${column ?? "-"}`;
const pick = <T>(items: readonly T[], n: number): T | undefined => items[n % Math.max(1, items.length)];

/** The first defined `attempt(k)` for k = n, n + 1, ... modulo `length` (each index tried once). */
function firstFrom<T>(n: number, length: number, attempt: (k: number) => T | undefined): T | undefined {
  for (let i = 0; i < length; i++) {
    const found = attempt((n + i) % length);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The text with text[from, to) replaced: as bytes (and text), and the byte offset of the replacement. */
function edit(text: string, from: number, to: number, insert: string): { bytes: Uint8Array; at: number; text: string };
function edit(text: string, from: number, to: number, insert: Uint8Array): { bytes: Uint8Array; at: number };
function edit(
  text: string,
  from: number,
  to: number,
  insert: string | Uint8Array,
): { bytes: Uint8Array; at: number; text?: string } {
  const before = encoder.encode(text.slice(0, from));
  const middle = typeof insert === "string" ? encoder.encode(insert) : insert;
  const after = encoder.encode(text.slice(to));
  const bytes = new Uint8Array(before.length + middle.length + after.length);
  bytes.set(before, 0);
  bytes.set(middle, before.length);
  bytes.set(after, before.length + middle.length);
  const edited = typeof insert === "string" ? { text: text.slice(0, from) + insert + text.slice(to) } : {};
  return { bytes, at: before.length, ...edited };
}

/** An edit's bytes, and its text as the file whose records give the examples' rows and lines. */
const withLines = (edited: { bytes: Uint8Array; text: string }): { bytes: Uint8Array; linesFrom: string } => ({
  bytes: edited.bytes,
  linesFrom: edited.text,
});

/** The data records (row = index + 1). */
function rows(context: Context): CsvRecord[] {
  return context.model.records.slice(1);
}

function cellOf(context: Context, record: CsvRecord, column: string): CsvField | undefined {
  const index = context.base.column[column];
  return index === undefined ? undefined : record.fields[index];
}

function hasClasses(type: TaskType): boolean {
  return type === "classification" || type === "logodds" || type === "absolute_logodds";
}

/** A data record chosen by `n`, with its row number. */
function chooseRow(context: Context, n: number): { record: CsvRecord; row: number } | undefined {
  const data = rows(context);
  if (data.length === 0) return undefined;
  const index = n % data.length;
  const record = data[index];
  return record ? { record, row: index + 1 } : undefined;
}

function replaceCell(
  context: Context,
  kind: string,
  record: CsvRecord,
  column: string,
  value: string,
): Omit<Corruption, "expected" | "needsType"> | undefined {
  const field = cellOf(context, record, column);
  if (!field) return undefined;
  const raw = csvField(value);
  const edited = edit(context.text, field.start, field.end, raw);
  return {
    kind,
    description: `line ${record.line}: ${column} ${JSON.stringify(field.value.slice(0, 60))} -> ${JSON.stringify(raw.slice(0, 60))}`,
    bytes: edited.bytes,
    linesFrom: edited.text,
  };
}

const blankCell: Kind = (context, picks) => {
  const chosen = chooseRow(context, picks.record);
  const column = pick(REQUIRED[context.taskType], picks.field);
  if (!chosen || !column) return undefined;
  const blank = pick(["", " ", "  \t ", "\u00a0"], picks.variant) ?? "";
  const replaced = replaceCell(context, "blank_cell", chosen.record, column, blank);
  if (!replaced) return undefined;
  return {
    ...replaced,
    needsType: false,
    expected: { mode: "exact", errors: [where("empty_value", chosen.record.line, chosen.row, column)] },
  };
};

const INVALID_INDEXES = ["1.5", "x", "one", "1e0", "0x1", "1 2", "#", "\u0663", "\u22121", "+-1", "0.5", "NaN"];

const answerIndex: Kind = (context, picks) => {
  if (!hasClasses(context.taskType)) return undefined;
  const chosen = chooseRow(context, picks.record);
  const classesCell = chosen && cellOf(context, chosen.record, "classes");
  if (!chosen || !classesCell) return undefined;
  const parsed = parseClassesLiteral(classesCell.value);
  if (!parsed.ok) throw new Error(`base classes do not parse: ${classesCell.value}`);
  const count = parsed.classes.length;
  let value: string;
  let code: string;
  switch (picks.variant % 3) {
    case 0: {
      const index = picks.extra % 7 === 6 ? "9".repeat(20 + (picks.extra % 11)) : String(count + (picks.extra % 50));
      value = `${picks.extra % 5 === 1 ? "+" : ""}${index}${picks.extra % 4 === 3 ? ".0" : ""}`;
      code = "answer_index_out_of_range";
      break;
    }
    case 1:
      value = `-${1 + (picks.extra % 1000)}${picks.extra % 4 === 3 ? ".0" : ""}`;
      code = "answer_index_negative";
      break;
    default:
      value = pick(INVALID_INDEXES, picks.extra) ?? "x";
      code = "answer_index_invalid";
  }
  const replaced = replaceCell(context, "answer_index", chosen.record, "answer_index", value);
  if (!replaced) return undefined;
  return {
    ...replaced,
    needsType: false,
    expected: { mode: "exact", errors: [where(code, chosen.record.line, chosen.row, "answer_index")] },
  };
};

const classesCell: Kind = (context, picks) => {
  if (!hasClasses(context.taskType)) return undefined;
  const chosen = chooseRow(context, picks.record);
  const cell = chosen && cellOf(context, chosen.record, "classes");
  if (!chosen || !cell) return undefined;
  const parsed = parseClassesLiteral(cell.value);
  if (!parsed.ok) throw new Error(`base classes do not parse: ${cell.value}`);
  const classes = parsed.classes;
  const twoOnly = context.taskType !== "classification";
  const i = picks.extra % classes.length;
  const j = (i + 1 + (picks.position % (classes.length - 1))) % classes.length;
  let value: string;
  let code: string;
  switch (picks.variant % 5) {
    case 0:
      value = JSON.stringify(classes.map((name, k) => (k === j ? (classes[i] ?? name) : name)));
      code = "duplicate_class";
      break;
    case 1:
      value = JSON.stringify(classes.map((name, k) => (k === j ? "" : name)));
      code = "class_empty";
      break;
    case 2:
      value = JSON.stringify(classes.slice(0, picks.extra % 2));
      code = twoOnly ? "wrong_class_count" : "too_few_classes";
      break;
    case 3: {
      const max = context.limits.maxClasses;
      if (twoOnly) {
        value = JSON.stringify([...classes, " another"]);
        code = "wrong_class_count";
      } else {
        if (max === undefined || !context.knows("too_many_classes")) return undefined;
        value = JSON.stringify(Array.from({ length: max + 1 + (picks.position % 30) }, (_, k) => ` c${k}`));
        code = "too_many_classes";
      }
      break;
    }
    default:
      value = picks.position % 2 === 0 ? cell.value.trimEnd().replace(/\]$/, "") : "Yes, No";
      code = "classes_invalid";
  }
  const replaced = replaceCell(context, "classes", chosen.record, "classes", value);
  if (!replaced) return undefined;
  return {
    ...replaced,
    needsType: false,
    expected: { mode: "exact", errors: [where(code, chosen.record.line, chosen.row, "classes")] },
  };
};

/** Quoted fields of data records, with their record and row. */
function quotedFields(context: Context): { record: CsvRecord; row: number; field: CsvField }[] {
  return rows(context).flatMap((record, index) =>
    record.fields.filter((field) => field.quoted).map((field) => ({ record, row: index + 1, field })),
  );
}

const deleteClosingQuote: Kind = (context, picks) => {
  // Only where papaparse's search for the next closing quote is not immediately satisfied: then the record breaks.
  const candidates = quotedFields(context);
  return firstFrom(picks.record, candidates.length, (k) => {
    const chosen = candidates[k];
    if (!chosen) return undefined;
    const { record, row, field } = chosen;
    const quote = field.contentEnd;
    const text = context.text.slice(0, quote) + context.text.slice(quote + 1);
    const code = quotedFieldOutcome(text, quote);
    if (code === "closes") return undefined;
    return {
      kind: "delete_closing_quote",
      description: `line ${record.line}: closing quote of field ${record.fields.indexOf(field)} deleted`,
      bytes: encoder.encode(text),
      needsType: false,
      expected: { mode: "first", error: where(code, record.line, row) },
    };
  });
};

const textAfterQuote: Kind = (context, picks) => {
  const chosen = pick(quotedFields(context), picks.record);
  if (!chosen) return undefined;
  const { record, row, field } = chosen;
  const inserted = pick(["x", "0", "A", "é", "'", "]"], picks.variant) ?? "x";
  const quote = field.contentEnd;
  const text = context.text.slice(0, quote + 1) + inserted + context.text.slice(quote + 1);
  const code = quotedFieldOutcome(text, quote);
  return {
    kind: "text_after_quote",
    description: `line ${record.line}: ${JSON.stringify(inserted)} after the closing quote of field ${record.fields.indexOf(field)}`,
    bytes: encoder.encode(text),
    needsType: false,
    expected: { mode: "first", error: where(code, record.line, row) },
  };
};

/** Columns whose text is free (a prompt, a completion, an ignored column): a bad byte there breaks nothing else. */
function textColumns(context: Context): number[] {
  const structured = new Set(["classes", "answer_index", "true_answer", "anchor"]);
  const header = context.model.records[0];
  return (header?.fields ?? []).flatMap((field, i) => (structured.has(field.value) ? [] : [i]));
}

/** Makes `bytes` an invalid sequence from its first byte on, with no U+FFFD of its own; returns its U+FFFD count. */
function invalidSequence(bytes: Uint8Array): { sequence: Uint8Array; replacements: number } {
  let sequence = Uint8Array.from(bytes.length > 0 ? bytes : [0xff]);
  for (let k = 0; k + 2 < sequence.length; k++) {
    if (sequence[k] === 0xef && sequence[k + 1] === 0xbf && sequence[k + 2] === 0xbd) sequence[k] = 0xff;
  }
  if (!new TextDecoder().decode(sequence).startsWith("\uFFFD")) sequence = Uint8Array.from([0x80, ...sequence]);
  const decoded = new TextDecoder().decode(sequence);
  return { sequence, replacements: [...decoded].filter((c) => c === "\uFFFD").length };
}

const invalidUtf8: Kind = (context, picks) => {
  const columns = textColumns(context);
  const data = rows(context);
  const chosen = firstFrom(picks.record, data.length, (k) => {
    const record = data[k];
    const positions: number[] = [];
    for (const i of columns) {
      const field = record?.fields[i];
      if (!field) continue;
      for (let at = field.contentStart; at < field.contentEnd; at++) {
        const code = context.text.charCodeAt(at);
        if (code < 0x80 && code !== 0x22 && code !== 0x0a && code !== 0x0d) positions.push(at);
      }
    }
    return record && positions.length > 0 ? { record, positions } : undefined;
  });
  const at = chosen && pick(chosen.positions, picks.position);
  if (!chosen || at === undefined) return undefined;
  const { sequence, replacements } = invalidSequence(picks.sequence);
  const replace = picks.variant % 2 === 0;
  const changed = edit(context.text, at, replace ? at + 1 : at, sequence);
  const line = lineAt(context.model, chosen.record, at);
  const hex = [...sequence].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return {
    kind: "invalid_utf8",
    description: `line ${line}: ${replace ? `${JSON.stringify(context.text[at])} replaced by` : "inserted"} bytes ${hex} at byte ${changed.at}`,
    bytes: changed.bytes,
    needsType: false,
    linesFrom: context.text,
    expected: {
      mode: "exact",
      errors: Array.from({ length: replacements }, () => where("invalid_utf8", line)),
      message: { code: "invalid_utf8", includes: `at byte ${changed.at + 1};` },
    },
  };
};

/** 1234567 as "1,234,567". */
const thousands = (n: number): string => n.toLocaleString("en-US");

const promptColumns = (type: TaskType): string[] =>
  type === "sequence_prob"
    ? ["prompt", "completion"]
    : type === "logodds" || type === "absolute_logodds"
      ? ["prompt", "other_prompt"]
      : ["prompt"];

const nulCharacter: Kind = (context, picks) => {
  if (!context.knows("nul_character")) return undefined;
  const chosen = chooseRow(context, picks.record);
  const column = pick(promptColumns(context.taskType), picks.field);
  const field = chosen && column ? cellOf(context, chosen.record, column) : undefined;
  if (!chosen || !column || !field) return undefined;
  let index = picks.position % (field.value.length + 1);
  const before = field.value.charCodeAt(index - 1);
  if (before >= 0xd800 && before <= 0xdbff) index++; // never between the halves of a surrogate pair
  const at = rawOffset(field, context.text, index);
  return {
    kind: "nul_character",
    description: `line ${chosen.record.line}: NUL inserted in ${column} at character ${index + 1}`,
    ...withLines(edit(context.text, at, at, "\u0000")),
    needsType: false,
    expected: {
      mode: "exact",
      errors: [where("nul_character", chosen.record.line, chosen.row, column)],
      message: { code: "nul_character", includes: `at character ${thousands(index + 1)};` },
    },
  };
};

const promptTooLong: Kind = (context, picks) => {
  const max = context.limits.maxPromptChars;
  if (max === undefined || !context.knows("prompt_too_long")) return undefined;
  const chosen = chooseRow(context, picks.record);
  const columns = promptColumns(context.taskType).filter((name) => name !== "completion");
  const column = pick(columns, picks.field);
  const field = chosen && column ? cellOf(context, chosen.record, column) : undefined;
  if (!chosen || !column || !field) return undefined;
  const value = "x".repeat(Math.max(0, max + 1 - field.value.length) + (picks.extra % 100)) + field.value;
  const replaced = replaceCell(context, "prompt_too_long", chosen.record, column, value);
  if (!replaced) return undefined;
  return {
    ...replaced,
    description: `line ${chosen.record.line}: ${column} lengthened to ${value.length} characters`,
    needsType: false,
    expected: { mode: "exact", errors: [where("prompt_too_long", chosen.record.line, chosen.row, column)] },
  };
};

const extraFields: Kind = (context, picks) => {
  const chosen = chooseRow(context, picks.record);
  if (!chosen) return undefined;
  const { record, row } = chosen;
  const width = record.fields.length;
  const max = context.knows("too_many_fields") ? context.limits.maxFieldsPerRecord : undefined;
  const wide = max !== undefined && picks.variant % 2 === 1;
  const added = wide ? max + 1 - width + (picks.extra % 200) : 1 + (picks.extra % 5);
  // Commas at the end of the record, or after its first field (then a wide record's dropped fields hold whatever
  // the record has after it, line breaks in quoted fields included), or one that splits an unquoted field.
  const unquoted = record.fields.filter((field) => !field.quoted && field.end - field.start >= 2);
  const splitField = !wide && picks.variant % 4 === 2 ? pick(unquoted, picks.field) : undefined;
  const first = record.fields[0];
  const at = splitField ? splitField.start + 1 : picks.field % 2 === 1 && first ? first.end : record.end;
  const inserted = splitField ? "," : ",".repeat(added);
  const fields = width + inserted.length;
  const code = max !== undefined && fields > max ? "too_many_fields" : "ragged_row";
  return {
    kind: "extra_fields",
    description: `line ${record.line}: ${inserted.length} comma(s) inserted at offset ${at} (${fields} fields)`,
    ...withLines(edit(context.text, at, at, inserted)),
    needsType: false,
    expected: {
      mode: "exact",
      errors: [where(code, record.line, row, code === "too_many_fields" ? String((max ?? 0) + 1) : undefined)],
    },
  };
};

function renameHeaderCell(context: Context, index: number, name: string): { bytes: Uint8Array; linesFrom: string } {
  const field = context.model.records[0]?.fields[index];
  if (!field) throw new Error(`no header field ${index}`);
  return withLines(edit(context.text, field.start, field.end, csvField(name)));
}

const duplicateColumn: Kind = (context, picks) => {
  const header = context.model.records[0];
  if (!header) return undefined;
  const required = REQUIRED[context.taskType];
  const copied = pick(required, picks.field);
  const from = copied === undefined ? undefined : context.base.column[copied];
  if (copied === undefined || from === undefined) return undefined;
  const others = header.fields.map((_, i) => i).filter((i) => i !== from);
  const into = pick(others, picks.position);
  const replaced = into === undefined ? undefined : header.fields[into]?.value;
  if (into === undefined || replaced === undefined) return undefined;
  const errors = [where("duplicate_column", 1, 0, copied)];
  if (required.includes(replaced)) errors.push(where("missing_column", 1, 0, replaced));
  return {
    kind: "duplicate_column",
    description: `header: column ${into} (${JSON.stringify(replaced)}) renamed ${JSON.stringify(copied)}`,
    ...renameHeaderCell(context, into, copied),
    needsType: true,
    expected: { mode: "exact", errors },
  };
};

const renameColumn: Kind = (context, picks) => {
  const required = REQUIRED[context.taskType];
  const column = pick(required, picks.field);
  const index = column === undefined ? undefined : context.base.column[column];
  if (column === undefined || index === undefined) return undefined;
  const legacy = LEGACY_NAME[column];
  if (legacy !== undefined && picks.variant % 2 === 0) {
    return {
      kind: "legacy_column",
      description: `header: ${column} renamed ${legacy}`,
      ...renameHeaderCell(context, index, legacy),
      needsType: false,
      expected: { mode: "exact", errors: [where("legacy_column", 1, 0, legacy)] },
    };
  }
  const typos = [column.toUpperCase(), `${column}s`, column.replace("_", " "), `${column}_`].filter(
    (t) => t !== column,
  );
  const typo = pick(typos, picks.extra) ?? `${column}_`;
  return {
    kind: "missing_column",
    description: `header: ${column} renamed ${JSON.stringify(typo)}`,
    ...renameHeaderCell(context, index, typo),
    needsType: true,
    expected: { mode: "exact", errors: [where("missing_column", 1, 0, column)] },
  };
};

const truncateInQuote: Kind = (context, picks) => {
  const chosen = pick(quotedFields(context), picks.record);
  if (!chosen) return undefined;
  const { record, row, field } = chosen;
  let index = picks.position % (field.value.length + 1);
  const before = field.value.charCodeAt(index - 1);
  if (before >= 0xd800 && before <= 0xdbff) index--;
  const at = rawOffset(field, context.text, index);
  return {
    kind: "truncate_in_quote",
    description: `file cut at offset ${at}, inside the quoted field ${record.fields.indexOf(field)} of line ${record.line}`,
    bytes: encoder.encode(context.text.slice(0, at)),
    needsType: false,
    linesFrom: context.text,
    expected: { mode: "exact", errors: [where("unterminated_quote", record.line, row)] },
  };
};

const joinRecords: Kind = (context, picks) => {
  const data = rows(context);
  const candidates = data.flatMap((record, i) => {
    const next = data[i + 1];
    const last = record.fields.at(-1);
    const first = next?.fields[0];
    return next && last && first && !last.quoted && !first.quoted ? [{ record, row: i + 1 }] : [];
  });
  const chosen = pick(candidates, picks.record);
  if (!chosen) return undefined;
  const { record, row } = chosen;
  return {
    kind: "join_records",
    description: `line ${record.line}: row end deleted, joining rows ${row} and ${row + 1}`,
    ...withLines(edit(context.text, record.end, record.next, "")),
    needsType: false,
    expected: { mode: "exact", errors: [where("ragged_row", record.line, row)] },
  };
};

const INVALID_NUMBERS = [
  "abc",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e999",
  "--1",
  "1..2",
  "12abc",
  "0x",
  "1_000",
  "\u0661\u0662",
];

const numberInvalid: Kind = (context, picks) => {
  if (context.taskType !== "numeric") return undefined;
  const chosen = chooseRow(context, picks.record);
  const column = pick(["true_answer", "anchor"], picks.field);
  if (!chosen || !column) return undefined;
  const replaced = replaceCell(
    context,
    "number_invalid",
    chosen.record,
    column,
    pick(INVALID_NUMBERS, picks.extra) ?? "x",
  );
  if (!replaced) return undefined;
  return {
    ...replaced,
    needsType: false,
    expected: { mode: "exact", errors: [where("number_invalid", chosen.record.line, chosen.row, column)] },
  };
};

export const KINDS: Readonly<Record<string, Kind>> = {
  blank_cell: blankCell,
  answer_index: answerIndex,
  classes: classesCell,
  delete_closing_quote: deleteClosingQuote,
  text_after_quote: textAfterQuote,
  invalid_utf8: invalidUtf8,
  nul_character: nulCharacter,
  prompt_too_long: promptTooLong,
  extra_fields: extraFields,
  duplicate_column: duplicateColumn,
  rename_column: renameColumn,
  truncate_in_quote: truncateInQuote,
  join_records: joinRecords,
  number_invalid: numberInvalid,
};

/**
 * The corruption `picks` chooses among those that apply to this excerpt (a kind that does not apply to its task
 * type passes to the next one), or undefined when none does.
 */
export function corrupt(
  base: Base,
  excerpt: { text: string; model: CsvModel },
  limits: KnownLimits,
  knows: (code: string) => boolean,
  picks: Picks,
): Corruption | undefined {
  const context: Context = { base, ...excerpt, taskType: base.taskType, limits, knows };
  const kinds = Object.values(KINDS);
  for (let k = 0; k < kinds.length; k++) {
    const kind = kinds[(picks.kind + k) % kinds.length];
    const corruption = kind?.(context, picks);
    if (corruption) return corruption;
  }
  return undefined;
}
