import { listShards, staleEvaluations, touchEvaluation } from "../storage/evaluations";
import { finishIfComplete } from "./finish";
import { sendShards } from "./plan";

/** How long an open evaluation may go without any change before the cron job resumes it. */
export const STALE_AFTER_MS = 15 * 60_000;

/**
 * Finds evaluations that stopped moving (a message lost, a consumer that died mid-shard) and sends their pending
 * shards again. Shards are idempotent, so a shard that was only slow costs a skipped duplicate at worst.
 */
export async function resumeStaleEvaluations(
  bindings: { DB: D1Database; EVALUATIONS: Queue },
  now = Date.now(),
  onFinish?: (evaluationId: string) => Promise<void>,
): Promise<{ resumed: number; shards: number }> {
  let shards = 0;
  const stale = await staleEvaluations(bindings.DB, new Date(now - STALE_AFTER_MS).toISOString());
  for (const evaluationId of stale) {
    const pending = (await listShards(bindings.DB, evaluationId)).filter((shard) => shard.state === "pending");
    if (pending.length === 0) {
      await finishIfComplete(bindings.DB, evaluationId, onFinish);
      continue;
    }
    await sendShards(bindings.EVALUATIONS, evaluationId, pending);
    await touchEvaluation(bindings.DB, evaluationId);
    shards += pending.length;
  }
  return { resumed: stale.length, shards };
}
