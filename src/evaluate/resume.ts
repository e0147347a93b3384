import {
  makeEveryPendingShardDue,
  makePendingShardsDue,
  pendingShardCount,
  takeOverdueShards,
  type ShardKey,
} from "../storage/shards";
import { staleEvaluations, touchEvaluation } from "../storage/evaluations";
import { finishIfComplete } from "./finish";
import { sendShards } from "./plan";

/** After a local restart (LOCAL_RESTART_CRON): every pending shard of an open evaluation is due now, to be sent. */
export async function forgetLeasesAfterRestart(bindings: { DB: D1Database }, now = Date.now()): Promise<number> {
  return makeEveryPendingShardDue(bindings.DB, now);
}

/** How long an open evaluation may go without any change before the cron job looks at it as a whole. */
export const STALE_AFTER_MS = 15 * 60_000;

/**
 * Sends again the pending shards that are past their time: a consumer's lease that ran out (it died, or the
 * Worker restarted under it) or a message not picked up in time (lost: a local queue loses its messages when
 * wrangler dev restarts). One indexed query when there are none. Each shard taken is sent once, even when two
 * runs overlap; a consumer that gets a shard another one holds acks it unrun. How many were sent.
 */
export async function requeueOverdueShards(
  bindings: { DB: D1Database; EVALUATIONS: Queue },
  now = Date.now(),
): Promise<number> {
  const overdue = await takeOverdueShards(bindings.DB, now);
  const byEvaluation = new Map<string, ShardKey[]>();
  for (const shard of overdue) {
    const shards = byEvaluation.get(shard.evaluationId) ?? [];
    shards.push(shard);
    byEvaluation.set(shard.evaluationId, shards);
  }
  for (const [evaluationId, shards] of byEvaluation) await sendShards(bindings.EVALUATIONS, evaluationId, shards);
  return overdue.length;
}

/**
 * The cron job's resumption. First, evaluations that stopped moving for STALE_AFTER_MS: one with no pending shard
 * is ended (its last consumer died before ending it); one with pending shards has those no live consumer holds
 * made due. Then every overdue shard is sent again (`requeueOverdueShards`). Shards are idempotent, so a shard
 * that was only slow costs a skipped duplicate message at worst.
 */
export async function resumeEvaluations(
  bindings: { DB: D1Database; EVALUATIONS: Queue },
  now = Date.now(),
  onFinish?: (evaluationId: string) => Promise<void>,
): Promise<{ stale: number; shards: number }> {
  const stale = await staleEvaluations(bindings.DB, new Date(now - STALE_AFTER_MS).toISOString());
  for (const evaluationId of stale) {
    if ((await pendingShardCount(bindings.DB, evaluationId)) === 0) {
      await finishIfComplete(bindings.DB, evaluationId, onFinish);
      continue;
    }
    await makePendingShardsDue(bindings.DB, evaluationId, now);
    await touchEvaluation(bindings.DB, evaluationId);
  }
  return { stale: stale.length, shards: await requeueOverdueShards(bindings, now) };
}
