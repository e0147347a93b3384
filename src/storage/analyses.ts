import { readStoredJson } from "./stored-json";
import { ANALYSIS_SCHEMA_VERSION, type Analysis } from "../analysis/analyse";

export function insertAnalysis(
  db: D1Database,
  row: { id: string; submissionId: string; fileVersion: number; metric: string; createdAt: string; analysis: Analysis },
): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO analyses (id, submission_id, metric, created_at, analysis_json, file_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(row.id, row.submissionId, row.metric, row.createdAt, JSON.stringify(row.analysis), row.fileVersion);
}

/**
 * SQL for the rowid of the newest analysis of `metric` for `submissionId` (both SQL expressions) on the
 * submission's current file: the one definition of "the latest analysis", for single reads, every metric at once
 * and the review list's verdict filter. Analyses of an older shape (schemaVersion) are never read: the cron job
 * makes them again (`outdatedAnalysisSubmissions`).
 */
export const latestAnalysisRowid = (submissionId: string, metric: string): string =>
  `(SELECT latest.rowid FROM analyses latest WHERE latest.submission_id = ${submissionId} AND latest.metric = ${metric}
      AND latest.file_version = (SELECT owner.file_version FROM submissions owner WHERE owner.id = ${submissionId})
      AND json_extract(latest.analysis_json, '$.schemaVersion') = ${ANALYSIS_SCHEMA_VERSION}
    ORDER BY latest.created_at DESC, latest.rowid DESC LIMIT 1)`;

export async function latestAnalysis(
  db: D1Database,
  submissionId: string,
  metric: string,
): Promise<{ id: string; createdAt: string; analysis: Analysis } | undefined> {
  const row = await db
    .prepare(`SELECT id, created_at, analysis_json FROM analyses WHERE rowid = ${latestAnalysisRowid("?1", "?2")}`)
    .bind(submissionId, metric)
    .first<{ id: string; created_at: string; analysis_json: string }>();
  return row
    ? { id: row.id, createdAt: row.created_at, analysis: readStoredJson<Analysis>(row.analysis_json) }
    : undefined;
}

/**
 * The newest analysis of the submission's headline metric (the one it is judged on), on its current file: the one
 * reader of "the task's verdict" for the submitter, organisers, acceptance, plots and the leaderboard. None for a
 * task without a headline metric (numeric).
 */
export async function latestHeadlineAnalysis(
  db: D1Database,
  submission: { id: string; headlineMetric: string | null },
): Promise<{ id: string; createdAt: string; analysis: Analysis } | undefined> {
  return submission.headlineMetric === null ? undefined : latestAnalysis(db, submission.id, submission.headlineMetric);
}

/** The newest analysis of every metric a submission has, on its current file. */
export async function latestAnalyses(
  db: D1Database,
  submissionId: string,
): Promise<{ metric: string; createdAt: string; analysis: Analysis }[]> {
  const { results } = await db
    .prepare(
      `SELECT metric, created_at, analysis_json FROM analyses a WHERE a.submission_id = ?1 AND a.rowid = ${latestAnalysisRowid("a.submission_id", "a.metric")} ORDER BY metric`,
    )
    .bind(submissionId)
    .all<{ metric: string; created_at: string; analysis_json: string }>();
  return results.map((row) => ({
    metric: row.metric,
    createdAt: row.created_at,
    analysis: readStoredJson<Analysis>(row.analysis_json),
  }));
}

/**
 * Submissions with analyses on their current file but none made by this analysis code (`codeVersion`): their
 * verdicts are made again by the cron job, a few at a time, those never tried (then tried longest ago) first.
 */
export async function outdatedAnalysisSubmissions(
  db: D1Database,
  codeVersion: string,
  limit: number,
): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT a.submission_id AS id FROM analyses a JOIN submissions s ON s.id = a.submission_id AND a.file_version = s.file_version
       WHERE s.state != 'withdrawn'
       GROUP BY a.submission_id
       HAVING SUM(json_extract(a.analysis_json, '$.codeVersion') = ?1) = 0
       ORDER BY s.reanalysed_at IS NOT NULL, s.reanalysed_at, MAX(a.created_at), a.submission_id LIMIT ?2`,
    )
    .bind(codeVersion, limit)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

/** Records a re-analysis attempt, whatever comes of it, so the next run tries the others first. */
export async function markReanalysed(db: D1Database, submissionId: string, at: string): Promise<void> {
  await db.prepare("UPDATE submissions SET reanalysed_at = ?2 WHERE id = ?1").bind(submissionId, at).run();
}
