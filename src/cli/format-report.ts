import type { Issue } from "../validate/issues";
import type { ValidationReport } from "../validate/report";

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
