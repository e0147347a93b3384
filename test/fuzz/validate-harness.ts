/**
 * Runs the validator the ways its callers do, and checks what every report must satisfy whatever the input.
 *   cli:    validateStream over a web stream (`isv validate`, `isv submit`)
 *   worker: TaskFileValidator.write per chunk, stopping when asked, then finish (src/intake/receive-task.ts)
 *   push:   TaskFileValidator.push per chunk, the synchronous core both use
 */
import { formatReport } from "../../src/cli/format-report";
import { validateValidationReport } from "../../src/generated/validators";
import { ISSUE_SEVERITY } from "../../src/validate/issues";
import type { ValidationReport } from "../../src/validate/report";
import type { Example } from "../../src/validate/row-rules";
import { TaskFileValidator, type ValidatorOptions, validateStream } from "../../src/validate/validator";

export const ENTRIES = ["cli", "worker", "push"] as const;
export type Entry = (typeof ENTRIES)[number];

/** `bytes` cut into chunks whose sizes cycle through `sizes` (each at least 1 byte). */
export function chunksOf(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes.length === 0 ? bytes.length : (sizes[i % sizes.length] ?? 1));
    chunks.push(bytes.slice(at, at + size));
    at += size;
  }
  return chunks;
}

/** A stream that hands out `chunks` one pull at a time, and records whether it was read to the end or cancelled. */
export function sourceOf(chunks: readonly Uint8Array[]): {
  stream: ReadableStream<Uint8Array>;
  state: { ended: boolean; cancelled: boolean };
} {
  const state = { ended: false, cancelled: false };
  let next = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[next++];
        if (chunk) controller.enqueue(chunk);
        else {
          state.ended = true;
          controller.close();
        }
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

export interface Validated {
  report: ValidationReport;
  /** The examples handed to onExample, in order (what the Worker stores). */
  examples: Example[];
}

export async function validateBy(
  entry: Entry,
  bytes: Uint8Array,
  sizes: readonly number[],
  options: ValidatorOptions,
): Promise<Validated> {
  const examples: Example[] = [];
  const withExamples = { ...options, onExample: (example: Example) => examples.push(example) };
  const chunks = chunksOf(bytes, sizes);
  if (entry === "cli") return { report: await validateStream(sourceOf(chunks).stream, withExamples), examples };
  const validator = new TaskFileValidator(withExamples);
  for (const chunk of chunks) {
    if (entry === "worker") await validator.write(chunk);
    else validator.push(chunk);
    if (validator.stopped) break;
  }
  return { report: validator.finish(), examples };
}

/** `code@line/row/column` for each listed issue ("-" where absent). */
export const whereOf = (issues: ValidationReport["issues"]): string[] =>
  issues.map((issue) => `${issue.code}@${issue.line ?? "-"}/${issue.row ?? "-"}/${issue.column ?? "-"}`);

/**
 * What any report must satisfy, whatever the input: it matches its schema, its counts add up, its issues are in
 * line order with the severity of their code, and it agrees with the examples handed on. Returns the violations.
 */
export function reportViolations(validated: Validated, inputBytes: number): string[] {
  const { report, examples } = validated;
  const problems: string[] = [];
  const check = (ok: boolean, message: string): void => {
    if (!ok) problems.push(message);
  };
  if (!validateValidationReport(report)) {
    problems.push(`does not match its schema: ${JSON.stringify(validateValidationReport.errors?.slice(0, 3))}`);
  }
  const counts = Object.entries(report.counts) as [string, number][];
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  const severity = (code: string): string | undefined => (ISSUE_SEVERITY as Record<string, string>)[code];
  const errors = counts.reduce((sum, [code, n]) => sum + (severity(code) === "error" ? n : 0), 0);
  check(
    counts.every(([code]) => severity(code) !== undefined),
    "an unknown code is counted",
  );
  check(report.valid === (report.errorCount === 0), `valid ${report.valid} with ${report.errorCount} errors`);
  check(errors === report.errorCount, `errorCount ${report.errorCount}, counts say ${errors}`);
  check(total === report.errorCount + report.warningCount, `counts add up to ${total}, not errors + warnings`);
  check(report.issues.length + report.omittedIssues === total, "listed + omitted issues differ from the counts");
  check(report.issues.length <= report.limits.maxIssues, "more issues listed than maxIssues");
  const listed = new Map<string, number>();
  let previousLine = 0;
  for (const issue of report.issues) {
    listed.set(issue.code, (listed.get(issue.code) ?? 0) + 1);
    check(issue.severity === severity(issue.code), `${issue.code} listed as ${issue.severity}`);
    const line = issue.line ?? Number.POSITIVE_INFINITY;
    check(line >= previousLine, `issues out of line order at ${issue.code}@${issue.line}`);
    previousLine = line;
    if (issue.line !== undefined) {
      check(issue.line <= report.stats.lines + 1, `${issue.code} on line ${issue.line} of ${report.stats.lines}`);
    }
    if (issue.row !== undefined) {
      check(issue.row <= report.stats.records, `${issue.code} on row ${issue.row} of ${report.stats.records}`);
    }
  }
  for (const [code, n] of listed) {
    check(n <= ((report.counts as Record<string, number>)[code] ?? 0), `${code} listed more often than counted`);
    check(n <= report.limits.maxIssuesPerCode, `${code} listed ${n} times, over maxIssuesPerCode`);
  }
  const { stats } = report;
  if (!report.truncated) check(stats.bytes === inputBytes, `stats.bytes ${stats.bytes} of ${inputBytes} bytes`);
  check(stats.examples === examples.length, `stats.examples ${stats.examples}, ${examples.length} handed on`);
  check(stats.examples + stats.blankRecords <= stats.records, "more examples and blank records than records");
  for (const example of examples) {
    check(example.row >= 1 && example.row <= stats.records, `an example on row ${example.row}`);
    check(example.line >= 2 && example.line <= stats.lines, `an example on line ${example.line} of ${stats.lines}`);
  }
  if (report.valid) {
    check(report.taskType !== null, "valid without a task type");
    check(stats.examples >= report.limits.minExamples, "valid with fewer examples than the minimum");
  }
  const text = formatReport("task.csv", report);
  check(
    text.endsWith(
      `${report.stats.examples} examples, ${report.errorCount} error${report.errorCount === 1 ? "" : "s"}, ${report.warningCount} warning${report.warningCount === 1 ? "" : "s"}`,
    ),
    "the CLI's summary line",
  );
  return problems;
}
