import type { Issue, IssueCode } from "./issues";
import type { TaskType } from "./task-types";

/** Version of the report's shape (schemas/validation-report.schema.json); bump on incompatible change. */
export const REPORT_SCHEMA_VERSION = 1;

export interface ValidationLimits {
  /** Fewest examples a task may have (the prize asked for 300). */
  minExamples: number;
  maxRows: number;
  maxBytes: number;
  /** Longest single record, in bytes; also bounds the parser's work on a quote that never closes. */
  maxRecordBytes: number;
  maxIssues: number;
  maxIssuesPerCode: number;
}

export const DEFAULT_LIMITS: ValidationLimits = {
  minExamples: 300,
  maxRows: 200_000,
  maxBytes: 100 * 1024 * 1024,
  maxRecordBytes: 1024 * 1024,
  maxIssues: 500,
  maxIssuesPerCode: 25,
};

export interface LengthSummary {
  min: number;
  max: number;
  mean: number;
  median: number;
  p90: number;
}

export interface ValidationStats {
  bytes: number;
  lines: number;
  /** Data records after the header, blank ones included. */
  records: number;
  blankRecords: number;
  /** Records that passed every row check. */
  examples: number;
  lineEndings: { lf: number; crlf: number; cr: number };
  bom: boolean;
  /** Number of rows with each class count (classification and logodds types). */
  classesPerRow?: Record<string, number>;
  /** Number of examples whose answer_index has each value. */
  answerDistribution?: Record<string, number>;
  /** Prompt length in characters over the examples. */
  promptLength?: LengthSummary;
}

export interface ValidationReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  valid: boolean;
  taskType: TaskType | null;
  taskTypeSource: "given" | "inferred" | null;
  /** Errors and warnings in file order, up to the limits; `counts` has the exact number of each code. */
  issues: Issue[];
  errorCount: number;
  warningCount: number;
  /** Issues counted but not listed because of the limits. */
  omittedIssues: number;
  counts: Partial<Record<IssueCode, number>>;
  /** True when validation stopped before the end of the file (a size limit was reached). */
  truncated: boolean;
  columns: { header: string[]; indexColumn: boolean };
  stats: ValidationStats;
  limits: ValidationLimits;
}

/** Exact order statistics of lengths kept in a growable typed array (4 bytes per example). */
export class LengthTally {
  private values = new Uint32Array(1024);
  private count = 0;
  private sum = 0;

  add(length: number): void {
    if (this.count === this.values.length) {
      const grown = new Uint32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = length;
    this.sum += length;
  }

  summary(): LengthSummary | undefined {
    if (this.count === 0) return undefined;
    const sorted = this.values.slice(0, this.count).sort();
    const at = (q: number): number => sorted[Math.min(this.count - 1, Math.floor(q * (this.count - 1)))]!;
    return {
      min: sorted[0]!,
      max: sorted[this.count - 1]!,
      mean: Math.round((this.sum / this.count) * 10) / 10,
      median: at(0.5),
      p90: at(0.9),
    };
  }
}
