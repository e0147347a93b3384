/** The shards of evaluations (one model's slice of the examples each) and their leases. */
export type ShardState = "pending" | "done" | "failed";

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

export async function listShards(db: D1Database, evaluationId: string): Promise<ShardRecord[]> {
  const { results } = await db
    .prepare("SELECT * FROM evaluation_shards WHERE evaluation_id = ?1 ORDER BY model, shard")
    .bind(evaluationId)
    .all<ShardRow>();
  return results.map(shardFromRow);
}

export interface ShardRow {
  evaluation_id: string;
  model: string;
  shard: number;
  first_example: number;
  end_example: number;
  state: ShardState;
  attempts: number;
  error: string | null;
}

export const shardFromRow = (row: ShardRow): ShardRecord => ({
  evaluationId: row.evaluation_id,
  model: row.model,
  shard: row.shard,
  firstExample: row.first_example,
  endExample: row.end_example,
  state: row.state,
  attempts: row.attempts,
  error: row.error,
});

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

/**
 * Extends the leases `owner` holds on pending shards of these evaluations to `until` (one statement each), and
 * gives the shards it still holds: a shard it ran that is missing was settled, or its lease was taken over.
 */
export async function renewShardLeases(
  db: D1Database,
  owner: string,
  evaluationIds: readonly string[],
  until: number,
): Promise<ShardKey[]> {
  return updateOwnedLeases(db, "leased_until = ?3", owner, evaluationIds, until);
}

/** Sets `assignment` (whose one parameter is ?3) on the pending shards `owner` leases in each evaluation. */
async function updateOwnedLeases(
  db: D1Database,
  assignment: string,
  owner: string,
  evaluationIds: readonly string[],
  value: number,
): Promise<ShardKey[]> {
  if (evaluationIds.length === 0) return [];
  const updated = await db.batch<{ evaluation_id: string; model: string; shard: number }>(
    evaluationIds.map((evaluationId) =>
      db
        .prepare(
          `UPDATE evaluation_shards SET ${assignment}
           WHERE evaluation_id = ?1 AND leased_by = ?2 AND state = 'pending'
           RETURNING evaluation_id, model, shard`,
        )
        .bind(evaluationId, owner, value),
    ),
  );
  return updated.flatMap(({ results }) =>
    results.map((row) => ({ evaluationId: row.evaluation_id, model: row.model, shard: row.shard })),
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
  await updateOwnedLeases(db, "leased_by = NULL, leased_until = ?3", owner, evaluationIds, pickUpBy);
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
