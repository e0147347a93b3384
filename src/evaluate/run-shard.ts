import type { StorageBindings } from "../storage/bindings";
import { sha256Hex } from "../util/hash";
import {
  addCounters,
  addCountersStatement,
  chargeTokens,
  shardContext,
  type StoredFamily,
} from "../storage/evaluations";
import { freeShardsOfEndedEvaluation, settleShard, settleShardStatement } from "../storage/shards";
import { cacheStatements, cachedScores } from "../storage/score-cache";
import { resultStatements } from "../storage/results";
import { readExamples } from "../storage/examples";
import type { Example } from "../validate/row-rules";
import { ProviderError, adapterFor, type ScoringAdapter } from "./adapters";
import { failureText } from "./failure-classes";
import { workerAccess, type ProviderBindings } from "./provider-access";
import {
  continuationScore,
  exampleMetrics,
  textsFor,
  type ExampleFlag,
  type ExampleMetrics,
  type ScoredText,
} from "./metrics";
import { estimateTextTokens, type ShardMessage } from "./plan";
import type { Permit, ProviderLimits } from "./rate-limiter";
import { LocalGate } from "../util/local-gate";

export interface EvaluateBindings extends StorageBindings, ProviderBindings {
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
    if (examplesByKey.size > EXAMPLE_SETS_KEPT) {
      const [oldest] = examplesByKey.keys();
      if (oldest !== undefined) examplesByKey.delete(oldest);
    }
  }
  return (await all).slice(first, end);
}

/**
 * Runs one shard: scores the texts its examples need (cached ones cost nothing), computes each example's metrics
 * and writes them. Safe to run twice: results are keyed by (evaluation, model, example), and a shard that is no
 * longer pending is skipped. Retryable provider errors are thrown for the queue to retry with backoff.
 *
 * `cancel` aborts when the consumer learns it has lost the shard's lease: the requests still to send or in flight
 * are cancelled (another consumer holds the shard and pays for it) and the shard is skipped; what was scored by
 * then stays in the cache.
 */
export async function runShard(
  bindings: EvaluateBindings,
  message: ShardMessage,
  owner?: string,
  cancel?: AbortSignal,
): Promise<ShardOutcome> {
  const { evaluationId, model, shard: shardIndex } = message;
  const ready = await preparation.run(() => readyToScore(bindings, message));
  if (ready.kind !== "score") return ready;
  const { prepared, examples, texts, charged } = ready;
  let counters: ShardCounters;
  try {
    counters = await scoreMissing(bindings, evaluationId, model, prepared, texts, charged, cancel);
  } catch (error) {
    if (cancel?.aborted) return { kind: "skipped", why: "lease lost while scoring: its requests were cancelled" };
    throw error;
  }
  const { firstExample } = prepared;
  const rows = metricRows(examples, texts.scored, firstExample);

  // Results, counters and the shard's state in one atomic batch: a consumer that dies before it leaves none. A
  // consumer holding the shard's lease (`owner`) writes them only while it still holds it: one whose lease was
  // taken over (its renewals failed; the shard was sent again) writes none of them, its holder settles the shard.
  const heldBy = owner === undefined ? undefined : { evaluationId, model, shard: shardIndex, owner };
  const written = await bindings.DB.batch([
    ...resultStatements(bindings.DB, evaluationId, model, rows, heldBy),
    addCountersStatement(bindings.DB, evaluationId, counters, heldBy),
    settleShardStatement(bindings.DB, evaluationId, model, shardIndex, "done", null, owner),
  ]);
  if (owner !== undefined && written.at(-1)?.meta.changes !== 1) {
    console.error(JSON.stringify({ evaluationId, model, shard: shardIndex, leases: owner, lost: "lease lost" }));
    return { kind: "skipped", why: "lease lost before the shard settled" };
  }
  return { kind: "done" };
}

/**
 * Shards that read storage before their first provider request, at most this many at once in an isolate: a batch's
 * shards all start together, and without this the first ones reach the provider only after every shard's reads
 * (about 0.3 s for a batch of 40 on local D1, 0.15 s with it).
 */
const preparation = new LocalGate(8);

/** A shard about to send its requests: its examples, its texts (cached ones scored) and the tokens charged. */
interface ReadyShard {
  kind: "score";
  prepared: PreparedShard;
  examples: Example[];
  texts: ShardTexts;
  charged: number;
}

/** What a shard needs before its first request: prepareShard, its examples, the cache and the tokens charged. */
async function readyToScore(bindings: EvaluateBindings, message: ShardMessage): Promise<ReadyShard | ShardOutcome> {
  const { evaluationId, model } = message;
  const prepared = await prepareShard(bindings, message);
  if (prepared.kind !== "run") return prepared;
  const { family, adapter } = prepared;
  const examples = await loadExamples(bindings.BLOBS, prepared.examplesKey, prepared.firstExample, prepared.endExample);
  const texts = await lookUpCache(bindings.DB, examples, (text) =>
    sha256Hex(JSON.stringify([family.baseUrl, model, adapter.version, text])),
  );
  // The texts to send are charged their estimate before any is sent, within the budget, or the shard stops.
  const charged = estimateTextTokens(texts.missing);
  if (charged > 0 && !(await chargeTokens(bindings.DB, evaluationId, charged)))
    return budgetReached(bindings.DB, message, prepared.tokenBudget);
  return { kind: "score", prepared, examples, texts, charged };
}

/** A shard still to run, with its family's adapter and where its examples are. */
interface PreparedShard {
  kind: "run";
  family: StoredFamily;
  adapter: ScoringAdapter;
  examplesKey: string;
  firstExample: number;
  endExample: number;
  tokenBudget: number | null;
}

/** Fails a shard whose evaluation's token budget cannot pay for it. */
async function budgetReached(db: D1Database, message: ShardMessage, budget: number | null): Promise<ShardOutcome> {
  const reason = failureText("token_budget_reached", `token budget of ${budget} reached`);
  await settleShard(db, message.evaluationId, message.model, message.shard, "failed", reason);
  return { kind: "failed", error: "token budget reached" };
}

/**
 * Checks the shard is still to run (its evaluation open, the shard pending, the token budget not spent, the
 * submission's file unchanged) and opens its family's adapter; otherwise, the shard's outcome. A spent budget or
 * a family that cannot be scored here fails the shard.
 */
async function prepareShard(bindings: EvaluateBindings, message: ShardMessage): Promise<PreparedShard | ShardOutcome> {
  const { evaluationId, model, shard: shardIndex } = message;
  const { evaluation, shard, submission } = await shardContext(bindings.DB, evaluationId, model, shardIndex);
  if (!evaluation) return { kind: "skipped", why: "no such evaluation" };
  if (evaluation.state !== "queued" && evaluation.state !== "evaluating") {
    // This consumer may have leased the shard after the evaluation ended: it must not stay in the due index.
    await freeShardsOfEndedEvaluation(bindings.DB, evaluationId);
    return { kind: "skipped", why: `evaluation is ${evaluation.state}` };
  }
  if (shard?.state !== "pending") return { kind: "skipped", why: "shard already settled" };
  if (evaluation.tokenBudget !== null && evaluation.tokensUsed >= evaluation.tokenBudget)
    return budgetReached(bindings.DB, message, evaluation.tokenBudget);
  if (!submission) return { kind: "skipped", why: "submission is gone" };
  if (submission.fileVersion !== evaluation.fileVersion)
    return { kind: "skipped", why: "the submission's file was replaced" };

  const family = evaluation.familyDefinition;
  let adapter: ScoringAdapter;
  try {
    // The outbound policy and the secret's hosts as configured now: a family stored before them is refused here.
    adapter = adapterFor(family, workerAccess(bindings));
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const reason = failureText(error.failure, error.message);
    await settleShard(bindings.DB, evaluationId, model, shardIndex, "failed", reason);
    return { kind: "failed", error: reason };
  }
  return {
    kind: "run",
    family,
    adapter,
    examplesKey: submission.examplesKey,
    firstExample: shard.firstExample,
    endExample: shard.endExample,
    tokenBudget: evaluation.tokenBudget,
  };
}

/** The distinct texts a shard's examples need, by cache key: those already scored, and those still missing. */
interface ShardTexts {
  keyOf: Map<string, string>;
  scored: Map<string, ScoredText>;
  cacheHits: number;
  missing: string[];
}

async function lookUpCache(
  db: D1Database,
  examples: readonly Example[],
  cacheKey: (text: string) => Promise<string>,
): Promise<ShardTexts> {
  const wanted = examples.flatMap((example) =>
    textsFor(example).map(({ prompt, continuation }) => prompt + continuation),
  );
  const distinct = [...new Set(wanted)];
  const keyOf = new Map(await Promise.all(distinct.map(async (text) => [text, await cacheKey(text)] as const)));
  const cached = await cachedScores(db, [...keyOf.values()]);
  const scored = new Map<string, ScoredText>();
  for (const [text, key] of keyOf) {
    const hit = cached.get(key);
    if (hit) scored.set(text, hit);
  }
  const missing = [...keyOf.keys()].filter((text) => !scored.has(text));
  return { keyOf, scored, cacheHits: scored.size, missing };
}

/** What scoring a shard cost, added to its evaluation's counters (its tokens are settled as they are cached). */
interface ShardCounters {
  requests: number;
  cacheHits: number;
}

/**
 * Scores the missing texts, adding them to `texts.scored`. Requests go out together; the provider's rate limiter
 * decides how many are in flight at once. Whatever came back is cached in one write once all have settled, even
 * when some failed, so a retry pays only for what is still missing. (One write per shard, not per request: local
 * D1 spends more on round trips than rows.) The same write settles the shard's charge (`charged`, the estimate of
 * every missing text) to the tokens the provider counted for the texts it scored: a text is charged its estimate
 * until it is cached and its real count after, once, and a retry is charged only for texts still missing. (A
 * consumer that dies between the charge and this write leaves the charge counted: the provider may have been paid.)
 * A failure is thrown once the counters have what it cost.
 */
async function scoreMissing(
  bindings: EvaluateBindings,
  evaluationId: string,
  model: string,
  { family, adapter }: Pick<PreparedShard, "family" | "adapter">,
  texts: ShardTexts,
  charged: number,
  cancel?: AbortSignal,
): Promise<ShardCounters> {
  const { keyOf, scored, cacheHits, missing } = texts;
  let requests = 0;
  const fresh: [string, ScoredText][] = [];
  let tokens = 0;
  const batches: string[][] = [];
  for (let i = 0; i < missing.length; i += adapter.promptsPerRequest)
    batches.push(missing.slice(i, i + adapter.promptsPerRequest));
  const settled = await Promise.allSettled(
    batches.map(async (batch) => {
      const results = await withPermit(bindings, family, () => adapter.score(model, batch, cancel));
      requests++;
      batch.forEach((text, j) => {
        const result = results[j];
        const key = keyOf.get(text);
        // An adapter answers each text it is given, and every missing text came from keyOf.
        if (result === undefined || key === undefined) throw new Error("a scored text has no result or cache key");
        scored.set(text, result);
        fresh.push([key, result]);
      });
      tokens += results.reduce((sum, result) => sum + result.tokens.length, 0);
    }),
  );
  if (fresh.length > 0 || charged > 0)
    await bindings.DB.batch([
      ...cacheStatements(bindings.DB, fresh),
      addCountersStatement(bindings.DB, evaluationId, { tokens: tokens - charged }),
    ]);
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failure) {
    if (requests > 0 || cacheHits > 0) await addCounters(bindings.DB, evaluationId, { requests, cacheHits });
    throw failure.reason;
  }
  return { requests, cacheHits };
}

/** Each example's metrics, or the flag saying why it has none, from the scores of its texts. */
function metricRows(
  examples: readonly Example[],
  scored: ReadonlyMap<string, ScoredText>,
  firstExample: number,
): { index: number; flag: ExampleFlag | null; metrics: ExampleMetrics | null }[] {
  return examples.map((example, offset) => {
    const scores = textsFor(example).map(({ prompt, continuation }) => {
      const text = scored.get(prompt + continuation);
      // scoreMissing scored every text that was not cached, or threw.
      if (text === undefined) throw new Error(`example ${firstExample + offset} has a text that was not scored`);
      return continuationScore(text, prompt.length);
    });
    const outcome = exampleMetrics(example, scores);
    return {
      index: firstExample + offset,
      flag: outcome.ok ? null : outcome.flag,
      metrics: outcome.ok ? outcome.metrics : null,
    };
  });
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
      throw new ProviderError(
        "provider_rate_limited",
        "the provider's rate limit is saturated",
        true,
        permit.retryAfterMs,
      );
    await new Promise((resolve) => setTimeout(resolve, permit.granted ? 0 : permit.retryAfterMs));
    permit = await limiter.acquire(limits);
  }
  try {
    return await call();
  } finally {
    await limiter.release(permit.lease);
  }
}
