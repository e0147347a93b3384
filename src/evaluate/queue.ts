import {
  PICKUP_GRACE_MS,
  claimShards,
  getShard,
  noteShardAttempt,
  releaseShard,
  releaseShardLeases,
  renewShardLeases,
  settleShard,
} from "../storage/shards";
import { addCounters } from "../storage/evaluations";
import { ProviderError } from "./adapters";
import { failureText } from "./failure-classes";
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
 * How long a consumer's lease on a shard lasts unless renewed; it renews its leases every quarter of that while it
 * works. A consumer that dies loses its leases this long after its last renewal, and the cron job (every minute)
 * then sends the shards again.
 */
export const LEASE_MS = 20_000;

/** A shard's key as text, to find the shard among those a renewal gives back. */
const shardName = ({ evaluationId, model, shard }: ShardMessage): string =>
  JSON.stringify([evaluationId, model, shard]);

/**
 * Renews `owner`'s leases on pending shards of these evaluations every quarter of LEASE_MS, until stopped. A
 * running shard the renewal no longer finds held has lost its lease (it ran out and the cron job sent the shard
 * again): its cancel signal aborts, so its requests stop and another consumer's run of it is the only one paid for.
 */
function keepLeases(
  db: D1Database,
  owner: string,
  evaluationIds: readonly string[],
  running: ReadonlyMap<string, AbortController>,
  renewEveryMs: number,
): () => void {
  if (evaluationIds.length === 0) return () => {};
  const timer = setInterval(() => {
    renewShardLeases(db, owner, evaluationIds, Date.now() + LEASE_MS).then(
      (held) => {
        const stillHeld = new Set(held.map(shardName));
        for (const [name, controller] of running)
          if (!stillHeld.has(name)) controller.abort(new Error("the shard's lease was lost"));
      },
      (error: unknown) => console.error(JSON.stringify({ leases: owner, renewal: describeError(error) })),
    );
  }, renewEveryMs);
  return () => clearInterval(timer);
}

/**
 * Runs each shard message and acks it only when its work is stored (done, skipped as a duplicate, or failed for
 * good). A retryable failure retries the message with backoff; after the queue's retry limit it goes to the
 * dead-letter queue, whose consumer marks the shard failed. When an evaluation's last shard settles, `onFinish`
 * (the analysis of its results) runs before the evaluation is marked ended.
 *
 * The consumer first takes a lease on each shard it was delivered, and renews them while it works. A shard another
 * consumer holds (a duplicate message: the cron job sends again shards whose lease ran out) is acked unrun: its
 * holder settles it, or gives it back to the queue, or dies and the cron job sends it again once its lease expires.
 * Leases are renewed every `renewEveryMs` (a quarter of LEASE_MS; tests make it shorter).
 */
export async function handleShardBatch(
  batch: MessageBatch<ShardMessage>,
  bindings: EvaluateBindings,
  onFinish: FinishHook,
  { renewEveryMs = LEASE_MS / 4 }: { renewEveryMs?: number } = {},
): Promise<void> {
  const deadLetters = batch.queue.endsWith(DEAD_LETTER_SUFFIX);
  const owner = crypto.randomUUID();
  const now = Date.now();
  const held = deadLetters
    ? []
    : await claimShards(
        bindings.DB,
        batch.messages.map((message) => message.body),
        owner,
        now,
        now + LEASE_MS,
      );
  const evaluationIds = [
    ...new Set(batch.messages.filter((_, i) => held[i]).map((message) => message.body.evaluationId)),
  ];
  // The shards this consumer is running, each with the signal that cancels its requests.
  const running = new Map<string, AbortController>();
  const stopRenewing = keepLeases(bindings.DB, owner, evaluationIds, running, renewEveryMs);
  try {
    await runMessages(batch, bindings, onFinish, { deadLetters, owner, held, running });
  } catch (error) {
    // The queue sends the whole batch again, at once: the shards still held here must be free for it to take.
    await releaseShardLeases(bindings.DB, owner, evaluationIds, Date.now() + PICKUP_GRACE_MS).catch(
      (failure: unknown) => console.error(JSON.stringify({ leases: owner, release: describeError(failure) })),
    );
    throw error;
  } finally {
    stopRenewing();
  }
}

async function runMessages(
  batch: MessageBatch<ShardMessage>,
  bindings: EvaluateBindings,
  onFinish: FinishHook,
  {
    deadLetters,
    owner,
    held,
    running,
  }: { deadLetters: boolean; owner: string; held: readonly boolean[]; running: Map<string, AbortController> },
): Promise<void> {
  // Every message is seen to the end before a failure is thrown, so no shard of the batch still runs after it.
  const outcomes = await Promise.allSettled(
    batch.messages.map(async (message, i) => {
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
            // The class stays first: finish.ts shows submitters the class alone.
            `${record?.error ?? failureText("internal_error", "unknown error")} (gave up after ${record?.attempts ?? "several"} attempts)`,
          );
        } else if (held[i]) {
          // Its results are written only while this consumer still holds its lease.
          const controller = new AbortController();
          running.set(shardName(message.body), controller);
          try {
            await runShard(bindings, message.body, owner, controller.signal);
          } finally {
            running.delete(shardName(message.body));
          }
        }
      } catch (error) {
        const permanent = error instanceof ProviderError && !error.retryable;
        // Stored as a class and the adapter's own sentence; anything else is an internal error, described only in logs.
        const reason =
          error instanceof ProviderError
            ? failureText(error.failure, error.message)
            : failureText("internal_error", "internal error while running the shard");
        if (permanent) {
          // Only while this consumer still holds the shard's lease: otherwise its holder settles it.
          await settleShard(bindings.DB, evaluationId, model, shard, "failed", reason, owner);
        } else {
          // Provider hiccups and anything unexpected (storage, a bug) retry with backoff; the dead-letter queue
          // ends the shard after the retry limit. Unexpected errors are logged, never put in the stored reason.
          if (!(error instanceof ProviderError))
            console.error(JSON.stringify({ evaluationId, model, shard, error: describeError(error) }));
          await noteShardAttempt(bindings.DB, evaluationId, model, shard, reason);
          await addCounters(bindings.DB, evaluationId, { retries: 1 });
          const delaySeconds = backoffSeconds(
            message.attempts,
            error instanceof ProviderError ? error.retryAfterMs : undefined,
          );
          // The queue holds the shard again until its message comes back (or the cron job sends it again).
          await releaseShard(bindings.DB, message.body, owner, Date.now() + delaySeconds * 1000 + PICKUP_GRACE_MS);
          message.retry({ delaySeconds });
          return;
        }
      }
      // The shard's work is stored: ending (and analysing) the evaluation never sends the message round again.
      await finishIfComplete(bindings.DB, evaluationId, onFinish);
      message.ack();
    }),
  );
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failure) throw failure.reason;
}
