import type { FilesReport, ValidationReport, ValidationReportIssue } from "../generated/types";
import { isFilesReport, type TaskReport } from "../validate/zip/files-report";

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

/** One line on the file (or on each of several): valid or not, its type, examples, and how many errors and warnings. */
export function ReportSummary({ report }: { report: TaskReport }) {
  if (isFilesReport(report))
    return (
      <>
        <p>
          <strong>{report.valid ? "Valid" : "Not valid"}</strong>: {plural(report.files.length, "file")},{" "}
          {plural(report.errorCount, "error")}, {plural(report.warningCount, "warning")}.
        </p>
        <ul>
          {report.files.map((file) => (
            <li>
              <span class="code">{file.name}</span>
              {file.role ? ` (${file.role}${file.label ? `: ${file.label}` : ""})` : ""}:{" "}
              <FileSummary report={file.report} />
            </li>
          ))}
        </ul>
      </>
    );
  return (
    <p>
      <strong>{report.valid ? "Valid" : "Not valid"}</strong>: <FileSummary report={report} />
    </p>
  );
}

function FileSummary({ report }: { report: ValidationReport }) {
  const type = report.taskType
    ? `${report.taskType}${report.taskTypeSource === "inferred" ? " (inferred from the file)" : ""}`
    : "task type unknown";
  return (
    <>
      {type}, {plural(report.stats.examples, "example")}, {plural(report.errorCount, "error")},{" "}
      {plural(report.warningCount, "warning")}.
    </>
  );
}

/**
 * A validation report as the submitter reads it: a summary, then the issues grouped by code, errors first, each
 * with its line and column and the message (which says how to fix it). `title` heads it.
 */
export function Report({ report, title }: { report: TaskReport; title: string }) {
  return (
    <section class="report" aria-labelledby="report-heading">
      <h2 id="report-heading">{title}</h2>
      <ReportSummary report={report} />
      {isFilesReport(report) ? <FilesIssues report={report} /> : <IssueGroups report={report} idPrefix="issue" />}
    </section>
  );
}

/** The archive's and the roles' issues, then each file's issues under its name. */
function FilesIssues({ report }: { report: FilesReport }) {
  return (
    <>
      {report.issues.length > 0 ? (
        <section aria-labelledby="files-issues">
          <h3 id="files-issues">The files together</h3>
          <ol>
            {report.issues.map((issue) => (
              <li>
                {issue.severity === "error" ? "Error" : "Warning"} <span class="code">{issue.code}</span>
                {issue.entry ? (
                  <>
                    {" "}
                    at <span class="where">{issue.entry}</span>
                  </>
                ) : null}
                : {issue.message}
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {report.files.map((file, index) =>
        file.report.issues.length > 0 ? (
          <section aria-labelledby={`file-${index}`}>
            <h3 id={`file-${index}`}>
              <span class="code">{file.name}</span>
            </h3>
            <IssueGroups report={file.report} idPrefix={`file-${index}-issue`} level={4} />
          </section>
        ) : null,
      )}
      {report.truncated ? (
        <p>Reading stopped at the first error in the files together: fix it and submit again.</p>
      ) : null}
    </>
  );
}

/** A file's issues grouped by code, errors first, each with its line and column and how to fix it. */
function IssueGroups({ report, idPrefix, level = 3 }: { report: ValidationReport; idPrefix: string; level?: 3 | 4 }) {
  const groups = groupIssues(report);
  const Heading = level === 3 ? "h3" : "h4";
  return (
    <>
      {groups.map((group) => (
        <section aria-labelledby={`${idPrefix}-${group.code}`}>
          <Heading id={`${idPrefix}-${group.code}`}>
            {group.severity === "error" ? "Error" : "Warning"}: <span class="code">{group.code}</span> (
            {plural(group.total, "time")})
          </Heading>
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
    </>
  );
}
