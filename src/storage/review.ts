import type { Analysis } from "../analysis/analyse";
import type { MetricName } from "../analysis/metrics";
import { latestAnalysisRowid, latestHeadlineAnalysis } from "./analyses";
import type { SubmissionState } from "../submission-states";
import { storedMetricName } from "./submissions";

/** Applies a decision only if the submission is still in the state it was read in (a concurrent decision loses). */
export function decideStatement(
  db: D1Database,
  id: string,
  from: SubmissionState,
  to: SubmissionState,
  note: string,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      "UPDATE submissions SET state = ?3, reviewed_at = ?4, review_note = ?5, updated_at = ?4 WHERE id = ?1 AND state = ?2",
    )
    .bind(id, from, to, at, note);
}

export interface SubmissionListItem {
  id: string;
  title: string;
  taskType: string;
  state: SubmissionState;
  examples: number;
  createdAt: string;
  reviewedAt: string | null;
}

export interface SubmissionFilters {
  state?: string;
  taskType?: string;
  since?: string;
  until?: string;
  /** Has results (evaluated or uploaded) on this family, for its current file. */
  family?: string;
  /** Its latest analysis of its headline metric gives this verdict (on `family`, when given; else on any family). */
  verdict?: string;
}

/** Newest first; the cursor is the last item's (created_at, id), so pages never skip or repeat. */
export async function listSubmissions(
  db: D1Database,
  filters: SubmissionFilters,
  cursor: { createdAt: string; id: string } | undefined,
  limit: number,
): Promise<SubmissionListItem[]> {
  const clauses: string[] = [];
  const values: (string | number)[] = [];
  const add = (sql: string, value: string): void => {
    values.push(value);
    clauses.push(sql.replace("?", `?${values.length}`));
  };
  if (filters.state) add("state = ?", filters.state);
  if (filters.taskType) add("task_type = ?", filters.taskType);
  if (filters.since) add("created_at >= ?", filters.since);
  if (filters.until) add("created_at < ?", filters.until);
  let familyParameter: number | undefined;
  if (filters.family) {
    add(
      `(EXISTS (SELECT 1 FROM evaluations e WHERE e.submission_id = submissions.id AND e.file_version = submissions.file_version AND e.family = ?)
        OR EXISTS (SELECT 1 FROM external_results x WHERE x.submission_id = submissions.id AND x.file_version = submissions.file_version AND x.family = ?${values.length + 1}))`,
      filters.family,
    );
    familyParameter = values.length;
  }
  if (filters.verdict) {
    const familyClause = familyParameter ? ` AND json_extract(f.value, '$.family') = ?${familyParameter}` : "";
    add(
      `EXISTS (SELECT 1 FROM analyses a, json_each(a.analysis_json, '$.families') f
        WHERE a.rowid = ${latestAnalysisRowid("submissions.id", "submissions.headline_metric")} AND json_extract(f.value, '$.verdict') = ?${familyClause})`,
      filters.verdict,
    );
  }
  if (cursor) {
    values.push(cursor.createdAt, cursor.id);
    clauses.push(
      `(created_at < ?${values.length - 1} OR (created_at = ?${values.length - 1} AND id < ?${values.length}))`,
    );
  }
  values.push(limit);
  const { results } = await db
    .prepare(
      `SELECT id, title, task_type, state, example_count, created_at, reviewed_at FROM submissions
       ${clauses.length ? `WHERE ${clauses.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?${values.length}`,
    )
    .bind(...values)
    .all<{
      id: string;
      title: string;
      task_type: string;
      state: SubmissionState;
      example_count: number;
      created_at: string;
      reviewed_at: string | null;
    }>();
  return results.map((row) => ({
    id: row.id,
    title: row.title,
    taskType: row.task_type,
    state: row.state,
    examples: row.example_count,
    createdAt: row.created_at,
    reviewedAt: row.reviewed_at,
  }));
}

export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  submissionId: string | null;
  detail: unknown;
}

export async function listAudit(
  db: D1Database,
  submissionId: string | undefined,
  before: number | undefined,
  limit: number,
): Promise<AuditRecord[]> {
  const { results } = await db
    .prepare(
      `SELECT id, at, actor, action, submission_id, detail_json FROM audit_log
       WHERE (?1 IS NULL OR submission_id = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3`,
    )
    .bind(submissionId ?? null, before ?? null, limit)
    .all<{
      id: number;
      at: string;
      actor: string;
      action: string;
      submission_id: string | null;
      detail_json: string;
    }>();
  return results.map((row) => ({
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    submissionId: row.submission_id,
    detail: JSON.parse(row.detail_json),
  }));
}

export interface AcceptedRow {
  id: string;
  title: string;
  taskType: string;
  /** The metric the task is judged on; `analysis` is its newest analysis. */
  headlineMetric: MetricName | null;
  examples: number;
  acceptedAt: string;
  metadata: Record<string, unknown>;
  analysis: Analysis | null;
  privateFamilies: Set<string>;
}

/**
 * Names of a submission's families marked private, whether evaluated here or uploaded: their results are for
 * organisers only. The one place that decides it, for the leaderboard, public plots and the submitter's view.
 */
export async function privateFamilyNames(db: D1Database, submissionId: string): Promise<Set<string>> {
  const { results } = await db
    .prepare(
      "SELECT family_json FROM evaluations WHERE submission_id = ?1 UNION ALL SELECT family_json FROM external_results WHERE submission_id = ?1",
    )
    .bind(submissionId)
    .all<{ family_json: string }>();
  const names = new Set<string>();
  for (const row of results) {
    const definition = JSON.parse(row.family_json) as { name?: string; visibility?: string };
    if (definition.visibility === "private" && definition.name) names.add(definition.name);
  }
  return names;
}

/** Accepted submissions with their newest analysis of their headline metric and the families marked private. */
export async function acceptedSubmissions(db: D1Database): Promise<AcceptedRow[]> {
  const { results } = await db
    .prepare(
      "SELECT id, title, task_type, headline_metric, example_count, reviewed_at, metadata_json FROM submissions WHERE state = 'accepted' ORDER BY reviewed_at, id",
    )
    .all<{
      id: string;
      title: string;
      task_type: string;
      headline_metric: string | null;
      example_count: number;
      reviewed_at: string;
      metadata_json: string;
    }>();
  const rows: AcceptedRow[] = [];
  for (const row of results) {
    const headlineMetric = storedMetricName(row.headline_metric);
    const latest = await latestHeadlineAnalysis(db, { id: row.id, headlineMetric });
    const privateFamilies = await privateFamilyNames(db, row.id);
    rows.push({
      id: row.id,
      title: row.title,
      taskType: row.task_type,
      headlineMetric,
      examples: row.example_count,
      acceptedAt: row.reviewed_at,
      metadata: JSON.parse(row.metadata_json) as Record<string, unknown>,
      analysis: latest?.analysis ?? null,
      privateFamilies,
    });
  }
  return rows;
}

export async function latestSnapshot(db: D1Database): Promise<{ etag: string; json: string } | undefined> {
  return (
    (await db
      .prepare("SELECT etag, json FROM leaderboard_snapshots ORDER BY id DESC LIMIT 1")
      .first<{ etag: string; json: string }>()) ?? undefined
  );
}

export async function insertSnapshot(db: D1Database, json: string, etag: string, at: string): Promise<void> {
  await db
    .prepare("INSERT INTO leaderboard_snapshots (created_at, etag, json) VALUES (?1, ?2, ?3)")
    .bind(at, etag, json)
    .run();
}
