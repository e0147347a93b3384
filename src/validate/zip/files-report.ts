import type { FilesReport, ValidationReport } from "../../generated/types";
import type { ValidationLimits } from "../report";

export type { FilesReport };

/** What intake reports on a submission: one file's validation report, or the files report of several. */
export type TaskReport = ValidationReport | FilesReport;

export const isFilesReport = (report: TaskReport): report is FilesReport => "files" in report;

/** The report's counts again, once issues have been added to it (the roles' issues, found after reading). */
export function withIssues(report: FilesReport, issues: readonly FilesReport["issues"][number][]): FilesReport {
  if (issues.length === 0) return report;
  const errors = issues.filter((issue) => issue.severity === "error").length;
  return {
    ...report,
    valid: report.valid && errors === 0,
    issues: [...report.issues, ...issues],
    errorCount: report.errorCount + errors,
    warningCount: report.warningCount + issues.length - errors,
  };
}

/** Whether a report says the file was too large (413 rather than 422). */
export function reportsTooLarge(report: TaskReport): boolean {
  if (isFilesReport(report))
    return (
      report.issues.some((issue) => issue.code === "archive_too_large") ||
      report.files.some((file) => (file.report.counts.file_too_large ?? 0) > 0)
    );
  return (report.counts.file_too_large ?? 0) > 0;
}

/** The byte limit a report was checked under. */
export const reportLimitBytes = (report: TaskReport, limits: ValidationLimits): number =>
  isFilesReport(report) ? report.limits.maxTotalBytes : limits.maxBytes;
