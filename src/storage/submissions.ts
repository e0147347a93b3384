import type { ValidationReport } from "../validate/report";

/** Where a submission stands in review; evaluation progress is the evaluations' own state. */
export type SubmissionState = "valid" | "changes_requested" | "accepted" | "rejected" | "withdrawn";

export interface SubmissionRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  state: SubmissionState;
  taskType: string;
  title: string;
  metadata: Record<string, unknown>;
  csvSha256: string;
  csvKey: string;
  csvBytes: number;
  examplesKey: string;
  exampleCount: number;
  report: ValidationReport;
  submitterTokenHash: string;
  /** 1 at upload, one more per replacement of the file; results and analyses belong to one version. */
  fileVersion: number;
  /** The competition round open at upload, if rounds are configured: its close ends editing. */
  round: string | null;
  /** The last review decision's time and note (for changes_requested: what to change). */
  reviewedAt?: string | null;
  reviewNote?: string | null;
}

export interface SubmissionRow {
  id: string;
  created_at: string;
  updated_at: string;
  state: SubmissionState;
  task_type: string;
  title: string;
  metadata_json: string;
  csv_sha256: string;
  csv_key: string;
  csv_bytes: number;
  examples_key: string;
  example_count: number;
  report_json: string;
  submitter_token_hash: string;
  file_version: number;
  round: string | null;
  reviewed_at?: string | null;
  review_note?: string | null;
}

export function submissionFromRow(row: SubmissionRow): SubmissionRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    state: row.state,
    taskType: row.task_type,
    title: row.title,
    metadata: JSON.parse(row.metadata_json) as Record<string, unknown>,
    csvSha256: row.csv_sha256,
    csvKey: row.csv_key,
    csvBytes: row.csv_bytes,
    examplesKey: row.examples_key,
    exampleCount: row.example_count,
    report: JSON.parse(row.report_json) as ValidationReport,
    submitterTokenHash: row.submitter_token_hash,
    fileVersion: row.file_version,
    round: row.round,
    reviewedAt: row.reviewed_at ?? null,
    reviewNote: row.review_note ?? null,
  };
}

/** Inserts a submission; returns false (and writes nothing) when one with the same CSV hash already exists. */
export async function insertSubmission(db: D1Database, record: SubmissionRecord): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO submissions (id, created_at, updated_at, state, task_type, title, metadata_json, csv_sha256, csv_key,
         csv_bytes, examples_key, example_count, report_json, submitter_token_hash, file_version, round)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
       ON CONFLICT (csv_sha256) DO NOTHING`,
    )
    .bind(
      record.id,
      record.createdAt,
      record.updatedAt,
      record.state,
      record.taskType,
      record.title,
      JSON.stringify(record.metadata),
      record.csvSha256,
      record.csvKey,
      record.csvBytes,
      record.examplesKey,
      record.exampleCount,
      JSON.stringify(record.report),
      record.submitterTokenHash,
      record.fileVersion,
      record.round,
    )
    .run();
  return result.meta.changes === 1;
}

export async function getSubmission(db: D1Database, id: string): Promise<SubmissionRecord | undefined> {
  const row = await db.prepare("SELECT * FROM submissions WHERE id = ?1").bind(id).first<SubmissionRow>();
  return row ? submissionFromRow(row) : undefined;
}

export async function findSubmissionByCsvHash(db: D1Database, sha256: string): Promise<SubmissionRecord | undefined> {
  const row = await db.prepare("SELECT * FROM submissions WHERE csv_sha256 = ?1").bind(sha256).first<SubmissionRow>();
  return row ? submissionFromRow(row) : undefined;
}

export interface FileVersion {
  version: number;
  sha256: string;
  examples: number;
  bytes: number;
  replacedAt: string;
}

/** The files a submission used before its current one, oldest first (their bytes stay in R2). */
export async function previousVersions(db: D1Database, submissionId: string): Promise<FileVersion[]> {
  const { results } = await db
    .prepare("SELECT version, csv_sha256, example_count, csv_bytes, replaced_at FROM submission_versions WHERE submission_id = ?1 ORDER BY version")
    .bind(submissionId)
    .all<{ version: number; csv_sha256: string; example_count: number; csv_bytes: number; replaced_at: string }>();
  return results.map((row) => ({ version: row.version, sha256: row.csv_sha256, examples: row.example_count, bytes: row.csv_bytes, replacedAt: row.replaced_at }));
}

/** Whether any record, current or kept as an earlier version, points at the objects of these bytes. */
export async function csvBytesInUse(db: D1Database, sha256: string): Promise<boolean> {
  const row = await db
    .prepare("SELECT EXISTS (SELECT 1 FROM submissions WHERE csv_sha256 = ?1) OR EXISTS (SELECT 1 FROM submission_versions WHERE csv_sha256 = ?1) AS used")
    .bind(sha256)
    .first<{ used: number }>();
  return row?.used === 1;
}
