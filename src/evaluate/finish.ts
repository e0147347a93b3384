import { finishEvaluation, listShards, pendingShardCount, type EvaluationState } from "../storage/evaluations";

/**
 * Ends an evaluation once no shard is pending: evaluated (all done), partially_evaluated (some failed: which
 * models and shards, and why, go in the reason) or failed (none done). True when this call ended it.
 */
export async function finishIfComplete(db: D1Database, evaluationId: string): Promise<boolean> {
  if ((await pendingShardCount(db, evaluationId)) > 0) return false; // the common case, in one cheap query
  const shards = await listShards(db, evaluationId);
  if (shards.length === 0 || shards.some((shard) => shard.state === "pending")) return false;
  const failed = shards.filter((shard) => shard.state === "failed");
  let state: EvaluationState = "evaluated";
  let reason: string | null = null;
  if (failed.length > 0) {
    state = failed.length === shards.length ? "failed" : "partially_evaluated";
    const byModel = new Map<string, { shards: number[]; error: string }>();
    for (const shard of failed) {
      const entry = byModel.get(shard.model) ?? { shards: [], error: shard.error ?? "unknown error" };
      entry.shards.push(shard.shard);
      byModel.set(shard.model, entry);
    }
    reason = [...byModel].map(([model, { shards: list, error }]) => `${model}: shard${list.length === 1 ? "" : "s"} ${list.join(", ")} failed (${error})`).join("; ");
  }
  return finishEvaluation(db, evaluationId, state, reason);
}
