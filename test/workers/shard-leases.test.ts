import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { beforeAll, describe, expect, inject, it } from "vitest";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { backoffSeconds, handleShardBatch, LEASE_MS } from "../../src/evaluate/queue";
import { requeueOverdueShards } from "../../src/evaluate/resume";
import type { ShardMessage } from "../../src/evaluate/plan";
import {
  finishEvaluation,
  getEvaluation,
  supersedeOpenEvaluationsStatement,
  type StoredFamily,
} from "../../src/storage/evaluations";
import { PICKUP_GRACE_MS } from "../../src/storage/shards";
import { listResults } from "../../src/storage/results";
import { defined } from "../defined";
import { heldQueue, taggedMemoTrapTask } from "./helpers";

/**
 * Shard leases: a consumer takes a lease on each shard it is delivered and renews it while it works; the cron job
 * sends again the shards whose lease ran out, or whose message was not picked up within a minute. The sweep looks
 * at every evaluation of this file's database, so each test looks only at the messages for its own evaluation.
 */
const family: StoredFamily = {
  ...(referenceFamily as StoredFamily),
  baseUrl: inject("referenceUrl"),
  models: referenceFamily.models.slice(0, 1),
};
const MODEL = "isv-ngram-1";

/** A fresh one-model evaluation (four shards of the tagged memo trap), its messages held: the test delivers them. */
async function heldEvaluation(on: StoredFamily = family): Promise<string> {
  const started = await startEvaluation(heldQueue, await taggedMemoTrapTask(), on);
  if (!started.ok) throw new Error(started.reason);
  return started.evaluation.id;
}

interface LeaseRow {
  state: string;
  leased_by: string | null;
  leased_until: number | null;
  resends: number;
}

async function leaseOf(evaluationId: string, shard: number): Promise<LeaseRow> {
  const row = await env.DB.prepare(
    `SELECT state, leased_by, leased_until, resends FROM evaluation_shards
     WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3`,
  )
    .bind(evaluationId, MODEL, shard)
    .first<LeaseRow>();
  return defined(row, `shard ${shard} of ${evaluationId}`);
}

/** Writes a shard's lease straight to D1: a holder (or none: the queue holds it) and its time. */
async function seedLease(
  evaluationId: string,
  shard: number,
  leasedBy: string | null,
  leasedUntil: number,
  resends = 0,
): Promise<void> {
  await env.DB.prepare(
    `UPDATE evaluation_shards SET leased_by = ?4, leased_until = ?5, resends = ?6
     WHERE evaluation_id = ?1 AND model = ?2 AND shard = ?3`,
  )
    .bind(evaluationId, MODEL, shard, leasedBy, leasedUntil, resends)
    .run();
}

/**
 * Delivers shards as one batch to the consumer, with `bindings` (the real ones unless given) and its options; the
 * batch's outcome.
 */
async function deliver(
  evaluationId: string,
  shards: number[],
  bindings = env,
  options: Parameters<typeof handleShardBatch>[3] = {},
) {
  const batch = createMessageBatch<ShardMessage>(
    "isv-evaluations",
    shards.map((shard, i) => ({
      id: `${evaluationId}-${shard}-${i}`,
      timestamp: new Date(),
      attempts: 1,
      body: { evaluationId, model: MODEL, shard },
    })),
  );
  const ctx = createExecutionContext();
  await handleShardBatch(batch, bindings, async () => {}, options);
  return getQueueResult(batch, ctx);
}

/** A queue producer that records what it is sent (the real one would run the shards in the background). */
function recordingQueue() {
  const sent: ShardMessage[] = [];
  const queue = {
    sendBatch: async (messages: Iterable<MessageSendRequest<ShardMessage>>): Promise<QueueSendBatchResponse> => {
      for (const message of messages) sent.push(message.body);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
  };
  return { bindings: { DB: env.DB, EVALUATIONS: queue as unknown as Queue }, sent };
}

const sentFor = (sent: ShardMessage[], evaluationId: string) =>
  sent.filter((message) => message.evaluationId === evaluationId).map((message) => message.shard);

const resultCount = async (evaluationId: string) => (await listResults(env.DB, evaluationId)).length;

describe("a shard delivered to a consumer", () => {
  let evaluationId: string;
  let delivered: number;
  let whileRunning: LeaseRow | undefined;
  let settled: LeaseRow;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    // The lease as it stands when the consumer writes the shard's results (its last write before settling).
    const watching = {
      ...env,
      DB: new Proxy(env.DB, {
        get: (db, name) =>
          name === "batch"
            ? async (statements: D1PreparedStatement[]) => {
                const lease = await leaseOf(evaluationId, 0);
                if (lease.state === "pending" && lease.leased_by !== null) whileRunning = lease;
                return db.batch(statements);
              }
            : Reflect.get(db, name),
      }),
    };
    delivered = Date.now();
    await deliver(evaluationId, [0], watching);
    settled = await leaseOf(evaluationId, 0);
  });

  it("is leased to the consumer while it runs, for LEASE_MS from delivery", () => {
    const lease = defined(whileRunning, "the lease while the shard runs");
    expect(lease.leased_by).toMatch(/^[0-9a-f-]{36}$/);
    expect(defined(lease.leased_until, "its time")).toBeGreaterThanOrEqual(delivered + LEASE_MS);
  });

  it("has its lease cleared when it settles", () => {
    expect(settled).toEqual({ state: "done", leased_by: null, leased_until: null, resends: 0 });
  });
});

describe("a shard another consumer holds with a live lease", () => {
  let evaluationId: string;
  let outcome: Awaited<ReturnType<typeof deliver>>;
  let until: number;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    until = Date.now() + 60_000;
    await seedLease(evaluationId, 0, "the other consumer", until);
    outcome = await deliver(evaluationId, [0]);
  });

  it("is acked unrun by a consumer delivered a duplicate", async () => {
    expect([outcome.explicitAcks.length, outcome.retryMessages.length]).toEqual([1, 0]);
    expect(await resultCount(evaluationId)).toBe(0);
  });

  it("stays pending with its holder's lease", async () => {
    expect(await leaseOf(evaluationId, 0)).toEqual({
      state: "pending",
      leased_by: "the other consumer",
      leased_until: until,
      resends: 0,
    });
  });
});

describe("a shard whose holder's lease ran out", () => {
  let evaluationId: string;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    await seedLease(evaluationId, 0, "a consumer that died", Date.now() - 1);
    await deliver(evaluationId, [0]);
  });

  it("is run to the end by the next consumer delivered it", async () => {
    expect((await leaseOf(evaluationId, 0)).state).toBe("done");
    expect(await resultCount(evaluationId)).toBe(100);
  });
});

describe("a shard delivered twice in one batch", () => {
  let evaluationId: string;
  let outcome: Awaited<ReturnType<typeof deliver>>;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    outcome = await deliver(evaluationId, [0, 0]);
  });

  it("is run once: one request for each 50 of its 200 texts", async () => {
    expect(defined(await getEvaluation(env.DB, evaluationId), "the evaluation").requests).toBe(4);
  });

  it("has both messages acked", () => {
    expect([outcome.explicitAcks.length, outcome.retryMessages.length]).toEqual([2, 0]);
  });
});

describe("a shard whose run fails and is retried", () => {
  let evaluationId: string;
  let retriedAt: number;
  let outcome: Awaited<ReturnType<typeof deliver>>;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    // The task's examples cannot be read: an unexpected error, retried by the queue with backoff.
    const failing = {
      ...env,
      BLOBS: new Proxy(env.BLOBS, {
        get: (bucket, name) =>
          name === "get"
            ? async () => {
                throw new Error("storage unavailable");
              }
            : Reflect.get(bucket, name),
      }),
    };
    retriedAt = Date.now();
    outcome = await deliver(evaluationId, [0], failing);
  });

  it("is given back to the queue: no holder, due once its backoff and the pickup grace have passed", async () => {
    expect(outcome.retryMessages.length).toBe(1);
    // A first attempt's backoff is 1 s whatever the jitter (the harness does not record the delay asked for).
    const delaySeconds = backoffSeconds(1);
    const lease = await leaseOf(evaluationId, 0);
    expect(lease.leased_by).toBeNull();
    expect(defined(lease.leased_until, "its time") - delaySeconds * 1000 - PICKUP_GRACE_MS).toBeGreaterThanOrEqual(
      retriedAt,
    );
    expect(defined(lease.leased_until, "its time") - delaySeconds * 1000 - PICKUP_GRACE_MS).toBeLessThanOrEqual(
      Date.now(),
    );
  });
});

describe("a batch whose consumer fails outside any one shard's handling", () => {
  let evaluationId: string;
  let failure: unknown;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    // The shard's examples cannot be read (a retryable failure), and noting the attempt fails too, so the
    // failure leaves the consumer: the queue then sends the whole batch again.
    const failing = {
      ...env,
      BLOBS: new Proxy(env.BLOBS, {
        get: (bucket, name) =>
          name === "get"
            ? async () => {
                throw new Error("storage unavailable");
              }
            : Reflect.get(bucket, name),
      }),
      DB: new Proxy(env.DB, {
        get: (db, name) =>
          name === "prepare"
            ? (sql: string) =>
                sql.includes("attempts = attempts + 1")
                  ? {
                      bind: () => ({
                        run: async () => {
                          throw new Error("database unavailable");
                        },
                      }),
                    }
                  : db.prepare(sql)
            : Reflect.get(db, name),
      }),
    };
    failure = await deliver(evaluationId, [0], failing).then(
      () => undefined,
      (error: unknown) => error,
    );
  });

  it("fails the batch, for the queue to send it again", () => {
    expect(String(failure)).toContain("database unavailable");
  });

  it("gives back the shard it held, so the batch sent again can take it", async () => {
    const lease = await leaseOf(evaluationId, 0);
    expect([lease.state, lease.leased_by]).toEqual(["pending", null]);
  });
});

describe("the cron job's sweep", () => {
  describe("of a shard whose holder's lease ran out", () => {
    let evaluationId: string;
    let sent: ShardMessage[];
    let swept: number;

    beforeAll(async () => {
      evaluationId = await heldEvaluation();
      await seedLease(evaluationId, 1, "a consumer that died", Date.now() - 1);
      const queue = recordingQueue();
      swept = Date.now();
      await requeueOverdueShards(queue.bindings, swept);
      sent = queue.sent;
    });

    it("sends it again", () => {
      expect(sentFor(sent, evaluationId)).toEqual([1]);
    });

    it("gives it to the queue, to be picked up within the pickup grace", async () => {
      expect(await leaseOf(evaluationId, 1)).toEqual({
        state: "pending",
        leased_by: null,
        leased_until: swept + PICKUP_GRACE_MS,
        resends: 1,
      });
    });
  });

  describe("of a shard whose holder's lease is live", () => {
    let evaluationId: string;
    let sent: ShardMessage[];

    beforeAll(async () => {
      evaluationId = await heldEvaluation();
      await seedLease(evaluationId, 1, "a live consumer", Date.now() + LEASE_MS);
      const queue = recordingQueue();
      await requeueOverdueShards(queue.bindings);
      sent = queue.sent;
    });

    it("does not send it again", () => {
      expect(sentFor(sent, evaluationId)).toEqual([]);
    });
  });

  describe("of a queued shard not picked up within the pickup grace", () => {
    let evaluationId: string;
    let sent: ShardMessage[];

    beforeAll(async () => {
      evaluationId = await heldEvaluation();
      await seedLease(evaluationId, 2, null, Date.now() - 1);
      const queue = recordingQueue();
      await requeueOverdueShards(queue.bindings);
      sent = queue.sent;
    });

    it("sends it again", () => {
      expect(sentFor(sent, evaluationId)).toEqual([2]);
    });
  });

  describe("of shards queued less than the pickup grace ago", () => {
    let evaluationId: string;
    let sent: ShardMessage[];

    beforeAll(async () => {
      evaluationId = await heldEvaluation();
      const queue = recordingQueue();
      await requeueOverdueShards(queue.bindings);
      sent = queue.sent;
    });

    it("sends none again", () => {
      expect(sentFor(sent, evaluationId)).toEqual([]);
    });
  });

  describe("of a shard already sent again twice", () => {
    let evaluationId: string;
    let swept: number;

    beforeAll(async () => {
      evaluationId = await heldEvaluation();
      await seedLease(evaluationId, 3, null, Date.now() - 1, 2);
      swept = Date.now();
      await requeueOverdueShards(recordingQueue().bindings, swept);
    });

    it("waits four times the pickup grace before it is due again", async () => {
      expect(defined((await leaseOf(evaluationId, 3)).leased_until, "its time")).toBe(swept + 4 * PICKUP_GRACE_MS);
    });
  });

  describe("of an ended evaluation's overdue shard", () => {
    let evaluationId: string;
    let sent: ShardMessage[];

    beforeAll(async () => {
      evaluationId = await heldEvaluation();
      await seedLease(evaluationId, 0, null, Date.now() - 1);
      await env.DB.prepare("UPDATE evaluations SET state = 'failed' WHERE id = ?1").bind(evaluationId).run();
      const queue = recordingQueue();
      await requeueOverdueShards(queue.bindings);
      sent = queue.sent;
    });

    it("sends nothing", () => {
      expect(sentFor(sent, evaluationId)).toEqual([]);
    });
  });

  describe("run twice at once", () => {
    let evaluationId: string;
    let sent: ShardMessage[];

    beforeAll(async () => {
      evaluationId = await heldEvaluation();
      for (const shard of [0, 1, 2, 3]) await seedLease(evaluationId, shard, "a consumer that died", Date.now() - 1);
      const queue = recordingQueue();
      await Promise.all([requeueOverdueShards(queue.bindings), requeueOverdueShards(queue.bindings)]);
      sent = queue.sent;
    });

    it("sends each overdue shard once", () => {
      expect(sentFor(sent, evaluationId).sort()).toEqual([0, 1, 2, 3]);
    });
  });
});

describe("the cron job, after the consumer of every shard died", () => {
  it("resumes the evaluation through the real queue, to the end", async () => {
    const evaluationId = await heldEvaluation();
    for (const shard of [0, 1, 2, 3]) await seedLease(evaluationId, shard, "a consumer that died", Date.now() - 1);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const deadline = Date.now() + 20_000;
    let state = "";
    while (state !== "evaluated" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      state = defined(await getEvaluation(env.DB, evaluationId), "the evaluation").state;
    }
    expect(state).toBe("evaluated");
    expect(await resultCount(evaluationId)).toBe(301);
  });
});

/** Every shard's lease (holder and time) of an evaluation, in shard order. */
async function leasesOf(evaluationId: string): Promise<[string | null, number | null][]> {
  const leases: [string | null, number | null][] = [];
  for (const shard of [0, 1, 2, 3]) {
    const lease = await leaseOf(evaluationId, shard);
    leases.push([lease.leased_by, lease.leased_until]);
  }
  return leases;
}

const NO_LEASES = [0, 1, 2, 3].map(() => [null, null]);

describe("an evaluation superseded while its shards are pending (its file was replaced)", () => {
  let evaluationId: string;
  let sent: ShardMessage[];

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    await seedLease(evaluationId, 0, "a consumer that died", Date.now() - 1);
    await seedLease(evaluationId, 1, null, Date.now() - 1);
    await seedLease(evaluationId, 2, "a live consumer", Date.now() + LEASE_MS);
    const { submissionId } = defined(await getEvaluation(env.DB, evaluationId), "the evaluation");
    const at = new Date().toISOString();
    await env.DB.batch([supersedeOpenEvaluationsStatement(env.DB, submissionId, "superseded", at)]);
    const queue = recordingQueue();
    await requeueOverdueShards(queue.bindings, Date.now() + 60 * PICKUP_GRACE_MS);
    sent = queue.sent;
  });

  it("has its pending shards taken out of the due index: no holder, no time", async () => {
    expect(await leasesOf(evaluationId)).toEqual(NO_LEASES);
  });

  it("has none of its shards sent again by the sweep, however late", () => {
    expect(sentFor(sent, evaluationId)).toEqual([]);
  });
});

describe("an evaluation ended while shards are pending", () => {
  let evaluationId: string;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    await seedLease(evaluationId, 3, "a consumer that died", Date.now() - 1);
    await finishEvaluation(env.DB, evaluationId, "failed", "ended by hand");
  });

  it("has its pending shards taken out of the due index: no holder, no time", async () => {
    expect(await leasesOf(evaluationId)).toEqual(NO_LEASES);
  });
});

describe("a shard of an ended evaluation delivered to a consumer", () => {
  let evaluationId: string;
  let outcome: Awaited<ReturnType<typeof deliver>>;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    await finishEvaluation(env.DB, evaluationId, "failed", "ended by hand");
    outcome = await deliver(evaluationId, [0]);
  });

  it("is acked unrun", async () => {
    expect([outcome.explicitAcks.length, outcome.retryMessages.length]).toEqual([1, 0]);
    expect(await resultCount(evaluationId)).toBe(0);
  });

  it("is left pending with no holder and no time, out of the due index", async () => {
    expect(await leaseOf(evaluationId, 0)).toEqual({
      state: "pending",
      leased_by: null,
      leased_until: null,
      resends: 0,
    });
  });
});

/**
 * Bindings whose database hands shard 0's lease to another consumer (`takeOver`) once the consumer under test holds
 * it and has read the shard's context (its first batch while it holds it), before its next batch (the scores it
 * writes): its lease is lost mid-shard (its renewals failed, and the cron job sent the shard again).
 */
function losingLease(evaluationId: string, takeOver: () => Promise<void>) {
  let batchesHeld = 0;
  return {
    ...env,
    DB: new Proxy(env.DB, {
      get: (db, name) =>
        name === "batch"
          ? async (statements: D1PreparedStatement[]) => {
              const lease = await leaseOf(evaluationId, 0);
              if (lease.state === "pending" && /^[0-9a-f-]{36}$/.test(lease.leased_by ?? "") && ++batchesHeld === 2)
                await takeOver();
              return db.batch(statements);
            }
          : Reflect.get(db, name),
    }),
  };
}

describe("a consumer whose lease on a shard is taken over while it runs", () => {
  let evaluationId: string;
  let outcome: Awaited<ReturnType<typeof deliver>>;
  let until: number;

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    until = Date.now() + 60_000;
    outcome = await deliver(
      evaluationId,
      [0],
      losingLease(evaluationId, () => seedLease(evaluationId, 0, "the new holder", until)),
    );
  });

  it("writes none of the shard's results", async () => {
    expect(await resultCount(evaluationId)).toBe(0);
  });

  it("adds nothing to its evaluation's request and cache counters", async () => {
    const evaluation = defined(await getEvaluation(env.DB, evaluationId), "the evaluation");
    expect([evaluation.requests, evaluation.cacheHits]).toEqual([0, 0]);
  });

  it("leaves the shard pending with its new holder's lease", async () => {
    expect(await leaseOf(evaluationId, 0)).toEqual({
      state: "pending",
      leased_by: "the new holder",
      leased_until: until,
      resends: 0,
    });
  });

  it("acks its message", () => {
    expect([outcome.explicitAcks.length, outcome.retryMessages.length]).toEqual([1, 0]);
  });
});

describe("a consumer whose lease ran out while it ran, and whose shard another consumer ran meanwhile", () => {
  let evaluationId: string;
  /** Results and counters as the other consumer left them, when it had settled the shard. */
  let holders: [number, number, number];
  const standing = async (): Promise<[number, number, number]> => {
    const evaluation = defined(await getEvaluation(env.DB, evaluationId), "the evaluation");
    return [await resultCount(evaluationId), evaluation.requests, evaluation.cacheHits];
  };

  beforeAll(async () => {
    evaluationId = await heldEvaluation();
    await deliver(
      evaluationId,
      [0],
      losingLease(evaluationId, async () => {
        // Its lease runs out; the shard, sent again, is run to the end by another consumer.
        await seedLease(evaluationId, 0, "the first consumer", Date.now() - 1);
        await deliver(evaluationId, [0]);
        holders = await standing();
      }),
    );
  });

  it("leaves the other consumer's results and counters as they stand: the shard counted once", async () => {
    expect(holders[0]).toBe(100);
    expect(await standing()).toEqual(holders);
    expect((await leaseOf(evaluationId, 0)).state).toBe("done");
  });
});

describe("a consumer that learns from a renewal that its lease was taken over while its requests are in flight", () => {
  // The provider answers after 5 s; the consumer renews every 50 ms, and the lease is taken over after 300 ms.
  const slowFamily: StoredFamily = { ...family, name: "reference-slow", baseUrl: inject("slowReferenceUrl") };
  let evaluationId: string;
  let outcome: Awaited<ReturnType<typeof deliver>>;
  let cachedBefore: number;
  const until = Date.now() + 120_000;
  const cachedScores = async (): Promise<number> =>
    defined(await env.DB.prepare("SELECT COUNT(*) AS n FROM score_cache").first<{ n: number }>(), "the count").n;

  beforeAll(async () => {
    evaluationId = await heldEvaluation(slowFamily);
    cachedBefore = await cachedScores();
    const takeOver = new Promise<void>((resolve) =>
      setTimeout(() => resolve(seedLease(evaluationId, 0, "the new holder", until)), 300),
    );
    [outcome] = await Promise.all([deliver(evaluationId, [0], env, { renewEveryMs: 50 }), takeOver]);
  });

  it("cancels its requests: none is answered, so nothing of the shard is scored, cached or counted", async () => {
    const evaluation = defined(await getEvaluation(env.DB, evaluationId), "the evaluation");
    expect([await cachedScores(), evaluation.requests, await resultCount(evaluationId)]).toEqual([cachedBefore, 0, 0]);
  });

  it("acks its message and leaves the shard to its new holder", async () => {
    expect([outcome.explicitAcks.length, outcome.retryMessages.length]).toEqual([1, 0]);
    expect(await leaseOf(evaluationId, 0)).toEqual({
      state: "pending",
      leased_by: "the new holder",
      leased_until: until,
      resends: 0,
    });
  });
});
