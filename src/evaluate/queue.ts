import { addCounters, getShard, noteShardAttempt, settleShard } from "../storage/evaluations";
import { ProviderError } from "./adapters";
import { finishIfComplete } from "./finish";
import type { ShardMessage } from "./plan";
import { runShard, type EvaluateBindings } from "./run-shard";
import { describeError } from "../log";

export const DEAD_LETTER_SUFFIX = "-dlq";

/** Exponential backoff with jitter (half to full of 2^attempt seconds, at most 5 minutes), never sooner than Retry-After. */
export function backoffSeconds(attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(300, 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.ceil(Math.max(jittered, (retryAfterMs ?? 0) / 1000));
}

export type FinishHook = (evaluationId: string) => Promise<void>;

/**
 * Runs each shard message and acks it only when its work is stored (done, skipped as a duplicate, or failed for
 * good). A retryable failure retries the message with backoff; after the queue's retry limit it goes to the
 * dead-letter queue, whose consumer marks the shard failed. When an evaluation's last shard settles, `onFinish`
 * (the analysis of its results) runs before the evaluation is marked ended.
 */
export async function handleShardBatch(
  batch: MessageBatch<ShardMessage>,
  bindings: EvaluateBindings,
  onFinish: FinishHook,
): Promise<void> {
  const deadLetters = batch.queue.endsWith(DEAD_LETTER_SUFFIX);
  await Promise.all(
    batch.messages.map(async (message) => {
      const { evaluationId, model, shard } = message.body;
      try {
        if (deadLetters) {
          const record = await getShard(bindings.DB, evaluationId, model, shard);
          await settleShard(
            bindings.DB,
            evaluationId,
            model,
            shard,
            "failed",
            `gave up after ${record?.attempts ?? "several"} attempts: ${record?.error ?? "unknown error"}`,
          );
        } else {
          await runShard(bindings, message.body);
        }
      } catch (error) {
        const permanent = error instanceof ProviderError && !error.retryable;
        const reason = error instanceof Error ? error.message : String(error);
        if (permanent) {
          await settleShard(bindings.DB, evaluationId, model, shard, "failed", reason);
        } else {
          // Provider hiccups and anything unexpected (storage, a bug) retry with backoff; the dead-letter queue
          // ends the shard after the retry limit. Unexpected errors are logged, never put in the stored reason.
          if (!(error instanceof ProviderError))
            console.error(JSON.stringify({ evaluationId, model, shard, error: describeError(error) }));
          await noteShardAttempt(
            bindings.DB,
            evaluationId,
            model,
            shard,
            error instanceof ProviderError ? reason : "internal error while running the shard",
          );
          await addCounters(bindings.DB, evaluationId, { retries: 1 });
          message.retry({
            delaySeconds: backoffSeconds(
              message.attempts,
              error instanceof ProviderError ? error.retryAfterMs : undefined,
            ),
          });
          return;
        }
      }
      // The shard's work is stored: ending (and analysing) the evaluation never sends the message round again.
      await finishIfComplete(bindings.DB, evaluationId, onFinish);
      message.ack();
    }),
  );
}
