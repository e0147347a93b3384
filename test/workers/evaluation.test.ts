import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { beforeAll, describe, expect, inject, it } from "vitest";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { runShard } from "../../src/evaluate/run-shard";
import { finishIfComplete } from "../../src/evaluate/finish";
import { getEvaluation, type StoredFamily } from "../../src/storage/evaluations";
import { listShards } from "../../src/storage/shards";
import { listResults } from "../../src/storage/results";
import { parseResultsCsv } from "../../src/analysis/results-csv";
import { defined } from "../defined";
import { call, drainShards, heldQueue, taggedMemoTrapTask as storedTask, token } from "./helpers";

/**
 * These tests deliver each shard themselves, to control failures and redeliveries exactly, so evaluations are
 * started with a producer that holds its messages instead of the real queue (whose consumer would run the same
 * shards in the background). The real queue, end to end, is covered in test/node/evaluation-e2e.test.ts.
 */
const family = (overrides: Partial<StoredFamily> = {}): StoredFamily => ({
  ...(referenceFamily as StoredFamily),
  baseUrl: inject("referenceUrl"),
  ...overrides,
});

type Evaluation = NonNullable<Awaited<ReturnType<typeof getEvaluation>>>;

/** Evaluation `id` as stored in D1; a test fails here if it is not stored. */
const storedEvaluation = async (id: string): Promise<Evaluation> =>
  defined(await getEvaluation(env.DB, id), `stored evaluation ${id}`);

describe("a consumer that dies mid-shard, after the provider answered, while writing results", () => {
  let evaluationId: string;
  let death: Promise<unknown>;
  let resultsAfterDeath: number;
  let afterDeath: Evaluation;
  let afterRedelivery: Evaluation;
  let redelivered: number[];
  let afterDuplicate: number;

  beforeAll(async () => {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ models: referenceFamily.models.slice(0, 2) }),
    );
    expect(started.ok).toBe(true);
    evaluationId = started.ok ? started.evaluation.id : "";
    const message = { evaluationId, model: "isv-ngram-1", shard: 0 };

    // The consumer dies after the provider answered and the answers were cached, while writing results.
    const dying = {
      ...env,
      DB: new Proxy(env.DB, { get: (db, name) => (name === "batch" ? dieOnResults(db) : Reflect.get(db, name)) }),
    };
    death = runShard(dying, message);
    await death.catch(() => undefined);
    resultsAfterDeath = (await listResults(env.DB, evaluationId)).length;
    afterDeath = await storedEvaluation(evaluationId);

    await runShard(env, message);
    redelivered = (await listResults(env.DB, evaluationId))
      .filter((row) => row.model === "isv-ngram-1")
      .map((row) => row.index);
    afterRedelivery = await storedEvaluation(evaluationId);

    // A duplicate delivery of a settled shard.
    await runShard(env, message);
    afterDuplicate = (await listResults(env.DB, evaluationId)).length;
  });

  it("fails the delivery", async () => {
    await expect(death).rejects.toThrow("consumer died");
  });

  it("leaves no results of the shard it died in", () => {
    expect(resultsAfterDeath).toBe(0);
  });

  it("lets the redelivery finish the shard, every example", () => {
    expect(redelivered).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("costs the redelivery no provider call", () => {
    expect(afterRedelivery.requests).toBe(afterDeath.requests);
  });

  it("gives the redelivery every text from the cache", () => {
    expect(afterRedelivery.cacheHits - afterDeath.cacheHits).toBe(200);
  });

  it("changes nothing on a duplicate delivery of the settled shard", () => {
    expect(afterDuplicate).toBe(100);
  });
});

describe("a model whose provider refuses for good", () => {
  let outcomes: Awaited<ReturnType<typeof drainShards>>;
  let evaluation: Evaluation;
  let results: Awaited<ReturnType<typeof listResults>>;

  beforeAll(async () => {
    const submission = await storedTask();
    const models = [...referenceFamily.models.slice(0, 2), { id: "isv-ngram-missing", parameters: 99_999 }];
    const started = await startEvaluation(heldQueue, submission, family({ name: "with-a-missing-model", models }));
    const evaluationId = started.ok ? started.evaluation.id : "";
    outcomes = await drainShards(evaluationId);
    evaluation = await storedEvaluation(evaluationId);
    results = await listResults(env.DB, evaluationId);
  });

  it("has each shard acked, none retried", () => {
    expect(outcomes.every((outcome) => outcome.explicitAcks.length === 1 && outcome.retryMessages.length === 0)).toBe(
      true,
    );
  });

  it("leaves the evaluation partially_evaluated", () => {
    expect(evaluation.state).toBe("partially_evaluated");
  });

  it("gives the failure's class per model in the reason, never the provider's text", () => {
    expect(evaluation.reason).toBe("isv-ngram-missing: shards 0, 1, 2, 3 failed (provider_not_found)");
  });

  it("keeps every result of the other models", () => {
    expect(new Set(results.map((row) => row.model))).toEqual(new Set(["isv-ngram-1", "isv-ngram-2"]));
    expect(results).toHaveLength(2 * 301);
  });
});

describe("a provider that cannot be reached", () => {
  let evaluationId: string;
  let outcomes: Awaited<ReturnType<typeof drainShards>>;
  let shards: Awaited<ReturnType<typeof listShards>>;
  let stateMeanwhile: string;

  beforeAll(async () => {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ name: "unreachable", baseUrl: "http://127.0.0.1:9/v1", models: referenceFamily.models.slice(0, 1) }),
    );
    evaluationId = started.ok ? started.evaluation.id : "";
    outcomes = await drainShards(evaluationId);
    shards = await listShards(env.DB, evaluationId);
    stateMeanwhile = (await storedEvaluation(evaluationId)).state;
  });

  it("has each shard retried by the queue (with backoff), none acked", () => {
    expect(outcomes.map((outcome) => [outcome.retryMessages.length, outcome.explicitAcks.length])).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
    ]);
  });

  it("keeps each shard pending, noting the attempt and its error", () => {
    expect(shards.map((shard) => [shard.state, shard.attempts, shard.error])).toEqual(
      Array.from({ length: 4 }, () => ["pending", 1, "provider_unreachable: the provider could not be reached"]),
    );
  });

  it("keeps the evaluation running meanwhile", () => {
    expect(stateMeanwhile).toBe("evaluating");
  });

  describe("once the retries run out and the dead-letter consumer has the shards", () => {
    let evaluation: Evaluation;

    beforeAll(async () => {
      await drainShards(evaluationId, "isv-evaluations-dlq");
      evaluation = await storedEvaluation(evaluationId);
    });

    it("ends the evaluation failed", () => {
      expect(evaluation.state).toBe("failed");
    });

    it("gives each model's failure class in the reason", () => {
      expect(evaluation.reason).toBe("isv-ngram-1: shards 0, 1, 2, 3 failed (provider_unreachable)");
    });

    it("keeps each shard's last error, with the attempts it took, for organisers", async () => {
      expect(new Set((await listShards(env.DB, evaluationId)).map((shard) => shard.error))).toEqual(
        new Set(["provider_unreachable: the provider could not be reached (gave up after 1 attempts)"]),
      );
    });

    it("counts the retries", () => {
      expect(evaluation.retries).toBe(4);
    });
  });
});

describe("the token budget", () => {
  let evaluation: Evaluation;

  beforeAll(async () => {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ name: "budgeted", models: referenceFamily.models.slice(0, 1) }),
      1000,
    );
    const evaluationId = started.ok ? started.evaluation.id : "";
    await drainShards(evaluationId);
    evaluation = await storedEvaluation(evaluationId);
  });

  it("stops the evaluation cleanly, partially_evaluated, naming the budget's failure class", () => {
    expect(evaluation.state).toBe("partially_evaluated");
    expect(evaluation.reason).toContain("(token_budget_reached)");
  });

  it("is not passed: a shard is charged its estimate before it is sent, and one the rest cannot pay for stops", () => {
    // The first three shards' estimates (100 examples each) exceed 1,000 tokens; the last (1 example) fits.
    expect(evaluation.tokensUsed).toBeGreaterThan(0);
    expect(evaluation.tokensUsed).toBeLessThanOrEqual(1000);
  });
});

describe("a TGI family (one endpoint per model)", () => {
  let ids: [viaOpenAi: string, viaTgi: string];
  let openAi: Evaluation;
  let tgi: Evaluation;

  beforeAll(async () => {
    const submission = await storedTask();
    const models = referenceFamily.models.slice(2, 3);
    const viaOpenAi = await startEvaluation(heldQueue, submission, family({ name: "via-openai", models }));
    const viaTgi = await startEvaluation(
      heldQueue,
      submission,
      family({
        name: "via-tgi",
        adapter: "tgi",
        baseUrl: inject("referenceUrl").replace(/\/v1$/, "/tgi/{model}"),
        models,
        limits: { concurrency: 8, requestsPerMinute: 100_000 },
      }),
    );
    const idOf = (outcome: typeof viaOpenAi) => (outcome.ok ? outcome.evaluation.id : "");
    ids = [idOf(viaOpenAi), idOf(viaTgi)];
    for (const id of ids) await drainShards(id);
    [openAi, tgi] = await Promise.all([storedEvaluation(ids[0]), storedEvaluation(ids[1])]);
  }, 60_000);

  it("is evaluated to the end, as openai-completions is", () => {
    expect([openAi.state, tgi.state]).toEqual(["evaluated", "evaluated"]);
  });

  it("sends one text a request", () => {
    expect(tgi.requests).toBe(301 * 2);
  });

  it("gives the same results as openai-completions", async () => {
    const strip = (rows: Awaited<ReturnType<typeof listResults>>) =>
      rows.map(({ model, index, flag, metrics }) => ({ model, index, flag, metrics }));
    expect(strip(await listResults(env.DB, ids[1]))).toEqual(strip(await listResults(env.DB, ids[0])));
  });
});

describe("resumption", () => {
  it("the cron job resumes an evaluation that stopped moving, through the real queue, to the end", async () => {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ name: "stalled", models: referenceFamily.models.slice(0, 2) }),
    );
    const evaluationId = started.ok ? started.evaluation.id : "";
    await env.DB.prepare("UPDATE evaluations SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?1")
      .bind(evaluationId)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/10 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const deadline = Date.now() + 20_000;
    let evaluation = await storedEvaluation(evaluationId);
    while (evaluation.state !== "evaluated" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      evaluation = await storedEvaluation(evaluationId);
    }
    expect(evaluation.state).toBe("evaluated");
    expect((await listResults(env.DB, evaluationId)).length).toBe(2 * 301);
  });
});

describe("the results export", () => {
  let response: Response;
  let text: string;
  let scored: Awaited<ReturnType<typeof listResults>>;
  let parsed: Extract<ReturnType<typeof parseResultsCsv>, { ok: true }>;

  beforeAll(async () => {
    const submission = await storedTask();
    const model = defined(referenceFamily.models[0], "a model in the reference family");
    const started = await startEvaluation(heldQueue, submission, family({ name: "exported", models: [model] }));
    const evaluationId = started.ok ? started.evaluation.id : "";
    await drainShards(evaluationId);
    response = await call(`/v1/review/evaluations/${evaluationId}/results/${model.id}.csv`, await token("organiser"));
    text = await response.text();
    const read = parseResultsCsv(text, "classification");
    if (!read.ok) throw new Error(read.problems.join("; "));
    parsed = read;
    scored = (await listResults(env.DB, evaluationId)).filter((row) => row.metrics !== null);
  });

  it("is a CSV file", () => {
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
  });

  it("has the prize pipeline's columns", () => {
    expect(text.slice(0, text.indexOf("\n"))).toBe("index,loss,correct,predicted,total_logprob");
  });

  it("has a row for each scored example", () => {
    expect(scored.length).toBeGreaterThan(0);
    expect(parsed.results.rows).toBe(scored.length);
  });

  it("is read back by parseResultsCsv to the stored numbers, column by column", () => {
    for (const column of ["loss", "correct", "total_logprob"] as const) {
      const values = defined(parsed.results.columns[column], `a ${column} column`);
      expect(
        scored.map((row) => values[row.index]),
        column,
      ).toEqual(scored.map((row) => defined(row.metrics, `metrics for example ${row.index}`)[column]));
    }
  });
});

describe("ending an evaluation", () => {
  /** An evaluation whose every shard is done but which no consumer has ended yet. */
  async function completeButOpen() {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ models: referenceFamily.models.slice(0, 2) }),
    );
    const evaluationId = started.ok ? started.evaluation.id : "";
    for (const shard of await listShards(env.DB, evaluationId))
      expect(await runShard(env, { evaluationId, model: shard.model, shard: shard.shard })).toEqual({ kind: "done" });
    return evaluationId;
  }

  describe("when the last shards settle together", () => {
    let evaluationId: string;
    let ended: boolean[];
    let analyses = 0;

    beforeAll(async () => {
      evaluationId = await completeButOpen();
      const analyse = async () => {
        analyses++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      };
      ended = await Promise.all(Array.from({ length: 6 }, () => finishIfComplete(env.DB, evaluationId, analyse)));
    });

    it("lets one consumer claim the ending, and the others leave it", () => {
      expect(ended.filter(Boolean).length).toBe(1);
    });

    it("analyses once", () => {
      expect(analyses).toBe(1);
    });

    it("ends the evaluation as evaluated", async () => {
      expect((await storedEvaluation(evaluationId)).state).toBe("evaluated");
    });
  });

  describe("a claim on the ending", () => {
    let evaluationId: string;
    let whileLive: { taken: boolean; state: string };
    let onceDead: { taken: boolean; state: string };

    beforeAll(async () => {
      evaluationId = await completeButOpen();
      const claimAt = (at: string) =>
        env.DB.prepare("UPDATE evaluations SET finishing_at = ?2 WHERE id = ?1").bind(evaluationId, at).run();
      const finish = async () => ({
        taken: await finishIfComplete(env.DB, evaluationId),
        state: (await storedEvaluation(evaluationId)).state,
      });
      await claimAt(new Date().toISOString());
      whileLive = await finish();
      await claimAt("2000-01-01T00:00:00.000Z");
      onceDead = await finish();
    });

    it("is left alone while its consumer is live", () => {
      expect(whileLive.taken).toBe(false);
      expect(whileLive.state).toBe("evaluating");
    });

    it("is taken over by a later caller once its consumer died, who ends the evaluation", () => {
      expect(onceDead.taken).toBe(true);
      expect(onceDead.state).toBe("evaluated");
    });
  });
});

function dieOnResults(db: D1Database) {
  return async (statements: D1PreparedStatement[]) => {
    const sql = JSON.stringify(statements);
    if (
      statements.length > 0 &&
      /evaluation_results/.test(String((statements[0] as unknown as { statement?: string }).statement ?? sql))
    )
      throw new Error("consumer died");
    return db.batch(statements);
  };
}
