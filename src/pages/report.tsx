import type { ValidationReport, ValidationReportIssue } from "../generated/types";

type IssueGroup = {
  code: string;
  severity: ValidationReportIssue["severity"];
  total: number;
  issues: ValidationReportIssue[];
};

/** The report's issues by code, errors before warnings, each with the exact count the report keeps for its code. */
export function groupIssues(report: ValidationReport): IssueGroup[] {
  const groups = new Map<string, IssueGroup>();
  for (const issue of report.issues) {
    const group = groups.get(issue.code);
    if (group) group.issues.push(issue);
    else groups.set(issue.code, { code: issue.code, severity: issue.severity, total: 0, issues: [issue] });
  }
  const ordered = [...groups.values()].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1,
  );
  return ordered.map((group) => ({ ...group, total: report.counts[group.code] ?? group.issues.length }));
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** Where an issue is: its physical line and column, or the whole file. */
function where(issue: ValidationReportIssue): string {
  if (issue.line === undefined) return "Whole file";
  return issue.column ? `Line ${issue.line}, column ${issue.column}` : `Line ${issue.line}`;
}

/** One line on the file: valid or not, its type, examples, and how many errors and warnings. */
export function ReportSummary({ report }: { report: ValidationReport }) {
  const type = report.taskType
    ? `${report.taskType}${report.taskTypeSource === "inferred" ? " (inferred from the file)" : ""}`
    : "task type unknown";
  return (
    <p>
      <strong>{report.valid ? "Valid" : "Not valid"}</strong>: {type}, {plural(report.stats.examples, "example")},{" "}
      {plural(report.errorCount, "error")}, {plural(report.warningCount, "warning")}.
    </p>
  );
}

/**
 * A validation report as the submitter reads it: a summary, then the issues grouped by code, errors first, each
 * with its line and column and the message (which says how to fix it). `title` heads it.
 */
export function Report({ report, title }: { report: ValidationReport; title: string }) {
  const groups = groupIssues(report);
  return (
    <section class="report" aria-labelledby="report-heading">
      <h2 id="report-heading">{title}</h2>
      <ReportSummary report={report} />
      {groups.map((group) => (
        <section aria-labelledby={`issue-${group.code}`}>
          <h3 id={`issue-${group.code}`}>
            {group.severity === "error" ? "Error" : "Warning"}: <span class="code">{group.code}</span> (
            {plural(group.total, "time")})
          </h3>
          <ol>
            {group.issues.map((issue) => (
              <li>
                <span class="where">{where(issue)}</span>: {issue.message}
              </li>
            ))}
          </ol>
          {group.total > group.issues.length ? <p>… and {group.total - group.issues.length} more like these.</p> : null}
        </section>
      ))}
      {report.truncated ? (
        <p>Checking stopped early at a size limit: fix these and submit again to see the rest.</p>
      ) : null}
    </section>
  );
}
