import Papa from "papaparse";
import { ByteScanner } from "./byte-scanner";
import { ExampleIndex } from "./example-index";
import { analyseHeader, type HeaderLayout } from "./header";
import { IssueCollector } from "./issues";
import {
  DEFAULT_LIMITS,
  LengthTally,
  REPORT_SCHEMA_VERSION,
  type ValidationLimits,
  type ValidationReport,
} from "./report";
import { checkRecord, type Example } from "./row-rules";
import { ACCEPTED_TASK_TYPE_NAMES, resolveTaskType, type TaskType } from "./task-types";

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

/** Parse at least this many characters at a time: request bodies can arrive in 4 KiB pieces. */
const PARSE_BATCH_CHARS = 64 * 1024;

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
  private pending = "";
  private header: string[] | undefined;
  private layout: HeaderLayout | undefined;
  private taskType: TaskType | undefined;
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
    this.scanner = new ByteScanner({
      invalidUtf8: (line, byteOffset) =>
        this.issues.add(
          "invalid_utf8",
          `Bytes that are not valid UTF-8 at byte ${byteOffset + 1}; save the file as UTF-8 (in Excel: "CSV UTF-8").`,
          { line },
        ),
    });
  }

  /** True once a limit stopped validation: the caller should stop sending input. */
  get stopped(): boolean {
    return this.stoppedEarly;
  }

  /** True as soon as any error has been found; the file will be rejected. */
  get hasErrors(): boolean {
    return this.issues.hasErrors;
  }

  push(chunk: Uint8Array): void {
    if (this.stoppedEarly || this.finished) return;
    if (this.scanner.bytes + chunk.length > this.limits.maxBytes) {
      this.stop(
        "file_too_large",
        `The file is larger than the limit of ${formatBytes(this.limits.maxBytes)}; split it or remove examples.`,
      );
      return;
    }
    this.pending += this.decoder.decode(this.scanner.push(chunk), { stream: true });
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
    if (this.pending.length >= PARSE_BATCH_CHARS) this.parsePending(false);
  }

  finish(): ValidationReport {
    if (!this.finished && !this.stoppedEarly) {
      this.pending += this.decoder.decode(this.scanner.finish());
      this.parsePending(true);
      this.checkWholeFile();
    }
    this.finished = true;
    return this.report();
  }

  private stop(code: "file_too_large" | "too_many_rows" | "record_too_long", message: string, where = {}): void {
    this.issues.add(code, message, where);
    this.stoppedEarly = true;
    this.pending = "";
  }

  private parsePending(atEnd: boolean): void {
    this.parseRows(false);
    // In final mode papaparse turns a trailing newline into a blank row, so only a non-empty leftover (a last row
    // without a newline, or an unterminated quote) is parsed that way.
    if (atEnd && this.pending.length > 0) this.parseRows(true);
  }

  private parseRows(final: boolean): void {
    const parsed = this.parser.parse(this.pending, 0, !final) as RawParse;
    this.pending = final ? "" : this.pending.slice(parsed.meta.cursor);
    const rowErrors = new Map<number, string>();
    for (const error of parsed.errors) rowErrors.set(error.row, error.code);
    parsed.data.forEach((fields, i) => {
      if (this.stoppedEarly) return;
      const line = this.nextLine;
      this.nextLine += 1 + countLineBreaks(fields);
      this.onRecord(fields, line, rowErrors.get(i));
    });
  }

  private onRecord(fields: string[], line: number, parseError: string | undefined): void {
    if (!this.header) {
      this.onHeader(fields);
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
    if (fields.length !== this.header.length) {
      this.issues.add(
        "ragged_row",
        `This row has ${fields.length} fields but the header has ${this.header.length}; check for an unquoted comma or a missing field.`,
        where,
      );
      return;
    }
    if (!this.layout || !this.taskType) return;
    const example = checkRecord(fields, this.layout, this.taskType, where, this.issues);
    if (!example) return;
    this.examples++;
    this.tally(example);
    this.index.add(example);
    this.options.onExample?.(example);
  }

  private onHeader(fields: string[]): void {
    this.header = fields;
    const given = this.resolveGivenTaskType();
    if (given === "invalid") return;
    const analysis = analyseHeader(fields, given, this.issues);
    this.taskType = analysis.taskType;
    this.hasIndexColumn = analysis.ok ? analysis.layout.hasIndexColumn : analysis.hasIndexColumn;
    if (analysis.ok) {
      this.layout = analysis.layout;
      this.taskTypeSource = analysis.taskTypeSource;
    } else if (analysis.taskType) {
      this.taskTypeSource = given ? "given" : "inferred";
    }
  }

  private resolveGivenTaskType(): TaskType | undefined | "invalid" {
    const name = this.options.taskType;
    if (name === undefined) return undefined;
    const resolution = resolveTaskType(name);
    if (resolution.ok) return resolution.taskType;
    if (resolution.reason === "legacy") {
      this.issues.add(
        "legacy_task_type",
        `Task type "${name}" is an early name; did you mean "${resolution.suggestion}"?`,
        {},
      );
    } else {
      this.issues.add(
        "task_type_unknown",
        `Task type "${name}" is not known; use one of ${ACCEPTED_TASK_TYPE_NAMES.join(", ")}.`,
        {},
      );
    }
    return "invalid";
  }

  private tally(example: Example): void {
    this.promptLengths.add(example.prompt.length);
    if ("classes" in example) {
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
      columns: { header: this.header ?? [], indexColumn: this.hasIndexColumn },
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
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      validator.push(value);
      if (validator.stopped) {
        await reader.cancel();
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
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
