import Papa from "papaparse";
import { ByteScanner, type CutRecord } from "./byte-scanner";
import { WorkBudget, feedStream, writeInSlices } from "./event-loop";
import { ExampleIndex } from "./example-index";
import { GroupTally } from "./groups";
import { analyseHeader, type HeaderLayout } from "./header";
import { IssueCollector } from "./issues";
import {
  DEFAULT_LIMITS,
  LengthTally,
  REPORT_SCHEMA_VERSION,
  type ValidationLimits,
  type ValidationReport,
} from "./report";
import { checkRecord, type Example, type Where } from "./row-rules";
import { formatCount, quoted, shortName } from "./text";
import { ACCEPTED_TASK_TYPE_NAMES, isCsvTaskType, resolveTaskType, type CsvTaskType } from "./task-types";

export interface ValidatorOptions {
  /** The submitter's task type name (aliases accepted); inferred from the header when absent. */
  taskType?: string;
  limits?: Partial<ValidationLimits>;
  /** Receives each valid example in file order, as soon as its record is parsed. */
  onExample?: (example: Example) => void;
}

/** papaparse's raw parser returns untyped rows; this is the shape it documents. */
interface RawParse {
  data: string[][];
  errors: { code: string; row: number }[];
  meta: { cursor: number };
}

/** The task type names a CSV may declare, for messages. */
const CSV_TASK_TYPE_NAMES = ACCEPTED_TASK_TYPE_NAMES.filter((name) => name !== "behaviour").join(", ");

/** Parse at least this many characters at a time: request bodies can arrive in 4 KiB pieces. */
const PARSE_BATCH_CHARS = 64 * 1024;

/** A record's cost on top of its bytes, for yielding (event-loop.ts WorkBudget). */
const RECORD_WORK = 64;

/**
 * Validates a task CSV pushed to it in byte chunks, in one pass and bounded memory, and produces the full report.
 * The same code runs in the Worker (request body) and in the CLI (file stream).
 *
 *   bytes → ByteScanner (UTF-8, BOM, row endings) → TextDecoder → papaparse's core parser → header, rows, file rules
 */
export class TaskFileValidator {
  readonly limits: ValidationLimits;
  private readonly issues: IssueCollector;
  private readonly scanner: ByteScanner;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  private readonly parser = new Papa.Parser({ delimiter: ",", newline: "\n", quoteChar: '"' });
  private readonly index: ExampleIndex;
  private readonly promptLengths = new LengthTally();
  private readonly classesPerRow = new Map<number, number>();
  private readonly answerDistribution = new Map<number, number>();
  /** Decoded whole records not yet parsed (ends just after a row end, or is empty). */
  private ready = "";
  /** Decoded start of the record still arriving: never parsed before it is complete. */
  private partial = "";
  /** Records parsed so far, the header included: the ordinal of the next one. */
  private parsedRecords = 0;
  /** Index of the next entry of the scanner's cutRecords to match. */
  private nextCut = 0;
  private readonly work = new WorkBudget();
  private header: string[] | undefined;
  /** The header had more fields than the limit: rows cannot be checked against it. */
  private headerTooWide = false;
  private layout: HeaderLayout | undefined;
  /** Present when the header has a group column. */
  private groups: GroupTally | undefined;
  private taskType: CsvTaskType | undefined;
  private taskTypeSource: "given" | "inferred" | null = null;
  private hasIndexColumn = false;
  private nextLine = 1;
  private records = 0;
  private blankRecords = 0;
  private examples = 0;
  private stoppedEarly = false;
  private finished = false;

  constructor(private readonly options: ValidatorOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.issues = new IssueCollector(this.limits);
    this.index = new ExampleIndex(this.issues);
    this.scanner = new ByteScanner(
      {
        invalidUtf8: (line, byteOffset) =>
          this.issues.add(
            "invalid_utf8",
            () =>
              `Bytes that are not valid UTF-8 at byte ${byteOffset + 1}; save the file as UTF-8 (in Excel: "CSV UTF-8").`,
            { line },
          ),
      },
      { maxFields: this.limits.maxFieldsPerRecord },
    );
  }

  /** True once a limit stopped validation: the caller should stop sending input. */
  get stopped(): boolean {
    return this.stoppedEarly;
  }

  /** True as soon as any error has been found; the file will be rejected. */
  get hasErrors(): boolean {
    return this.issues.hasErrors;
  }

  /**
   * Checks a chunk as `push` does, in slices, letting other work run between them (event-loop.ts writeInSlices): the
   * way to feed a validator inside a Worker, where one upload must not hold the isolate.
   */
  async write(chunk: Uint8Array): Promise<void> {
    await writeInSlices(
      chunk,
      (slice) => this.push(slice),
      () => this.stopped || this.finished,
      this.work,
    );
  }

  push(chunk: Uint8Array): void {
    if (this.stopped || this.finished) return;
    this.work.add(chunk.length);
    if (this.scanner.bytes + chunk.length > this.limits.maxBytes) {
      this.stop(
        "file_too_large",
        `The file is larger than the limit of ${formatBytes(this.limits.maxBytes)}; split it or remove examples.`,
      );
      return;
    }
    this.take(this.scanner.push(chunk), this.scanner.wholeRecordsEnd);
    if (this.scanner.longestRecord > this.limits.maxRecordBytes) {
      this.stop(
        "record_too_long",
        this.scanner.insideQuotes
          ? `A quoted field opened on line ${this.scanner.openQuoteLine} runs past ${formatBytes(this.limits.maxRecordBytes)}: probably a quote that is never closed.`
          : `A record is longer than ${formatBytes(this.limits.maxRecordBytes)}; shorten it.`,
        { line: this.scanner.insideQuotes ? this.scanner.openQuoteLine : this.scanner.longestRecordLine },
      );
      return;
    }
    if (this.ready.length >= PARSE_BATCH_CHARS) this.parseRows(false);
  }

  finish(): ValidationReport {
    if (!this.finished && !this.stopped) {
      this.ready += this.partial + this.decoder.decode(this.scanner.finish());
      this.partial = "";
      this.parsePending(true);
      this.checkWholeFile();
    }
    this.finished = true;
    return this.report();
  }

  /** Records that the metadata describes another format than this file's (it is still checked as a CSV). */
  reportFormatMismatch(message: string, line?: number): void {
    this.issues.add("format_mismatch", message, line === undefined ? {} : { line });
  }

  private stop(code: "file_too_large" | "too_many_rows" | "record_too_long", message: string, where = {}): void {
    this.issues.add(code, message, where);
    this.stoppedEarly = true;
    this.ready = "";
    this.partial = "";
  }

  /**
   * Decodes the scanner's output: its first `wholeEnd` bytes complete the records before them, and join the text
   * to parse; the rest is the start of a record still arriving. The parser only ever sees whole records, so each
   * byte is parsed once however long a record is and however small the chunks it arrives in. (Parsing the open
   * record again at each chunk, as before, cost a wide row's width squared over the chunk size.)
   */
  private take(output: Uint8Array, wholeEnd: number): void {
    if (wholeEnd === 0) {
      this.partial += this.decoder.decode(output, { stream: true });
      return;
    }
    // A row end is an LF, so no UTF-8 sequence spans the split and the decoder holds nothing back at it.
    this.ready += this.partial + this.decoder.decode(output.subarray(0, wholeEnd), { stream: true });
    this.partial = this.decoder.decode(output.subarray(wholeEnd), { stream: true });
  }

  private parsePending(atEnd: boolean): void {
    this.parseRows(false);
    // In final mode papaparse turns a trailing newline into a blank row, so only a non-empty leftover (a last row
    // without a newline, or an unterminated quote) is parsed that way.
    if (atEnd && this.ready.length > 0) this.parseRows(true);
  }

  private parseRows(final: boolean): void {
    const parsed = this.parser.parse(this.ready, 0, !final) as RawParse;
    // Whole records leave nothing behind, unless papaparse reads quotes differently from the scanner.
    this.ready = final ? "" : this.ready.slice(parsed.meta.cursor);
    const rowErrors = new Map<number, string>();
    for (const error of parsed.errors) rowErrors.set(error.row, error.code);
    this.work.add(parsed.data.length * RECORD_WORK);
    parsed.data.forEach((fields, i) => {
      if (this.stoppedEarly) return;
      const cut = this.cutRecord(this.parsedRecords++);
      const line = this.nextLine;
      this.nextLine += 1 + countLineBreaks(fields) + (cut?.droppedLineBreaks ?? 0);
      // A record cut after a stray quote needs nothing more: the parser reports its error.
      const wide = cut?.reason === "fields" ? cut : undefined;
      this.onRecord(fields, line, rowErrors.get(i), wide);
    });
  }

  /** The scanner's note on the record with this ordinal, when it cut the record short. */
  private cutRecord(ordinal: number): CutRecord | undefined {
    const cut = this.scanner.cutRecords;
    const next = cut[this.nextCut];
    if (next?.ordinal !== ordinal) return undefined;
    this.nextCut++;
    // Forget the notes already matched once in a while, so a file of cut records keeps no list of them.
    if (this.nextCut >= 1024) {
      cut.splice(0, this.nextCut);
      this.nextCut = 0;
    }
    return next;
  }

  private onRecord(fields: string[], line: number, parseError: string | undefined, wide?: CutRecord): void {
    if (!this.header) {
      this.onHeader(fields, wide);
      return;
    }
    const row = ++this.records;
    const where = { line, row };
    if (row > this.limits.maxRows) {
      this.stop(
        "too_many_rows",
        `The file has more than ${this.limits.maxRows} data rows, the limit; remove examples.`,
        where,
      );
      return;
    }
    if (wide) {
      this.reportTooWide(wide, where);
      return;
    }
    if (parseError === "MissingQuotes") {
      this.issues.add(
        "unterminated_quote",
        'A quoted field starting on this line is never closed; add the closing quote (").',
        where,
      );
      return;
    }
    if (parseError) {
      // The fields of such a record are not what the author meant, so nothing more is said about them.
      this.issues.add(
        "invalid_quotes",
        'A quoted field has text after its closing quote; write a quote inside a quoted field as two quotes ("").',
        where,
      );
      return;
    }
    if (fields.every((field) => field.trim() === "")) {
      this.blankRecords++;
      this.issues.add("blank_record", "This record is blank and is skipped.", where);
      return;
    }
    // Rows cannot be compared with a header that was cut short.
    if (this.headerTooWide) return;
    const header = this.header;
    if (fields.length !== header.length) {
      this.issues.add(
        "ragged_row",
        () =>
          `This row has ${fields.length} fields but the header has ${header.length}; check for an unquoted comma or a missing field.`,
        where,
      );
      return;
    }
    if (!this.layout || !this.taskType) return;
    const checked = checkRecord(fields, this.layout, this.taskType, where, this.issues, this.limits);
    const example = this.withGroup(checked, fields, where);
    if (!example) return;
    this.examples++;
    this.tally(example);
    this.index.add(example);
    this.options.onExample?.(example);
  }

  /**
   * The row's example with its group, in a file with a group column; undefined when the row or its group has an
   * error. The group is checked, and counted towards the file's groups, whatever the rest of the row holds, so a
   * file with errors still gets every group issue in one pass.
   */
  private withGroup(example: Example | undefined, fields: string[], where: Where): Example | undefined {
    const field = this.layout?.index.group;
    if (!this.groups || field === undefined) return example;
    const group = this.groups.accept(fields[field] ?? "", where);
    if (!example || group === undefined) return undefined;
    this.groups.countExample(group);
    // Set on the fresh example rather than spread into a copy: a copy per row doubled the time to check a file.
    example.group = group;
    return example;
  }

  private onHeader(fields: string[], wide: CutRecord | undefined): void {
    this.header = fields;
    if (wide) {
      // Its first columns may not be the ones meant (an unquoted comma?): say only that it is too wide.
      this.headerTooWide = true;
      this.reportTooWide(wide, { line: 1, row: 0 });
      return;
    }
    const given = this.resolveGivenTaskType();
    if (given === "invalid") return;
    const analysis = analyseHeader(fields, given, this.issues);
    this.taskType = analysis.taskType;
    this.hasIndexColumn = analysis.ok ? analysis.layout.hasIndexColumn : analysis.hasIndexColumn;
    if (analysis.ok) {
      this.layout = analysis.layout;
      this.taskTypeSource = analysis.taskTypeSource;
      if (analysis.layout.index.group !== undefined) this.groups = new GroupTally(this.issues);
    } else if (analysis.taskType) {
      this.taskTypeSource = given ? "given" : "inferred";
    }
  }

  private reportTooWide(wide: CutRecord, where: { line: number; row: number }): void {
    const limit = this.limits.maxFieldsPerRecord;
    this.issues.add(
      "too_many_fields",
      `This ${where.row === 0 ? "header" : "record"} has ${formatCount(wide.fields)} fields; at most ${formatCount(limit)} are allowed (the task formats need at most 5). The fields after the first ${formatCount(limit)} were not read: check for commas outside quotes.`,
      { ...where, column: String(limit + 1) },
    );
  }

  private resolveGivenTaskType(): CsvTaskType | undefined | "invalid" {
    const name = this.options.taskType;
    if (name === undefined) return undefined;
    const resolution = resolveTaskType(name);
    if (resolution.ok && isCsvTaskType(resolution.taskType)) return resolution.taskType;
    if (resolution.ok) {
      this.issues.add(
        "format_mismatch",
        `Task type ${quoted(name)} is a model-written evaluation's (JSON Lines), but this file is a CSV; give a CSV task type (${CSV_TASK_TYPE_NAMES}) or leave it out.`,
        {},
      );
    } else if (resolution.reason === "legacy") {
      this.issues.add(
        "legacy_task_type",
        `Task type ${quoted(name)} is an early name; did you mean "${resolution.suggestion}"?`,
        {},
      );
    } else {
      this.issues.add(
        "task_type_unknown",
        `Task type ${quoted(name)} is not known; use one of ${CSV_TASK_TYPE_NAMES}.`,
        {},
      );
    }
    return "invalid";
  }

  private tally(example: Example): void {
    this.promptLengths.add(example.prompt.length);
    if ("answerIndex" in example) {
      bump(this.classesPerRow, example.classes.length);
      bump(this.answerDistribution, example.answerIndex);
    }
  }

  private checkWholeFile(): void {
    const scan = this.scanner;
    if (!this.header) {
      this.issues.add("empty_file", "The file is empty; it needs a header row and one row per example.", {});
      return;
    }
    if (scan.hadBom) {
      this.issues.add("utf8_bom", "The file starts with a byte-order mark (BOM); it is accepted and ignored.", {
        line: 1,
      });
    }
    if (scan.crlfEndings > 0 && scan.firstMixedEndingLine === undefined) {
      this.issues.add("crlf_line_endings", "Rows end with CRLF (Windows style); they are accepted and read as LF.", {
        line: 1,
      });
    }
    if (scan.firstMixedEndingLine !== undefined) {
      this.issues.add(
        "mixed_line_endings",
        `Rows end with a mix of styles (LF ${scan.lfEndings}, CRLF ${scan.crlfEndings}, CR ${scan.crEndings}); the first change is on line ${scan.firstMixedEndingLine}. They are all read as row ends.`,
        { line: scan.firstMixedEndingLine },
      );
    }
    const constant = this.index.constantAnswer();
    if (constant && this.taskType !== "numeric") {
      this.issues.add(
        "constant_answer_index",
        `Every example has answer_index ${constant.answer}: a model that always picks that position scores perfectly. Shuffle the classes.`,
        { column: "answer_index" },
      );
    }
    const dataRecords = this.records - this.blankRecords;
    if (dataRecords < this.limits.minExamples) {
      this.issues.add(
        "too_few_examples",
        `The file has ${dataRecords} example${dataRecords === 1 ? "" : "s"}; at least ${this.limits.minExamples} are needed (about 1000 are recommended).`,
        {},
      );
    }
  }

  private report(): ValidationReport {
    const issues = [...this.issues.listed].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    const hasClasses = this.taskType !== undefined && this.taskType !== "sequence_prob" && this.taskType !== "numeric";
    const promptLength = this.promptLengths.summary();
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      valid: !this.issues.hasErrors,
      taskType: this.taskType ?? null,
      taskTypeSource: this.taskType ? this.taskTypeSource : null,
      issues,
      errorCount: this.issues.errorCount,
      warningCount: this.issues.warningCount,
      omittedIssues: this.issues.omitted,
      counts: this.issues.counts,
      truncated: this.stoppedEarly,
      columns: { header: (this.header ?? []).map(shortName), indexColumn: this.hasIndexColumn },
      stats: {
        bytes: this.scanner.bytes,
        lines: this.stoppedEarly ? this.scanner.line : Math.max(0, this.nextLine - 1),
        records: this.records,
        blankRecords: this.blankRecords,
        examples: this.examples,
        lineEndings: { lf: this.scanner.lfEndings, crlf: this.scanner.crlfEndings, cr: this.scanner.crEndings },
        bom: this.scanner.hadBom,
        ...(hasClasses
          ? { classesPerRow: asRecord(this.classesPerRow), answerDistribution: asRecord(this.answerDistribution) }
          : {}),
        ...(promptLength ? { promptLength } : {}),
        ...(this.groups ? { groups: this.groups.summary() } : {}),
      },
      limits: this.limits,
    };
  }
}

/** Validates a whole stream (for the CLI and tests); stops reading as soon as a limit is reached. */
export async function validateStream(
  stream: ReadableStream<Uint8Array>,
  options: ValidatorOptions = {},
): Promise<ValidationReport> {
  const validator = new TaskFileValidator(options);
  await feedStream(stream, validator);
  return validator.finish();
}

/** Line breaks inside a record's fields (CRLF, LF or a lone CR each count once), to keep line numbers physical. */
function countLineBreaks(fields: string[]): number {
  let breaks = 0;
  for (const field of fields) {
    for (let at = field.indexOf("\n"); at !== -1; at = field.indexOf("\n", at + 1)) breaks++;
    if (field.indexOf("\r") === -1) continue;
    for (let at = field.indexOf("\r"); at !== -1; at = field.indexOf("\r", at + 1))
      if (field[at + 1] !== "\n") breaks++;
  }
  return breaks;
}

function bump(map: Map<number, number>, key: number): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function asRecord(map: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => a - b).map(([key, count]) => [String(key), count]));
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${bytes} bytes`;
}
