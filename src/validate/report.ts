import type { ValidationReport } from "../generated/types";

/** Version of the report's shape (schemas/validation-report.schema.json); bump on incompatible change. */
export const REPORT_SCHEMA_VERSION = 1;

/** The size and issue limits a file is validated under, as the report records them. */
export type ValidationLimits = ValidationReport["limits"];

export const DEFAULT_LIMITS: ValidationLimits = {
  minExamples: 300,
  maxRows: 200_000,
  maxBytes: 100 * 1024 * 1024,
  maxRecordBytes: 1024 * 1024,
  // The prize's formats have at most 5 columns (6 with pandas' index); 64 leaves room for any notes columns, and
  // stops a row of a million commas before it costs a million fields.
  maxFieldsPerRecord: 64,
  // The prize's tasks had 2 to 10 classes; each class sends the prompt to every model again.
  maxClasses: 20,
  // The prize's prompts ran to a few thousand characters; 16,000 is about 4,000 tokens of English text, twice the
  // 2,048-token context of the prize's GPT-3 and OPT models.
  maxPromptChars: 16_000,
  maxIssues: 500,
  maxIssuesPerCode: 25,
};

export type ValidationStats = ValidationReport["stats"];
export type LengthSummary = NonNullable<ValidationStats["promptLength"]>;

/**
 * The report: the type generated from schemas/validation-report.schema.json (field meanings are documented
 * there), so what the validator builds is checked against what the schema promises.
 */
export type { ValidationReport };

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
    // The value at quantile q (0 the least, 1 the greatest); count > 0, so every such index is inside `sorted`.
    const at = (q: number): number => {
      const value = sorted[Math.min(this.count - 1, Math.floor(q * (this.count - 1)))];
      if (value === undefined) throw new RangeError(`quantile ${q} is outside the ${this.count} lengths`);
      return value;
    };
    return {
      min: at(0),
      max: at(1),
      mean: Math.round((this.sum / this.count) * 10) / 10,
      median: at(0.5),
      p90: at(0.9),
    };
  }
}
