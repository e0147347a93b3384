import type { FilesReportIssue } from "../../generated/types";

/**
 * The closed set of archive issue codes: what is wrong with a zip itself, apart from the task files in it (their
 * issues keep the codes of src/validate/issues.ts). A separate set, so a file's report never carries an archive
 * code and the two lists stay readable. Codes are a public contract: add new ones, never rename or reuse one.
 * Every error stops reading the archive: nothing after it is inflated or checked.
 */
export const ARCHIVE_ISSUE_SEVERITY = {
  empty_archive: "error",
  too_many_entries: "error",
  archive_too_large: "error",
  compression_ratio_too_high: "error",
  nested_archive: "error",
  unsupported_file_type: "error",
  duplicate_entry: "error",
  encrypted_entry: "error",
  symlink_entry: "error",
  unsafe_name: "error",
  unsupported_compression: "error",
  corrupt_archive: "error",
  truncated_archive: "error",
  skipped_directory: "warning",
  skipped_junk: "warning",
} as const satisfies Record<string, "error" | "warning">;

export type ArchiveIssueCode = keyof typeof ARCHIVE_ISSUE_SEVERITY;

/** One archive issue, as schemas/files-report.schema.json lists it, its code narrowed to the table's keys. */
export interface ArchiveIssue extends FilesReportIssue {
  code: ArchiveIssueCode;
}

export function archiveIssue(code: ArchiveIssueCode, message: string, entry?: string): ArchiveIssue {
  return { severity: ARCHIVE_ISSUE_SEVERITY[code], code, message, ...(entry === undefined ? {} : { entry }) };
}
