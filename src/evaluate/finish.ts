import { claimFinish, finishEvaluation, type EvaluationState } from "../storage/evaluations";
import { listShards, pendingShardCount } from "../storage/shards";
import { describeError } from "../log";
import { failureClassOf } from "./failure-classes";

export interface Ending {
  state: EvaluationState;
  reason: string | null;
}

/**
 * How an evaluation ends once no shard is pending: evaluated (all done), partially_evaluated (some failed: which
 * models and shards, and the classes of their failures, go in the reason) or failed (none done). Undefined while
 * shards are pending. The reason is shown to submitters, so it has each failure's class only: the shards' stored
 * errors (class and the service's sentence, with the HTTP status) are for organisers.
 */
export async function endingOf(db: D1Database, evaluationId: string): Promise<Ending | undefined> {
  if ((await pendingShardCount(db, evaluationId)) > 0) return undefined; // the common case, in one cheap query
  const shards = await listShards(db, evaluationId);
  if (shards.length === 0 || shards.some((shard) => shard.state === "pending")) return undefined;
  const failed = shards.filter((shard) => shard.state === "failed");
  let state: EvaluationState = "evaluated";
  let reason: string | null = null;
  if (failed.length > 0) {
    state = failed.length === shards.length ? "failed" : "partially_evaluated";
    const byModel = new Map<string, { shards: number[]; classes: Set<string> }>();
    for (const shard of failed) {
      const entry = byModel.get(shard.model) ?? { shards: [], classes: new Set<string>() };
      entry.shards.push(shard.shard);
      entry.classes.add(failureClassOf(shard.error));
      byModel.set(shard.model, entry);
    }
    reason = [...byModel]
      .map(
        ([model, { shards: list, classes }]) =>
          `${model}: shard${list.length === 1 ? "" : "s"} ${list.join(", ")} failed (${[...classes].join(", ")})`,
      )
      .join("; ");
  }
  return { state, reason };
}

/** How long a claim to end an evaluation holds before another consumer (or the cron job) may take it over. */
export const FINISH_CLAIM_MS = 2 * 60_000;

/**
 * Ends a complete evaluation. Its results are analysed first (`analyse`), so an evaluation seen as ended always
 * has its analysis. Consumers that settle the last shards together race here: one claims the ending and the
 * rest return at once, so the analysis (the costly part: a bootstrap per metric) runs once. True when this call
 * ended it. An analysis failure is logged and does not stop the evaluation from ending.
 */
export async function finishIfComplete(
  db: D1Database,
  evaluationId: string,
  analyse?: (evaluationId: string) => Promise<void>,
): Promise<boolean> {
  const ending = await endingOf(db, evaluationId);
  if (!ending) return false;
  const now = Date.now();
  if (
    !(await claimFinish(db, evaluationId, new Date(now).toISOString(), new Date(now - FINISH_CLAIM_MS).toISOString()))
  )
    return false;
  if (analyse && ending.state !== "failed") {
    await analyse(evaluationId).catch((error: unknown) =>
      console.error(JSON.stringify({ evaluationId, analysis: describeError(error) })),
    );
  }
  return finishEvaluation(db, evaluationId, ending.state, ending.reason);
}
