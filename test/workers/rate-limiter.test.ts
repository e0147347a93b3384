import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import referenceFamily from "../../fixtures/families/reference.json";
import worker from "../../src/index";
import { ProviderError } from "../../src/evaluate/adapters";
import type { ShardMessage } from "../../src/evaluate/plan";
import type { Permit, ProviderLimits } from "../../src/evaluate/rate-limiter";
import { providerKey, runShard } from "../../src/evaluate/run-shard";
import { startEvaluation } from "../../src/evaluate/start";
import { getShard } from "../../src/storage/shards";
import type { StoredFamily } from "../../src/storage/evaluations";
import { defined } from "../defined";
import { heldQueue, taggedMemoTrapTask } from "./helpers";

/**
 * The provider rate limiter, a Durable Object reached through its binding as run-shard.ts reaches it. Each test
 * asks an object of its own (a fresh name), so no test sees another's leases. The object reads the clock with
 * Date.now, and the pool runs it in the tests' isolate, so a spy on Date.now moves its clock exactly.
 */
const limiter = () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`test-${crypto.randomUUID()}`));
type Limiter = ReturnType<typeof limiter>;

const T0 = Date.UTC(2030, 0, 1);
const clockAt = (offsetMs: number): void => {
  vi.spyOn(Date, "now").mockReturnValue(T0 + offsetMs);
};
afterEach(() => {
  vi.restoreAllMocks();
});

const leaseOf = (permit: Permit): string => {
  if (!permit.granted) throw new Error(`refused: retry after ${permit.retryAfterMs} ms`);
  return permit.lease;
};

/** Takes `count` permits one after the other and returns their leases. */
async function take(stub: Limiter, limits: ProviderLimits, count: number): Promise<string[]> {
  const leases: string[] = [];
  for (let i = 0; i < count; i++) leases.push(leaseOf(await stub.acquire(limits)));
  return leases;
}

describe("ProviderRateLimiter: requests in flight", () => {
  const limits = { concurrency: 3, requestsPerMinute: 1000 };

  it("grants as many permits at once as the concurrency allows, each with its own lease", async () => {
    const leases = await take(limiter(), limits, 3);
    expect(new Set(leases).size).toBe(3);
  });

  it("refuses one more while they are all in flight, and asks to try again in 10 ms", async () => {
    const stub = limiter();
    await take(stub, limits, 3);
    expect(await stub.acquire(limits)).toEqual({ granted: false, retryAfterMs: 10 });
  });

  it("grants a permit again once one is released", async () => {
    const stub = limiter();
    const first = defined((await take(stub, limits, 3))[0], "a first lease");
    await stub.release(first);
    expect((await stub.acquire(limits)).granted).toBe(true);
  });

  it("frees one place per lease: releasing the same lease twice frees nothing more", async () => {
    const stub = limiter();
    const first = defined((await take(stub, limits, 3))[0], "a first lease");
    await stub.release(first);
    await stub.release(first);
    await take(stub, limits, 1);
    expect((await stub.acquire(limits)).granted).toBe(false);
  });

  it("ignores the release of a lease it never granted", async () => {
    const stub = limiter();
    await take(stub, limits, 3);
    await stub.release("not-a-lease");
    expect((await stub.acquire(limits)).granted).toBe(false);
  });

  it("takes the concurrency from each request, so a caller with a larger limit gets more", async () => {
    const stub = limiter();
    await take(stub, limits, 3);
    expect((await stub.acquire({ ...limits, concurrency: 4 })).granted).toBe(true);
  });

  it("keeps one provider's permits apart from another's: each provider key has its own object", async () => {
    await take(limiter(), { concurrency: 1, requestsPerMinute: 1000 }, 1);
    expect((await limiter().acquire({ concurrency: 1, requestsPerMinute: 1000 })).granted).toBe(true);
  });
});

describe("ProviderRateLimiter: a lease that is never released", () => {
  const limits = { concurrency: 1, requestsPerMinute: 1000 };

  it("still holds its place just under two minutes later", async () => {
    const stub = limiter();
    clockAt(0);
    await take(stub, limits, 1);
    clockAt(119_999);
    expect(await stub.acquire(limits)).toEqual({ granted: false, retryAfterMs: 10 });
  });

  it("expires two minutes after it was granted, freeing its place", async () => {
    const stub = limiter();
    clockAt(0);
    await take(stub, limits, 1);
    clockAt(120_000);
    expect((await stub.acquire(limits)).granted).toBe(true);
  });
});

describe("ProviderRateLimiter: requests per minute", () => {
  const limits = { concurrency: 10, requestsPerMinute: 2 };

  /** Starts (and finishes) `count` requests at `offsetMs`. */
  async function started(stub: Limiter, offsetMs: number, count: number): Promise<void> {
    clockAt(offsetMs);
    for (const lease of await take(stub, limits, count)) await stub.release(lease);
  }

  it("counts a started request for a minute even after its release, refusing the next one", async () => {
    const stub = limiter();
    await started(stub, 0, 2);
    clockAt(1_000);
    expect((await stub.acquire(limits)).granted).toBe(false);
  });

  it("asks to try again when the oldest start in the minute is a minute old", async () => {
    const stub = limiter();
    await started(stub, 0, 1);
    await started(stub, 20_000, 1);
    clockAt(45_000);
    expect(await stub.acquire(limits)).toEqual({ granted: false, retryAfterMs: 15_000 });
  });

  it("still refuses 1 ms before the oldest start leaves the minute", async () => {
    const stub = limiter();
    await started(stub, 0, 2);
    clockAt(59_999);
    expect(await stub.acquire(limits)).toEqual({ granted: false, retryAfterMs: 1 });
  });

  it("grants again once the oldest start is a minute old, as the refusal said", async () => {
    const stub = limiter();
    await started(stub, 0, 2);
    clockAt(60_000);
    expect((await stub.acquire(limits)).granted).toBe(true);
  });

  it("counts the refused requests as not started", async () => {
    const stub = limiter();
    await started(stub, 0, 2);
    clockAt(30_000);
    await stub.acquire(limits);
    await stub.acquire(limits);
    clockAt(60_000);
    expect((await take(stub, limits, 2)).length).toBe(2);
  });

  it("refuses for concurrency first when both limits are reached, asking for 10 ms rather than the minute", async () => {
    const stub = limiter();
    clockAt(0);
    await take(stub, { concurrency: 2, requestsPerMinute: 2 }, 2);
    expect(await stub.acquire({ concurrency: 2, requestsPerMinute: 2 })).toEqual({
      granted: false,
      retryAfterMs: 10,
    });
  });
});

/**
 * A shard waits for its provider's permit (run-shard.ts asks the limiter again after each refusal's wait) for up
 * to 20 s. Each test has a provider of its own: the reference server under an API-key secret named for the test,
 * which gives it its own provider key and so its own limiter object, while the server ignores the key.
 */
describe("a shard waiting for its provider's permit", () => {
  async function provider(limits: ProviderLimits) {
    const secret = `TEST_KEY_${crypto.randomUUID().replaceAll("-", "").slice(0, 12).toUpperCase()}`;
    const family: StoredFamily = {
      ...(referenceFamily as StoredFamily),
      name: `waiting-${secret.toLowerCase()}`,
      baseUrl: inject("referenceUrl"),
      apiKeySecret: secret,
      models: referenceFamily.models.slice(0, 1),
      limits: { promptsPerRequest: 50, ...limits },
    };
    // The secret is declared for the reference server's host, as a deployment declares a provider's key.
    const bindings = {
      ...env,
      [secret]: "unused by the reference server",
      PROVIDER_SECRETS: JSON.stringify({ [secret]: ["127.0.0.1"] }),
    };
    const started = await startEvaluation(heldQueue, await taggedMemoTrapTask(), family);
    if (!started.ok) throw new Error(`the evaluation did not start: ${JSON.stringify(started)}`);
    const message: ShardMessage = { evaluationId: started.evaluation.id, model: "isv-ngram-1", shard: 0 };
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(providerKey(family)));
    return { bindings, message, stub };
  }
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("waits while every permit of its provider is held elsewhere", async () => {
    const limits = { concurrency: 1, requestsPerMinute: 600 };
    const { bindings, message, stub } = await provider(limits);
    const held = leaseOf(await stub.acquire(limits));
    let settled = false;
    const running = runShard(bindings, message).finally(() => {
      settled = true;
    });
    await sleep(300);
    const stillWaiting = settled;
    await stub.release(held);
    await running;
    expect(stillWaiting).toBe(false);
  });

  it("runs the shard once the permit it waited for is released", async () => {
    const limits = { concurrency: 1, requestsPerMinute: 600 };
    const { bindings, message, stub } = await provider(limits);
    const held = leaseOf(await stub.acquire(limits));
    const running = runShard(bindings, message);
    await sleep(100);
    await stub.release(held);
    expect(await running).toEqual({ kind: "done" });
  });

  it("releases every permit it took, leaving the provider's places free", async () => {
    const limits = { concurrency: 1, requestsPerMinute: 600 };
    const { bindings, message, stub } = await provider(limits);
    await runShard(bindings, message);
    expect((await stub.acquire(limits)).granted).toBe(true);
  });

  it("gives up at once when the next permit is more than 20 s away: a retryable error carrying the wait", async () => {
    const limits = { concurrency: 4, requestsPerMinute: 1 };
    const { bindings, message, stub } = await provider(limits);
    for (const lease of await take(stub, limits, 1)) await stub.release(lease);
    const error = await runShard(bindings, message).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    const { retryable, retryAfterMs } = error as ProviderError;
    expect({
      message: (error as Error).message,
      retryable,
      waitInRange: retryAfterMs !== undefined && retryAfterMs > 59_000 && retryAfterMs <= 60_000,
    }).toEqual({
      message: "the provider's rate limit is saturated",
      retryable: true,
      waitInRange: true,
    });
  });

  it("is retried by the queue no sooner than the limiter's wait", async () => {
    const limits = { concurrency: 4, requestsPerMinute: 1 };
    const { bindings, message, stub } = await provider(limits);
    for (const lease of await take(stub, limits, 1)) await stub.release(lease);
    const batch = createMessageBatch<ShardMessage>("isv-evaluations", [
      { id: "saturated", timestamp: new Date(), attempts: 1, body: message },
    ]);
    const retry = vi.spyOn(defined(batch.messages[0], "the batch's message"), "retry");
    await worker.queue(batch, bindings as Env, createExecutionContext());
    expect(retry.mock.calls).toEqual([[{ delaySeconds: 60 }]]);
  });

  it("leaves the shard pending, with the saturation as its last error", async () => {
    const limits = { concurrency: 4, requestsPerMinute: 1 };
    const { bindings, message, stub } = await provider(limits);
    for (const lease of await take(stub, limits, 1)) await stub.release(lease);
    const batch = createMessageBatch<ShardMessage>("isv-evaluations", [
      { id: "saturated", timestamp: new Date(), attempts: 1, body: message },
    ]);
    await worker.queue(batch, bindings as Env, createExecutionContext());
    expect(await getShard(env.DB, message.evaluationId, message.model, message.shard)).toMatchObject({
      state: "pending",
      attempts: 1,
      error: "provider_rate_limited: the provider's rate limit is saturated",
    });
  });
});
