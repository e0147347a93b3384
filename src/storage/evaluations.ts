import { readStoredJson } from "./stored-json";
import type { StoredFamily } from "../evaluate/stored-family";
import { chunk } from "./d1-chunks";
import {
  PICKUP_GRACE_MS,
  type ShardLease,
  type ShardRecord,
  type ShardRow,
  leaseHeldParams,
  leaseHeldSql,
  shardFromRow,
} from "./shards";
import { submissionFromRow, type SubmissionRecord, type SubmissionRow } from "./submissions";

export type EvaluationState = "queued" | "evaluating" | "evaluated" | "partially_evaluated" | "failed";

export interface ModelEstimate {
  model: string;
  requests: number;
  texts: number;
  tokens: number;
}

export interface EvaluationRecord {
  id: string;
  submissionId: string;
  family: string;
  familyDefinition: StoredFamily;
  state: EvaluationState;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  estimate: ModelEstimate[];
  tokenBudget: number | null;
  tokensUsed: number;
  requests: number;
  retries: number;
  cacheHits: number;
  reason: string | null;
  /** The submission's file version this evaluation ran on. */
  fileVersion: number;
}

export type { StoredFamily };

interface EvaluationRow {
  id: string;
  submission_id: string;
  family: string;
  family_json: string;
  state: EvaluationState;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  estimate_json: string;
  token_budget: number | null;
  tokens_used: number;
  requests: number;
  retries: number;
  cache_hits: number;
  reason: string | null;
  file_version: number;
}

const fromRow = (row: EvaluationRow): EvaluationRecord => ({
  id: row.id,
  submissionId: row.submission_id,
  family: row.family,
  familyDefinition: readStoredJson<StoredFamily>(row.family_json),
  state: row.state,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  finishedAt: row.finished_at,
  estimate: readStoredJson<ModelEstimate[]>(row.estimate_json),
  tokenBudget: row.token_budget,
  tokensUsed: row.tokens_used,
  requests: row.requests,
  retries: row.retries,
  cacheHits: row.cache_hits,
  reason: row.reason,
  fileVersion: row.file_version,
});

export function insertEvaluationStatements(
  db: D1Database,
  evaluation: EvaluationRecord,
  shards: ShardRecord[],
): D1PreparedStatement[] {
  const pickUpBy = Date.parse(evaluation.createdAt) + PICKUP_GRACE_MS;
  /** Row i's eight numbered parameters. */
  const shardRow = (i: number): string => `(${Array.from({ length: 8 }, (_, j) => `?${i * 8 + j + 1}`).join(", ")})`;
  return [
    db
      .prepare(
        `INSERT INTO evaluations (id, submission_id, family, family_json, state, created_at, updated_at, estimate_json, token_budget, file_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9)`,
      )
      .bind(
        evaluation.id,
        evaluation.submissionId,
        evaluation.family,
        JSON.stringify(evaluation.familyDefinition),
        evaluation.state,
        evaluation.createdAt,
        JSON.stringify(evaluation.estimate),
        evaluation.tokenBudget,
        evaluation.fileVersion,
      ),
    ...chunk(shards, 12).map((rows) =>
      db
        .prepare(
          `INSERT INTO evaluation_shards (evaluation_id, model, shard, first_example, end_example, state, updated_at,
             leased_until)
           VALUES ${rows.map((_, i) => shardRow(i)).join(", ")}`,
        )
        .bind(
          ...rows.flatMap((s) => [
            s.evaluationId,
            s.model,
            s.shard,
            s.firstExample,
            s.endExample,
            s.state,
            evaluation.createdAt,
            pickUpBy,
          ]),
        ),
    ),
  ];
}

export async function getEvaluation(db: D1Database, id: string): Promise<EvaluationRecord | undefined> {
  const row = await db.prepare("SELECT * FROM evaluations WHERE id = ?1").bind(id).first<EvaluationRow>();
  return row ? fromRow(row) : undefined;
}

export async function listEvaluations(db: D1Database, submissionId: string): Promise<EvaluationRecord[]> {
  const { results } = await db
    .prepare("SELECT * FROM evaluations WHERE submission_id = ?1 ORDER BY created_at, id")
    .bind(submissionId)
    .all<EvaluationRow>();
  return results.map(fromRow);
}

/** Evaluations of the submission's current file (a replaced file's runs stay stored, but no longer count). */
export async function currentEvaluations(
  db: D1Database,
  submission: { id: string; fileVersion: number },
): Promise<EvaluationRecord[]> {
  return (await listEvaluations(db, submission.id)).filter(
    (evaluation) => evaluation.fileVersion === submission.fileVersion,
  );
}

/** What a consumer needs to run a shard (the evaluation, the shard, the submission), in one round trip. */
export async function shardContext(
  db: D1Database,
  evaluationId: string,
  model: string,
  shard: number,
): Promise<{ evaluation?: EvaluationRecord; shard?: ShardRecord; submission?: SubmissionRecord }> {
  const [evaluation, shardRow, submission] = await db.batch([
    db.prepare("SELECT * FROM evaluations WHERE id = ?1").bind(evaluationId),
    db
      .prepare("SELECT * FROM evaluation_shards WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3")
      .bind(evaluationId, model, shard),
    db
      .prepare("SELECT * FROM submissions WHERE id = (SELECT submission_id FROM evaluations WHERE id = ?1)")
      .bind(evaluationId),
  ]);
  const first = <T>(result: D1Result | undefined): T | undefined => (result?.results[0] as T | undefined) ?? undefined;
  const evaluationRow = first<EvaluationRow>(evaluation);
  const shardRecord = first<ShardRow>(shardRow);
  const submissionRow = first<SubmissionRow>(submission);
  return {
    ...(evaluationRow ? { evaluation: fromRow(evaluationRow) } : {}),
    ...(shardRecord ? { shard: shardFromRow(shardRecord) } : {}),
    ...(submissionRow ? { submission: submissionFromRow(submissionRow) } : {}),
  };
}

export async function addCounters(db: D1Database, id: string, counters: Counters): Promise<void> {
  await addCountersStatement(db, id, counters).run();
}

type Counters = { requests?: number; retries?: number; cacheHits?: number; tokens?: number };

/** With `heldBy`, the counters are added only while that lease is held (see leaseHeldSql). */
export function addCountersStatement(
  db: D1Database,
  id: string,
  counters: Counters,
  heldBy?: ShardLease,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE evaluations SET requests = requests + ?2, retries = retries + ?3, cache_hits = cache_hits + ?4, tokens_used = tokens_used + ?5,
         state = CASE WHEN state = 'queued' THEN 'evaluating' ELSE state END, updated_at = ?6 WHERE id = ?1${heldBy ? ` AND ${leaseHeldSql(7)}` : ""}`,
    )
    .bind(
      id,
      counters.requests ?? 0,
      counters.retries ?? 0,
      counters.cacheHits ?? 0,
      counters.tokens ?? 0,
      new Date().toISOString(),
      ...(heldBy ? leaseHeldParams(heldBy) : []),
    );
}

/**
 * Charges an evaluation `tokens` (a shard's estimate for the texts it is about to send) if its budget allows them:
 * false, charging nothing, if they would take it past its budget. One statement, so shards running at once can
 * never together charge more than the budget. The charge is settled to the provider's count once the texts are
 * scored (addCountersStatement with the difference).
 */
export async function chargeTokens(db: D1Database, id: string, tokens: number): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE evaluations SET tokens_used = tokens_used + ?2, updated_at = ?3
       WHERE id = ?1 AND (token_budget IS NULL OR tokens_used + ?2 <= token_budget)`,
    )
    .bind(id, tokens, new Date().toISOString())
    .run();
  return result.meta.changes === 1;
}

/**
 * Claims the right to end an evaluation: true for exactly one caller, unless an earlier claim is older than
 * `staleBefore` (its consumer died before ending it), which may then be taken over.
 */
export async function claimFinish(db: D1Database, id: string, now: string, staleBefore: string): Promise<boolean> {
  const result = await db
    .prepare(
      "UPDATE evaluations SET finishing_at = ?2 WHERE id = ?1 AND state IN ('queued', 'evaluating') AND (finishing_at IS NULL OR finishing_at < ?3)",
    )
    .bind(id, now, staleBefore)
    .run();
  return result.meta.changes === 1;
}

/** Ends the submission's open evaluations: their file was replaced, so their results would no longer count. */
export function supersedeOpenEvaluationsStatement(
  db: D1Database,
  submissionId: string,
  reason: string,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      "UPDATE evaluations SET state = 'failed', reason = ?2, finished_at = ?3, updated_at = ?3 WHERE submission_id = ?1 AND state IN ('queued', 'evaluating')",
    )
    .bind(submissionId, reason, at);
}

export async function finishEvaluation(
  db: D1Database,
  id: string,
  state: EvaluationState,
  reason: string | null,
): Promise<boolean> {
  const now = new Date().toISOString();
  const result = await db
    .prepare(
      "UPDATE evaluations SET state = ?2, reason = ?3, finished_at = ?4, updated_at = ?4 WHERE id = ?1 AND state IN ('queued', 'evaluating')",
    )
    .bind(id, state, reason, now)
    .run();
  return result.meta.changes === 1;
}

/** Evaluations still open whose last change is older than `before`: the cron job resumes them. */
export async function staleEvaluations(db: D1Database, before: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT id FROM evaluations WHERE state IN ('queued', 'evaluating') AND updated_at < ?1")
    .bind(before)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

export async function touchEvaluation(db: D1Database, id: string): Promise<void> {
  await db.prepare("UPDATE evaluations SET updated_at = ?2 WHERE id = ?1").bind(id, new Date().toISOString()).run();
}
