import { readStoredJson } from "./stored-json";
import { METRICS, type MetricName } from "../analysis/metrics";
import type { SubmissionMetadata } from "../generated/types";
import type { TaskReport } from "../validate/zip/files-report";
import { EDITABLE_STATES, type SubmissionState } from "../submission-states";
import type { TaskType } from "../validate/task-types";

export interface SubmissionRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  state: SubmissionState;
  /** The canonical type the file was validated as (never an alias such as classification_acc). */
  taskType: TaskType;
  /**
   * The metric the task is judged on (verdict, acceptance, leaderboard rank), fixed at upload from the declared
   * task type (headlineMetricName); null for a numeric task, which is not analysed. Other metrics are secondary.
   */
  headlineMetric: MetricName | null;
  title: string;
  /** As submitted; its taskType is the name the submitter declared (classification_acc stays so), or the inferred type. */
  metadata: SubmissionMetadata;
  csvSha256: string;
  csvKey: string;
  csvBytes: number;
  examplesKey: string;
  exampleCount: number;
  /** One file's validation report, or for a submission of several files their files report. */
  report: TaskReport;
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
  /** Written only from a validated record's taskType, so always a TaskType. */
  task_type: TaskType;
  headline_metric: string | null;
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
    headlineMetric: storedMetricName(row.headline_metric),
    title: row.title,
    metadata: readStoredJson<SubmissionMetadata>(row.metadata_json),
    csvSha256: row.csv_sha256,
    csvKey: row.csv_key,
    csvBytes: row.csv_bytes,
    examplesKey: row.examples_key,
    exampleCount: row.example_count,
    report: readStoredJson<TaskReport>(row.report_json),
    submitterTokenHash: row.submitter_token_hash,
    fileVersion: row.file_version,
    round: row.round,
    reviewedAt: row.reviewed_at ?? null,
    reviewNote: row.review_note ?? null,
  };
}

/** A metric name read back from D1: one of METRICS, or null (a task without a headline metric). */
export function storedMetricName(value: string | null): MetricName | null {
  if (value === null) return null;
  const metric = Object.values(METRICS).find((known) => known.name === value);
  if (!metric) throw new Error(`stored metric name "${value}" is not a known metric`);
  return metric.name;
}

/**
 * The statement that inserts a submission. On a submission with the same CSV hash (the same bytes, or for several
 * files the same manifest), `ignore` writes nothing, `fail` fails the statement and with it its batch.
 */
export function insertSubmissionStatement(
  db: D1Database,
  record: SubmissionRecord,
  onConflict: "ignore" | "fail",
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO submissions (id, created_at, updated_at, state, task_type, title, metadata_json, csv_sha256, csv_key,
         csv_bytes, examples_key, example_count, report_json, submitter_token_hash, file_version, round, headline_metric)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
       ${onConflict === "ignore" ? "ON CONFLICT (csv_sha256) DO NOTHING" : ""}`,
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
      record.headlineMetric,
    );
}

/** Inserts a submission; returns false (and writes nothing) when one with the same CSV hash already exists. */
export async function insertSubmission(db: D1Database, record: SubmissionRecord): Promise<boolean> {
  const result = await insertSubmissionStatement(db, record, "ignore").run();
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
    .prepare(
      "SELECT version, csv_sha256, example_count, csv_bytes, replaced_at FROM submission_versions WHERE submission_id = ?1 ORDER BY version",
    )
    .bind(submissionId)
    .all<{ version: number; csv_sha256: string; example_count: number; csv_bytes: number; replaced_at: string }>();
  return results.map((row) => ({
    version: row.version,
    sha256: row.csv_sha256,
    examples: row.example_count,
    bytes: row.csv_bytes,
    replacedAt: row.replaced_at,
  }));
}

/** Whether any record, current or kept as an earlier version, points at the objects of these bytes. */
export async function csvBytesInUse(db: D1Database, sha256: string): Promise<boolean> {
  const row = await db
    .prepare(
      "SELECT EXISTS (SELECT 1 FROM submissions WHERE csv_sha256 = ?1) OR EXISTS (SELECT 1 FROM submission_versions WHERE csv_sha256 = ?1) AS used",
    )
    .bind(sha256)
    .first<{ used: number }>();
  return row?.used === 1;
}

/** The last review decision as submitters and organisers see it: when, and the note (what to change, for instance). */
export function lastReview(submission: SubmissionRecord): { at: string; note: string } | null {
  return submission.reviewedAt ? { at: submission.reviewedAt, note: submission.reviewNote ?? "" } : null;
}

const EDITABLE_SQL = EDITABLE_STATES.map((state) => `'${state}'`).join(", ");

/** A submitter's metadata edit, applied only from the state it was read in; it puts the task (back) in review. */
export function editMetadataStatement(
  db: D1Database,
  id: string,
  from: SubmissionState,
  metadata: Record<string, unknown>,
  title: string,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      "UPDATE submissions SET metadata_json = ?2, title = ?3, updated_at = ?4, state = 'valid' WHERE id = ?1 AND state = ?5",
    )
    .bind(id, JSON.stringify(metadata), title, at, from);
}

/** Withdrawal, applied only from the state it was read in. */
export function withdrawStatement(db: D1Database, id: string, from: SubmissionState, at: string): D1PreparedStatement {
  return db
    .prepare("UPDATE submissions SET state = 'withdrawn', updated_at = ?2 WHERE id = ?1 AND state = ?3")
    .bind(id, at, from);
}

/** Replaces the submitter token's hash, only if it is still the one the request proved (a concurrent rotation loses). */
export function rotateTokenStatement(
  db: D1Database,
  id: string,
  fromHash: string,
  toHash: string,
): D1PreparedStatement {
  // Not updated_at: a new token changes nothing a reviewer decides on, so it must not make their decision stale.
  return db
    .prepare("UPDATE submissions SET submitter_token_hash = ?3 WHERE id = ?1 AND submitter_token_hash = ?2")
    .bind(id, fromHash, toHash);
}

/** Keeps the current file as an earlier version. Its primary key makes a concurrent replacement fail its batch. */
export function keepVersionStatement(db: D1Database, submission: SubmissionRecord, at: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO submission_versions (submission_id, version, csv_sha256, csv_key, csv_bytes, examples_key, example_count, report_json, replaced_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    )
    .bind(
      submission.id,
      submission.fileVersion,
      submission.csvSha256,
      submission.csvKey,
      submission.csvBytes,
      submission.examplesKey,
      submission.exampleCount,
      JSON.stringify(submission.report),
      at,
    );
}

/** A task file as a submission record holds it: its bytes' keys and its validation. */
export type StoredFile = Pick<
  SubmissionRecord,
  "csvSha256" | "csvKey" | "csvBytes" | "examplesKey" | "exampleCount" | "report"
>;

/**
 * Makes `file` the submission's version `version`, back in review. If a decision or another replacement came
 * first, file_version becomes NULL, which its NOT NULL constraint refuses, failing the whole batch (SQLite has no
 * other way to abort from a plain UPDATE).
 */
export function replaceFileStatement(
  db: D1Database,
  id: string,
  file: StoredFile,
  version: number,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE submissions SET csv_sha256 = ?2, csv_key = ?3, csv_bytes = ?4, examples_key = ?5, example_count = ?6, report_json = ?7,
         file_version = CASE WHEN state IN (${EDITABLE_SQL}) AND file_version = ?8 - 1 THEN ?8 ELSE NULL END,
         state = 'valid', updated_at = ?9
       WHERE id = ?1`,
    )
    .bind(
      id,
      file.csvSha256,
      file.csvKey,
      file.csvBytes,
      file.examplesKey,
      file.exampleCount,
      JSON.stringify(file.report),
      version,
      at,
    );
}
