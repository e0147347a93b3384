import type { Issue } from "../validate/issues";
import type { ValidationReport } from "../validate/report";
import type { FilesReport } from "../validate/zip/zip-validator";

/** A readable report: issues grouped by code, each group with its lines, then a summary line. */
export function formatReport(file: string, report: ValidationReport): string {
  const lines: string[] = [];
  const groups = new Map<string, [Issue, ...Issue[]]>();
  for (const issue of report.issues) {
    const group = groups.get(issue.code);
    if (group) group.push(issue);
    else groups.set(issue.code, [issue]);
  }
  const ordered = [...groups].sort(([, a], [, b]) =>
    a[0].severity === b[0].severity ? 0 : a[0].severity === "error" ? -1 : 1,
  );
  for (const [code, issues] of ordered) {
    const total = report.counts[code as keyof typeof report.counts] ?? issues.length;
    lines.push(`${issues[0].severity} ${code} (${total})`);
    for (const issue of issues) {
      const where = [
        issue.line !== undefined ? `line ${issue.line}` : "file",
        issue.column ? `column ${issue.column}` : "",
      ]
        .filter(Boolean)
        .join(", ");
      lines.push(`  ${file}:${issue.line ?? "-"}  ${where}: ${issue.message}`);
    }
    if (total > issues.length) lines.push(`  ... and ${total - issues.length} more`);
  }
  const type = report.taskType
    ? `${report.taskType}${report.taskTypeSource === "inferred" ? " (inferred)" : ""}`
    : "unknown type";
  const verdict = report.valid ? "valid" : "INVALID";
  lines.push(
    `${file}: ${verdict}: ${type}, ${report.stats.examples} examples, ${report.errorCount} error${report.errorCount === 1 ? "" : "s"}, ${report.warningCount} warning${report.warningCount === 1 ? "" : "s"}`,
  );
  return lines.join("\n");
}

/**
 * A zip's report: the archive's own issues, then each task file's report as formatReport prints one alone, named
 * as a path inside the archive (`submission.zip/task/part-1.csv`, as Python names files in a zip), then a summary
 * line for the archive. Without a zip (`file` undefined: files sent side by side), each file by its own name, and
 * the summary line for "the files".
 */
export function formatFilesReport(file: string | undefined, report: FilesReport): string {
  const lines: string[] = [];
  const inside = (name: string): string => (file === undefined ? name : `${file}/${name}`);
  for (const issue of report.issues) {
    const where = issue.entry === undefined ? (file ?? "the files") : inside(issue.entry);
    lines.push(`${issue.severity} ${issue.code}: ${where}: ${issue.message}`);
  }
  for (const entry of report.files) lines.push(formatReport(inside(entry.name), entry.report));
  const valid = report.files.filter((entry) => entry.report.valid).length;
  const archiveErrors = report.issues.filter((issue) => issue.severity === "error").length;
  const parts = [
    plural(report.files.length, "task file"),
    `${valid} valid`,
    `${plural(report.errorCount, "error")}${archiveErrors > 0 ? ` (${archiveErrors} ${file === undefined ? "about the files together" : "in the archive"})` : ""}`,
    plural(report.warningCount, "warning"),
  ];
  lines.push(
    `${file ?? "the files"}: ${report.valid ? "valid" : "INVALID"}: ${parts.join(", ")}${report.truncated ? " (reading stopped at the first archive error)" : ""}`,
  );
  return lines.join("\n");
}

/** The last line when several files were checked at once. */
export function formatSummary(outcomes: readonly { file: string; valid: boolean }[]): string {
  const invalid = outcomes.filter((outcome) => !outcome.valid).length;
  return `${plural(outcomes.length, "file")} checked: ${outcomes.length - invalid} valid, ${invalid} INVALID`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
