import { WorkBudget, writeInSlices } from "../event-loop";
import { GROUP_COLUMN, GroupTally } from "../groups";
import { IssueCollector, type IssueCode } from "../issues";
import {
  DEFAULT_LIMITS,
  LengthTally,
  REPORT_SCHEMA_VERSION,
  type ValidationLimits,
  type ValidationReport,
} from "../report";
import type { Example, Where } from "../row-rules";
import { resolveTaskType } from "../task-types";
import { formatCount, quoted, shortName } from "../text";
import { formatBytes } from "../validator";
import { checkItem, describeJson, isItem, type BehaviourExample, type Item } from "./item-rules";
import { MissingGroups } from "./missing-groups";
import { QuestionIndex } from "./question-index";
import { RecordReader } from "./record-reader";
import { defaultPromptTemplate, type PromptTemplate } from "./template";

export interface MweValidatorOptions {
  /** The submitter's task type name: absent or "behaviour" (anything else is reported). */
  taskType?: string;
  limits?: Partial<ValidationLimits>;
  /** How each item becomes a prompt; the default template when absent. */
  template?: PromptTemplate;
  /** Receives each valid example in file order, as soon as its item is read. */
  onExample?: (example: Example) => void;
}

/** An item costs a JSON.parse and its checks on top of its bytes. */
const RECORD_WORK = 256;

/**
 * Validates a model-written evaluation (JSON Lines, or one JSON array of items) pushed to it in byte chunks, in
 * one pass and bounded memory (one record, the issue lists, a hash and a length per item), with the same interface
 * and report as the CSV validator (src/validate/validator.ts).
 *
 *   bytes → RecordReader (BOM, lines or array elements, UTF-8) → JSON.parse → item rules → duplicate questions
 *
 * What the report's CSV-shaped parts mean here: `columns.header` is the field names of the first item, in its
 * order (`indexColumn` false); `stats.records` counts the lines with content (blank ones included) or the array's
 * elements; `blankRecords` the blank lines; `lineEndings.cr` is always 0 (a lone CR is JSON whitespace, not a line
 * end); `classesPerRow` counts items by number of answers, matching and not; `answerDistribution` is absent (an
 * item has no answer index: its matching answers come first); `promptLength` is over the filled-in prompts.
 */
export class MweFileValidator {
  readonly limits: ValidationLimits;
  private readonly issues: IssueCollector;
  private readonly reader: RecordReader;
  private readonly template: PromptTemplate;
  private readonly index: QuestionIndex;
  private readonly promptLengths = new LengthTally();
  private readonly answersPerItem = new Map<number, number>();
  private readonly groups: GroupTally;
  private readonly missingGroups: MissingGroups;
  private readonly taskTypeSource: "given" | "inferred";
  private header: string[] | undefined;
  private records = 0;
  private blankRecords = 0;
  private examples = 0;
  private readonly work = new WorkBudget();
  private stoppedEarly = false;
  private finished = false;

  constructor(private readonly options: MweValidatorOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.issues = new IssueCollector(this.limits);
    this.index = new QuestionIndex(this.issues);
    this.groups = new GroupTally(this.issues);
    this.missingGroups = new MissingGroups(this.issues);
    this.template = options.template ?? defaultPromptTemplate();
    this.taskTypeSource = this.checkGivenTaskType(options.taskType);
    this.reader = new RecordReader(
      {
        record: (text, line) => this.onRecord(text, line),
        blankLine: (line) => this.onBlankLine(line),
        invalidUtf8: (line, byteOffset) =>
          this.issues.add(
            "invalid_utf8",
            `Bytes that are not valid UTF-8 at byte ${byteOffset + 1}; save the file as UTF-8.`,
            { line },
          ),
        arrayForm: (line) =>
          this.issues.add(
            "json_array",
            "The file is one JSON array rather than JSON Lines (one object per line); it is accepted, each element an item.",
            { line },
          ),
        arrayProblem: (message, line) => this.issues.add("invalid_json", message, { line }),
      },
      this.limits.maxRecordBytes,
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

  /** The file's form, once its first byte other than whitespace has been read. */
  get form(): "lines" | "array" | undefined {
    return this.reader.form;
  }

  /** Checks a chunk in slices, letting other work in the isolate run between them (as the CSV validator does). */
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
    if (this.reader.bytes + chunk.length > this.limits.maxBytes) {
      this.stop(
        "file_too_large",
        `The file is larger than the limit of ${formatBytes(this.limits.maxBytes)}; split it or remove items.`,
      );
      return;
    }
    this.reader.push(chunk);
    this.checkRecordLength();
  }

  finish(): ValidationReport {
    if (!this.finished && !this.stopped) {
      this.reader.finish();
      this.checkRecordLength();
      if (!this.stoppedEarly) this.checkWholeFile();
    }
    this.finished = true;
    return this.report();
  }

  /** Records that the metadata describes another format than this file's (it is still checked as one). */
  reportFormatMismatch(message: string, line?: number): void {
    this.issues.add("format_mismatch", message, line === undefined ? {} : { line });
  }

  private stop(
    code: Extract<IssueCode, "file_too_large" | "too_many_rows" | "record_too_long">,
    message: string,
    where = {},
  ): void {
    this.issues.add(code, message, where);
    this.stoppedEarly = true;
  }

  private checkRecordLength(): void {
    const line = this.reader.tooLongAt;
    if (line === undefined || this.stoppedEarly) return;
    this.stop(
      "record_too_long",
      `The ${this.reader.form === "array" ? "array element" : "line"} starting on line ${line} is longer than ${formatBytes(this.limits.maxRecordBytes)}; shorten it.`,
      { line },
    );
  }

  private checkGivenTaskType(name: string | undefined): "given" | "inferred" {
    if (name === undefined) return "inferred";
    const resolution = resolveTaskType(name);
    if (resolution.ok && resolution.taskType === "behaviour") return "given";
    if (resolution.ok) {
      this.issues.add(
        "format_mismatch",
        `Task type ${quoted(name)} is a CSV task type, but this file is a model-written evaluation (JSON Lines), whose type is "behaviour"; give that or leave the task type out.`,
        {},
      );
    } else {
      this.issues.add(
        "task_type_unknown",
        `Task type ${quoted(name)} is not known; a model-written evaluation's type is "behaviour".`,
        {},
      );
    }
    return "inferred";
  }

  private onBlankLine(line: number): void {
    if (this.stoppedEarly) return;
    const row = ++this.records;
    if (!this.withinRows(line, row)) return;
    this.blankRecords++;
    this.issues.add("blank_record", "This line is blank and is skipped.", { line, row });
  }

  private onRecord(text: string, line: number): void {
    if (this.stoppedEarly) return;
    const row = ++this.records;
    if (!this.withinRows(line, row)) return;
    this.work.add(RECORD_WORK);
    const where = { line, row };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message.slice(0, 200) : String(error);
      this.issues.add(
        "invalid_json",
        `This ${this.reader.form === "array" ? "element" : "line"} is not valid JSON (${reason}).`,
        where,
      );
      return;
    }
    if (this.header === undefined && isItem(value))
      this.header = Object.keys(value).slice(0, this.limits.maxFieldsPerRecord).map(shortName);
    const checked = checkItem(value, this.template, where, this.issues, this.limits);
    const example = isItem(value) ? this.withGroup(checked, value, where) : checked;
    if (!example) return;
    this.examples++;
    this.promptLengths.add(example.prompt.length);
    this.answersPerItem.set(example.classes.length, (this.answersPerItem.get(example.classes.length) ?? 0) + 1);
    this.index.add(example);
    this.options.onExample?.(example);
  }

  /**
   * The item's example with its group, when it has a group field; undefined when the item or its group has an
   * error. The group is checked whatever the rest of the item holds, and an item without one in a file with groups
   * is reported (missing_group) but keeps its example: the items before the first group have been handed on already.
   */
  private withGroup(example: BehaviourExample | undefined, item: Item, where: Where): BehaviourExample | undefined {
    if (!Object.hasOwn(item, GROUP_COLUMN)) {
      this.missingGroups.ungrouped(where);
      return example;
    }
    this.missingGroups.grouped(where);
    const value = item[GROUP_COLUMN];
    if (typeof value !== "string") {
      this.issues.add("field_not_string", `The "group" field is ${describeJson(value)}; a group is a string.`, {
        ...where,
        column: GROUP_COLUMN,
      });
      return undefined;
    }
    const group = this.groups.accept(value, where);
    if (!example || group === undefined) return undefined;
    this.groups.countExample(group);
    // Set on the fresh example rather than spread into a copy: a copy per row doubled the time to check a file.
    example.group = group;
    return example;
  }

  private withinRows(line: number, row: number): boolean {
    if (row <= this.limits.maxRows) return true;
    this.stop(
      "too_many_rows",
      `The file has more than ${formatCount(this.limits.maxRows)} items, the limit; remove items.`,
      { line, row },
    );
    return false;
  }

  private checkWholeFile(): void {
    if (this.reader.form === undefined) {
      this.issues.add("empty_file", "The file is empty; it needs one JSON object per line, one per item.", {});
      return;
    }
    if (this.reader.hadBom)
      this.issues.add("utf8_bom", "The file starts with a byte-order mark (BOM); it is accepted and ignored.", {
        line: 1,
      });
    const items = this.records - this.blankRecords;
    if (items < this.limits.minExamples) {
      this.issues.add(
        "too_few_examples",
        `The file has ${items} item${items === 1 ? "" : "s"}; at least ${this.limits.minExamples} are needed (about 1000 are recommended).`,
        {},
      );
    }
  }

  private report(): ValidationReport {
    const issues = [...this.issues.listed].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    const promptLength = this.promptLengths.summary();
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      valid: !this.issues.hasErrors,
      taskType: "behaviour",
      taskTypeSource: this.taskTypeSource,
      issues,
      errorCount: this.issues.errorCount,
      warningCount: this.issues.warningCount,
      omittedIssues: this.issues.omitted,
      counts: this.issues.counts,
      truncated: this.stoppedEarly,
      columns: { header: this.header ?? [], indexColumn: false },
      stats: {
        bytes: this.reader.bytes,
        lines: this.reader.lines,
        records: this.records,
        blankRecords: this.blankRecords,
        examples: this.examples,
        lineEndings: { lf: this.reader.lfEndings, crlf: this.reader.crlfEndings, cr: 0 },
        bom: this.reader.hadBom,
        classesPerRow: Object.fromEntries(
          [...this.answersPerItem].sort(([a], [b]) => a - b).map(([answers, items]) => [String(answers), items]),
        ),
        ...(promptLength ? { promptLength } : {}),
        ...(this.missingGroups.fileHasGroups ? { groups: this.groups.summary() } : {}),
      },
      limits: this.limits,
    };
  }
}
