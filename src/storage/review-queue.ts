/** The organisers' review queue: the filtered, paged list of submissions, and decisions that move them. */
import { latestAnalysisRowid } from "./analyses";
import type { SubmissionState } from "../submission-states";

/** Applies a decision only if the submission is still in the state it was read in (a concurrent decision loses). */
export function decideStatement(
  db: D1Database,
  read: { id: string; state: SubmissionState; updatedAt: string },
  to: SubmissionState,
  note: string,
  at: string,
): D1PreparedStatement {
  // updated_at moves with every decision, edit and new file: a decision applies only to the version it was made on.
  return db
    .prepare(
      `UPDATE submissions SET state = ?3, reviewed_at = ?4, review_note = ?5, updated_at = ?4
       WHERE id = ?1 AND state = ?2 AND updated_at = ?6`,
    )
    .bind(read.id, read.state, to, at, note, read.updatedAt);
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
