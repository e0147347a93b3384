import type { SlicesAnalysis } from "../analysis/slices-analysis";
import { readStoredJson } from "./stored-json";

/** Stores a slices analysis against the file version its results were computed on. */
export function insertSliceAnalysis(
  db: D1Database,
  row: { submissionId: string; fileVersion: number; createdAt: string; analysis: SlicesAnalysis },
): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO slice_analyses (id, submission_id, file_version, created_at, analysis_json) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(crypto.randomUUID(), row.submissionId, row.fileVersion, row.createdAt, JSON.stringify(row.analysis));
}

/** The newest slices analysis of the submission's current file, if it has slices and has been analysed. */
export async function latestSliceAnalysis(
  db: D1Database,
  submission: { id: string; fileVersion: number },
): Promise<{ createdAt: string; analysis: SlicesAnalysis } | undefined> {
  const row = await db
    .prepare(
      `SELECT created_at, analysis_json FROM slice_analyses WHERE submission_id = ?1 AND file_version = ?2
       ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    )
    .bind(submission.id, submission.fileVersion)
    .first<{ created_at: string; analysis_json: string }>();
  return row ? { createdAt: row.created_at, analysis: readStoredJson<SlicesAnalysis>(row.analysis_json) } : undefined;
}
