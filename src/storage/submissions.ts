import type { ValidationReport } from "../validate/report";

export type SubmissionState =
  | "valid"
  | "queued"
  | "evaluating"
  | "evaluated"
  | "partially_evaluated"
  | "failed"
  | "accepted"
  | "rejected"
  | "withdrawn";

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
  };
}

/** Inserts a submission; returns false (and writes nothing) when one with the same CSV hash already exists. */
export async function insertSubmission(db: D1Database, record: SubmissionRecord): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO submissions (id, created_at, updated_at, state, task_type, title, metadata_json, csv_sha256, csv_key,
         csv_bytes, examples_key, example_count, report_json, submitter_token_hash)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
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
