import { readStoredJson } from "./stored-json";
import type { StoredFamily } from "../evaluate/stored-family";
import { chunk } from "./d1-chunks";
import { submissionFromRow, type SubmissionRecord, type SubmissionRow } from "./submissions";

export type EvaluationState = "queued" | "evaluating" | "evaluated" | "partially_evaluated" | "failed";

export type ShardState = "pending" | "done" | "failed";

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

export interface ShardRecord {
  evaluationId: string;
  model: string;
  shard: number;
  firstExample: number;
  endExample: number;
  state: ShardState;
  attempts: number;
  error: string | null;
}

/**
 * How long a shard's message may wait in the queue before the cron job sends it again (its message may be lost:
 * a local queue loses its messages when wrangler dev restarts). Each resend of the same shard waits twice as long,
 * up to 16 times this, so a long backlog costs a few duplicate messages per shard, each skipped by one query.
 */
export const PICKUP_GRACE_MS = 60_000;

/** A shard's key: its evaluation, model and index. */
export type ShardKey = Pick<ShardRecord, "evaluationId" | "model" | "shard">;

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

export async function listShards(db: D1Database, evaluationId: string): Promise<ShardRecord[]> {
  const { results } = await db
    .prepare("SELECT * FROM evaluation_shards WHERE evaluation_id = ?1 ORDER BY model, shard")
    .bind(evaluationId)
    .all<ShardRow>();
  return results.map(shardFromRow);
}

interface ShardRow {
  evaluation_id: string;
  model: string;
  shard: number;
  first_example: number;
  end_example: number;
  state: ShardState;
  attempts: number;
  error: string | null;
}

const shardFromRow = (row: ShardRow): ShardRecord => ({
  evaluationId: row.evaluation_id,
  model: row.model,
  shard: row.shard,
  firstExample: row.first_example,
  endExample: row.end_example,
  state: row.state,
  attempts: row.attempts,
  error: row.error,
});

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

export async function getShard(
  db: D1Database,
  evaluationId: string,
  model: string,
  shard: number,
): Promise<ShardRecord | undefined> {
  const row = await db
    .prepare("SELECT * FROM evaluation_shards WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3")
    .bind(evaluationId, model, shard)
    .first<ShardRow>();
  return row ? shardFromRow(row) : undefined;
}

export async function pendingShardCount(db: D1Database, evaluationId: string): Promise<number> {
  const row = await db
    .prepare("SELECT COUNT(*) AS pending FROM evaluation_shards WHERE evaluation_id = ?1 AND state = 'pending'")
    .bind(evaluationId)
    .first<{ pending: number }>();
  return row?.pending ?? 0;
}

/** Moves a pending shard to done or failed; false if it was no longer pending (a duplicate delivery got there first). */
export function settleShardStatement(
  db: D1Database,
  evaluationId: string,
  model: string,
  shard: number,
  state: "done" | "failed",
  error: string | null,
  owner?: string,
): D1PreparedStatement {
  // With an owner, only while it holds the shard's lease (another consumer may have taken it over).
  return db
    .prepare(
      `UPDATE evaluation_shards SET state = ?4, error = ?5, updated_at = ?6, leased_by = NULL, leased_until = NULL
       WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3 AND state = 'pending' AND (?7 IS NULL OR leased_by = ?7)`,
    )
    .bind(evaluationId, model, shard, state, error, new Date().toISOString(), owner ?? null);
}

/** A pending shard's lease, held by a consumer (`owner`): the writes of its final batch are made only while held. */
export interface ShardLease extends ShardKey {
  owner: string;
}

/**
 * An SQL condition, true while the lease's owner still holds the shard (pending), with its four parameters from
 * ?`first` on (`leaseHeldParams`). In the batch that settles a shard, every write before the settling statement
 * (itself conditional on the owner) carries it: D1 runs a batch as one transaction, so all of them are made, or
 * none (a consumer that lost its lease writes nothing).
 */
export function leaseHeldSql(first: number): string {
  return `EXISTS (SELECT 1 FROM evaluation_shards WHERE evaluation_id = ?${first} AND model = ?${first + 1}
    AND shard = ?${first + 2} AND state = 'pending' AND leased_by = ?${first + 3})`;
}

export const leaseHeldParams = (lease: ShardLease): [string, string, number, string] => [
  lease.evaluationId,
  lease.model,
  lease.shard,
  lease.owner,
];

export async function settleShard(
  db: D1Database,
  evaluationId: string,
  model: string,
  shard: number,
  state: "done" | "failed",
  error: string | null,
  owner?: string,
): Promise<boolean> {
  const result = await settleShardStatement(db, evaluationId, model, shard, state, error, owner).run();
  return result.meta.changes === 1;
}

export async function noteShardAttempt(
  db: D1Database,
  evaluationId: string,
  model: string,
  shard: number,
  error: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE evaluation_shards SET attempts = attempts + 1, error = ?4, updated_at = ?5 WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3",
    )
    .bind(evaluationId, model, shard, error, new Date().toISOString())
    .run();
}

/**
 * Takes the leases of the shards a consumer was delivered, in one round trip: for each, whether it is now the
 * consumer's (`owner`) until `until`. A shard is taken only while pending and not held by a live lease, so a
 * shard delivered twice (even twice in one batch) runs once at a time.
 */
export async function claimShards(
  db: D1Database,
  shards: readonly ShardKey[],
  owner: string,
  now: number,
  until: number,
): Promise<boolean[]> {
  if (shards.length === 0) return [];
  const claims = await db.batch(
    shards.map(({ evaluationId, model, shard }) =>
      db
        .prepare(
          `UPDATE evaluation_shards SET leased_by = ?4, leased_until = ?5
           WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3 AND state = 'pending'
             AND (leased_by IS NULL OR leased_until IS NULL OR leased_until < ?6)`,
        )
        .bind(evaluationId, model, shard, owner, until, now),
    ),
  );
  return claims.map((claim) => claim.meta.changes === 1);
}

/** Extends the leases `owner` holds on pending shards of these evaluations to `until` (one statement each). */
export async function renewShardLeases(
  db: D1Database,
  owner: string,
  evaluationIds: readonly string[],
  until: number,
): Promise<void> {
  if (evaluationIds.length === 0) return;
  await db.batch(
    evaluationIds.map((evaluationId) =>
      db
        .prepare(
          `UPDATE evaluation_shards SET leased_until = ?3
           WHERE evaluation_id = ?1 AND leased_by = ?2 AND state = 'pending'`,
        )
        .bind(evaluationId, owner, until),
    ),
  );
}

/**
 * Gives a shard's lease back to the queue, which redelivers its message later (a retry with backoff): the
 * message must be picked up by `pickUpBy`. Only `owner`'s lease is given back.
 */
export async function releaseShard(db: D1Database, key: ShardKey, owner: string, pickUpBy: number): Promise<void> {
  await db
    .prepare(
      `UPDATE evaluation_shards SET leased_by = NULL, leased_until = ?5
       WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3 AND leased_by = ?4 AND state = 'pending'`,
    )
    .bind(key.evaluationId, key.model, key.shard, owner, pickUpBy)
    .run();
}

/** Gives back to the queue every lease `owner` holds on pending shards of these evaluations (see releaseShard). */
export async function releaseShardLeases(
  db: D1Database,
  owner: string,
  evaluationIds: readonly string[],
  pickUpBy: number,
): Promise<void> {
  if (evaluationIds.length === 0) return;
  await db.batch(
    evaluationIds.map((evaluationId) =>
      db
        .prepare(
          `UPDATE evaluation_shards SET leased_by = NULL, leased_until = ?3
           WHERE evaluation_id = ?1 AND leased_by = ?2 AND state = 'pending'`,
        )
        .bind(evaluationId, owner, pickUpBy),
    ),
  );
}

/**
 * The pending shards of open evaluations that are past their time (a consumer's lease that expired, or a message
 * not picked up in time), at most `limit`, oldest first. Each is given back to the queue for the caller to send
 * again: its next time is `now` plus the pickup grace, doubled for each earlier resend (up to 16 times). A shard
 * is returned to one caller only, even when two run at once. It reads the small index of pending shards in time
 * order (evaluation_shards_due), so with nothing overdue it reads nothing.
 */
export async function takeOverdueShards(db: D1Database, now: number, limit = 500): Promise<ShardKey[]> {
  const { results } = await db
    .prepare(
      `UPDATE evaluation_shards
       SET leased_by = NULL, leased_until = ?1 + ?2 * (1 << min(resends, 4)), resends = resends + 1
       WHERE state = 'pending' AND leased_until < ?1 AND rowid IN (
         SELECT s.rowid FROM evaluation_shards s
         WHERE s.state = 'pending' AND s.leased_until < ?1
           AND EXISTS (SELECT 1 FROM evaluations e WHERE e.id = s.evaluation_id AND e.state IN ('queued', 'evaluating'))
         ORDER BY s.leased_until LIMIT ?3)
       RETURNING evaluation_id, model, shard`,
    )
    .bind(now, PICKUP_GRACE_MS, limit)
    .all<{ evaluation_id: string; model: string; shard: number }>();
  return results.map((row) => ({ evaluationId: row.evaluation_id, model: row.model, shard: row.shard }));
}

/** Makes an evaluation's pending shards due now, except those a live consumer holds; how many were made due. */
export async function makePendingShardsDue(db: D1Database, evaluationId: string, now: number): Promise<number> {
  const result = await db
    .prepare(
      `UPDATE evaluation_shards SET leased_by = NULL, leased_until = ?2 - 1
       WHERE evaluation_id = ?1 AND state = 'pending'
         AND (leased_by IS NULL OR leased_until IS NULL OR leased_until < ?2)`,
    )
    .bind(evaluationId, now)
    .run();
  return result.meta.changes;
}

/**
 * Makes every pending shard of the open evaluations due now, whoever holds it: for a local restart, after which no
 * consumer from before is alive and the queue has lost its messages. How many were made due.
 */
export async function makeEveryPendingShardDue(db: D1Database, now: number): Promise<number> {
  const result = await db
    .prepare(
      `UPDATE evaluation_shards SET leased_by = NULL, leased_until = ?1 - 1
       WHERE state = 'pending'
         AND evaluation_id IN (SELECT id FROM evaluations WHERE state IN ('queued', 'evaluating'))`,
    )
    .bind(now)
    .run();
  return result.meta.changes;
}

/**
 * Takes an ended evaluation's pending shards out of the due index (no holder, no time), as ending it does (the
 * trigger of migration 0013): for a shard a consumer leased after its evaluation ended. Nothing if it is open.
 */
export async function freeShardsOfEndedEvaluation(db: D1Database, evaluationId: string): Promise<void> {
  await db
    .prepare(
      `UPDATE evaluation_shards SET leased_by = NULL, leased_until = NULL
       WHERE evaluation_id = ?1 AND state = 'pending'
         AND EXISTS (SELECT 1 FROM evaluations WHERE id = ?1 AND state NOT IN ('queued', 'evaluating'))`,
    )
    .bind(evaluationId)
    .run();
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
