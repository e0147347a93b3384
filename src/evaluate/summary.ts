import { METRICS, type MetricName } from "../analysis/metrics";
import { listShards } from "../storage/shards";
import type { EvaluationRecord } from "../storage/evaluations";
import { modelTallies } from "../storage/results";
import type { SubmissionRecord } from "../storage/submissions";

export interface ModelProgress {
  model: string;
  /** Examples with a stored result (scored or flagged) out of the task's examples. */
  done: number;
  total: number;
  /** The task's headline metric over scored examples, once the model has any. */
  mean: number | null;
  standardError: number | null;
  scored: number;
  flagged: Record<string, number>;
}

export interface EvaluationSummary {
  id: string;
  family: string;
  /** The submission's file version it ran on. */
  fileVersion: number;
  state: EvaluationRecord["state"];
  reason: string | null;
  /** The submission's headline metric, whose per-model means `models` shows (null: a task without one). */
  metric: MetricName | null;
  models: ModelProgress[];
  counters: { requests: number; retries: number; cacheHits: number; tokensUsed: number };
  estimate: EvaluationRecord["estimate"];
  tokenBudget: number | null;
  failedShards: { model: string; shard: number; attempts: number; error: string | null }[];
  createdAt: string;
  finishedAt: string | null;
}

/** Progress per model, then per-model means with standard errors: what submitters and organisers watch. */
export async function summariseEvaluation(
  db: D1Database,
  evaluation: EvaluationRecord,
  submission: Pick<SubmissionRecord, "headlineMetric" | "exampleCount">,
): Promise<EvaluationSummary> {
  const metric = submission.headlineMetric;
  const exampleCount = submission.exampleCount;
  // Each example's stored metrics carry the metric's results column (accuracy: `correct`, 0 or 1).
  const tallies = new Map(
    (await modelTallies(db, evaluation.id, metric === null ? null : METRICS[metric].column)).map((tally) => [
      tally.model,
      tally,
    ]),
  );
  const models: ModelProgress[] = evaluation.familyDefinition.models.map((model) => {
    const tally = tallies.get(model.id);
    const scored = tally?.scored ?? 0;
    const variance = scored > 1 && tally?.squaredDeviations != null ? tally.squaredDeviations / (scored - 1) : null;
    return {
      model: model.id,
      done: tally?.done ?? 0,
      total: exampleCount,
      mean: tally?.mean ?? null,
      standardError: variance === null ? null : Math.sqrt(variance / scored),
      scored,
      flagged: tally?.flagged ?? {},
    };
  });
  const failedShards = (await listShards(db, evaluation.id))
    .filter((shard) => shard.state === "failed")
    .map((shard) => ({ model: shard.model, shard: shard.shard, attempts: shard.attempts, error: shard.error }));
  return {
    id: evaluation.id,
    family: evaluation.family,
    fileVersion: evaluation.fileVersion,
    state: evaluation.state,
    reason: evaluation.reason,
    metric,
    models,
    counters: {
      requests: evaluation.requests,
      retries: evaluation.retries,
      cacheHits: evaluation.cacheHits,
      tokensUsed: evaluation.tokensUsed,
    },
    estimate: evaluation.estimate,
    tokenBudget: evaluation.tokenBudget,
    failedShards,
    createdAt: evaluation.createdAt,
    finishedAt: evaluation.finishedAt,
  };
}
