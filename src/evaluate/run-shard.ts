import { sha256Hex } from "../util/hash";
import {
  addCounters,
  addCountersStatement,
  cacheStatements,
  cachedScores,
  resultStatements,
  settleShard,
  settleShardStatement,
  shardContext,
  type StoredFamily,
} from "../storage/evaluations";
import { readExamples } from "../storage/examples";
import type { Example } from "../validate/row-rules";
import { ProviderError, adapterFor, type ScoringAdapter } from "./adapters";
import { continuationScore, exampleMetrics, textsFor, type ScoredText } from "./metrics";
import type { ShardMessage } from "./plan";
import type { Permit, ProviderLimits } from "./rate-limiter";

export interface EvaluateBindings {
  DB: D1Database;
  BLOBS: R2Bucket;
  RATE_LIMITER: DurableObjectNamespace<import("./rate-limiter").ProviderRateLimiter>;
}

export type ShardOutcome = { kind: "done" } | { kind: "skipped"; why: string } | { kind: "failed"; error: string };

/** How long a consumer waits in-process for a rate-limit permit before handing the message back for later. */
const PERMIT_WAIT_MS = 20_000;

/** Rate limits are per provider key: the same base URL and key share one budget, whatever the family. */
export const providerKey = (family: StoredFamily): string => `${family.baseUrl ?? ""}|${family.apiKeySecret ?? ""}`;

/**
 * A task's examples, parsed once per isolate: the shards of an evaluation all read the same object, and its key
 * is content-addressed (examples/<sha256>/...), so a cached copy can never be stale. A few tasks are kept.
 */
const examplesByKey = new Map<string, Promise<Example[]>>();
const EXAMPLE_SETS_KEPT = 4;

async function loadExamples(bucket: R2Bucket, key: string, first: number, end: number): Promise<Example[]> {
  let all = examplesByKey.get(key);
  if (!all) {
    all = readExamples(bucket, key).then((examples) => {
      if (!examples) throw new Error(`examples ${key} are missing from storage`);
      return examples;
    });
    examplesByKey.set(key, all);
    all.catch(() => examplesByKey.delete(key));
    if (examplesByKey.size > EXAMPLE_SETS_KEPT) examplesByKey.delete(examplesByKey.keys().next().value!);
  }
  return (await all).slice(first, end);
}

/**
 * Runs one shard: scores the texts its examples need (cached ones cost nothing), computes each example's metrics
 * and writes them. Safe to run twice: results are keyed by (evaluation, model, example), and a shard that is no
 * longer pending is skipped. Retryable provider errors are thrown for the queue to retry with backoff.
 */
export async function runShard(bindings: EvaluateBindings, message: ShardMessage): Promise<ShardOutcome> {
  const { evaluationId, model, shard: shardIndex } = message;
  const { evaluation, shard, submission } = await shardContext(bindings.DB, evaluationId, model, shardIndex);
  if (!evaluation) return { kind: "skipped", why: "no such evaluation" };
  if (evaluation.state !== "queued" && evaluation.state !== "evaluating")
    return { kind: "skipped", why: `evaluation is ${evaluation.state}` };
  if (shard?.state !== "pending") return { kind: "skipped", why: "shard already settled" };
  if (evaluation.tokenBudget !== null && evaluation.tokensUsed >= evaluation.tokenBudget) {
    await settleShard(
      bindings.DB,
      evaluationId,
      model,
      shardIndex,
      "failed",
      `token budget of ${evaluation.tokenBudget} reached`,
    );
    return { kind: "failed", error: "token budget reached" };
  }
  if (!submission) return { kind: "skipped", why: "submission is gone" };
  if (submission.fileVersion !== evaluation.fileVersion)
    return { kind: "skipped", why: "the submission's file was replaced" };

  const family = evaluation.familyDefinition;
  let adapter: ScoringAdapter;
  try {
    adapter = adapterFor(family, bindings);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await settleShard(bindings.DB, evaluationId, model, shardIndex, "failed", reason);
    return { kind: "failed", error: reason };
  }

  const examples = await loadExamples(bindings.BLOBS, submission.examplesKey, shard.firstExample, shard.endExample);
  const wanted = examples.flatMap((example) =>
    textsFor(example).map(({ prompt, continuation }) => prompt + continuation),
  );
  const keyOf = new Map<string, string>();
  const distinct = [...new Set(wanted)];
  const keys = await Promise.all(
    distinct.map((text) => sha256Hex(JSON.stringify([family.baseUrl, model, adapter.version, text]))),
  );
  distinct.forEach((text, i) => {
    keyOf.set(text, keys[i]!);
  });
  const cached = await cachedScores(bindings.DB, [...keyOf.values()]);
  const scored = new Map<string, ScoredText>();
  for (const [text, key] of keyOf) {
    const hit = cached.get(key);
    if (hit) scored.set(text, hit);
  }
  const cacheHits = scored.size;
  const missing = [...keyOf.keys()].filter((text) => !scored.has(text));

  // Requests go out together; the provider's rate limiter decides how many are in flight at once. Whatever
  // came back is cached in one write once all have settled, even when some failed, so a retry pays only for
  // what is still missing. (One write per shard, not per request: local D1 spends more on round trips than rows.)
  let requests = 0;
  const fresh: [string, ScoredText][] = [];
  let tokens = 0;
  const batches: string[][] = [];
  for (let i = 0; i < missing.length; i += adapter.promptsPerRequest)
    batches.push(missing.slice(i, i + adapter.promptsPerRequest));
  const settled = await Promise.allSettled(
    batches.map(async (texts) => {
      const results = await withPermit(bindings, family, () => adapter.score(model, texts));
      requests++;
      texts.forEach((text, j) => {
        scored.set(text, results[j]!);
        fresh.push([keyOf.get(text)!, results[j]!]);
      });
      tokens += results.reduce((sum, result) => sum + result.tokens.length, 0);
    }),
  );
  if (fresh.length > 0) await bindings.DB.batch(cacheStatements(bindings.DB, fresh));
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failure) {
    if (requests > 0 || cacheHits > 0) await addCounters(bindings.DB, evaluationId, { requests, cacheHits, tokens });
    throw failure.reason;
  }

  const rows = examples.map((example, offset) => {
    const scores = textsFor(example).map(({ prompt, continuation }) =>
      continuationScore(scored.get(prompt + continuation)!, prompt.length),
    );
    const outcome = exampleMetrics(example, scores);
    return {
      index: shard.firstExample + offset,
      flag: outcome.ok ? null : outcome.flag,
      metrics: outcome.ok ? outcome.metrics : null,
    };
  });
  // Results, counters and the shard's state in one atomic batch: a consumer that dies before it leaves none.
  await bindings.DB.batch([
    ...resultStatements(bindings.DB, evaluationId, model, rows),
    addCountersStatement(bindings.DB, evaluationId, { requests, cacheHits, tokens }),
    settleShardStatement(bindings.DB, evaluationId, model, shardIndex, "done", null),
  ]);
  return { kind: "done" };
}

/**
 * A first-in, first-out gate per provider within this isolate: calls beyond the provider's concurrency wait
 * here on a promise, instead of all asking the shared rate limiter (a Durable Object) again every few ms.
 */
class LocalGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

const gates = new Map<string, LocalGate>();

/**
 * Runs `call` holding a permit from the provider's rate limiter (shared by every isolate), after this
 * isolate's own gate; waits for a permit up to PERMIT_WAIT_MS.
 */
async function withPermit<T>(bindings: EvaluateBindings, family: StoredFamily, call: () => Promise<T>): Promise<T> {
  const limits: ProviderLimits = {
    concurrency: family.limits?.concurrency ?? 4,
    requestsPerMinute: family.limits?.requestsPerMinute ?? 600,
  };
  const key = `${providerKey(family)}|${limits.concurrency}`;
  let gate = gates.get(key);
  if (!gate) {
    gate = new LocalGate(limits.concurrency);
    gates.set(key, gate);
  }
  return gate.run(() => withSharedPermit(bindings, family, limits, call));
}

async function withSharedPermit<T>(
  bindings: EvaluateBindings,
  family: StoredFamily,
  limits: ProviderLimits,
  call: () => Promise<T>,
): Promise<T> {
  const limiter = bindings.RATE_LIMITER.get(bindings.RATE_LIMITER.idFromName(providerKey(family)));
  const deadline = Date.now() + PERMIT_WAIT_MS;
  let permit: Permit = await limiter.acquire(limits);
  while (!permit.granted) {
    if (Date.now() + permit.retryAfterMs > deadline)
      throw new ProviderError("the provider's rate limit is saturated", true, permit.retryAfterMs);
    await new Promise((resolve) => setTimeout(resolve, permit.granted ? 0 : permit.retryAfterMs));
    permit = await limiter.acquire(limits);
  }
  try {
    return await call();
  } finally {
    await limiter.release(permit.lease);
  }
}
