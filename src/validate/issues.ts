import type { ValidationReportIssue } from "../generated/types";

/**
 * The closed set of validation issue codes. Codes are a public contract (clients and the CLI group by them):
 * add new ones, never rename or reuse one.
 */
export const ISSUE_SEVERITY = {
  // file and encoding
  empty_file: "error",
  file_too_large: "error",
  too_many_rows: "error",
  record_too_long: "error",
  invalid_utf8: "error",
  utf8_bom: "warning",
  crlf_line_endings: "warning",
  mixed_line_endings: "warning",
  unterminated_quote: "error",
  invalid_quotes: "error",
  blank_record: "warning",
  ragged_row: "error",
  too_many_fields: "error",
  // header and task type
  missing_column: "error",
  duplicate_column: "error",
  legacy_column: "error",
  unknown_column: "warning",
  column_name_whitespace: "warning",
  legacy_task_type: "error",
  task_type_unknown: "error",
  task_type_ambiguous: "error",
  task_type_undetermined: "error",
  // cells
  empty_value: "error",
  classes_invalid: "error",
  class_empty: "error",
  duplicate_class: "error",
  too_few_classes: "error",
  wrong_class_count: "error",
  too_many_classes: "error",
  prompt_too_long: "error",
  nul_character: "error",
  control_character: "warning",
  answer_index_invalid: "error",
  answer_index_negative: "error",
  answer_index_out_of_range: "error",
  answer_index_float: "warning",
  number_invalid: "error",
  missing_leading_space: "warning",
  prompt_trailing_whitespace: "warning",
  // whole file
  duplicate_example: "warning",
  conflicting_answers: "error",
  constant_answer_index: "warning",
  too_few_examples: "error",
  // groups (slices, src/validate/groups.ts): a CSV's group column or an item's group field
  empty_group: "error",
  group_too_long: "error",
  too_many_groups: "error",
  // model-written evaluations (JSON Lines, src/validate/mwe); also empty_file, file_too_large, too_many_rows,
  // record_too_long (a line, or an element of a JSON array), invalid_utf8, utf8_bom, blank_record,
  // too_many_classes, duplicate_class, prompt_too_long, nul_character, control_character, missing_leading_space,
  // prompt_trailing_whitespace, too_few_examples, task_type_unknown and the group codes, in the same sense as for a CSV
  format_mismatch: "error",
  json_array: "warning",
  invalid_json: "error",
  not_an_object: "error",
  missing_field: "error",
  field_not_string: "error",
  empty_answer: "error",
  answer_in_both: "error",
  template_field_missing: "error",
  duplicate_question: "warning",
  missing_group: "error",
} as const satisfies Record<string, Severity>;

export type Severity = "error" | "warning";
export type IssueCode = keyof typeof ISSUE_SEVERITY;

/** The codes only a model-written evaluation gives: a CSV never does (format_mismatch is both formats'). */
export const MWE_ONLY_CODES = [
  "json_array",
  "invalid_json",
  "not_an_object",
  "missing_field",
  "field_not_string",
  "empty_answer",
  "answer_in_both",
  "template_field_missing",
  "duplicate_question",
  // A CSV's group column is there for every row or none; an empty cell is empty_group.
  "missing_group",
] as const satisfies readonly IssueCode[];

/**
 * One problem, as schemas/validation-report.schema.json lists it, with its code narrowed to the severity table's
 * keys (extending the generated type checks that every code here is one the schema allows). `line` is the physical
 * line, 1-based (a record spanning several lines reports its first); `row` counts data records after the header,
 * blank ones included.
 */
export interface Issue extends ValidationReportIssue {
  code: IssueCode;
}

export interface IssueLimits {
  maxIssues: number;
  maxIssuesPerCode: number;
}

/**
 * Collects issues with caps, so a file with an error on every row yields a readable report, while the counts stay
 * exact: a report says how many of each code exist even when it lists only the first few.
 */
export class IssueCollector {
  readonly listed: Issue[] = [];
  readonly counts: Partial<Record<IssueCode, number>> = {};
  errorCount = 0;
  warningCount = 0;
  omitted = 0;

  constructor(private readonly limits: IssueLimits) {}

  /** `message` may be a function, for codes that can occur on every byte: it is called only if the issue is listed. */
  add(
    code: IssueCode,
    message: string | (() => string),
    where: Omit<Issue, "severity" | "code" | "message"> = {},
  ): void {
    const severity = ISSUE_SEVERITY[code];
    const seen = (this.counts[code] ?? 0) + 1;
    this.counts[code] = seen;
    if (severity === "error") this.errorCount++;
    else this.warningCount++;
    if (seen > this.limits.maxIssuesPerCode || this.listed.length >= this.limits.maxIssues) {
      this.omitted++;
      return;
    }
    this.listed.push({ severity, code, message: typeof message === "string" ? message : message(), ...where });
  }

  get hasErrors(): boolean {
    return this.errorCount > 0;
  }
}
