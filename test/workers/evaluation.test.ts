import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { describe, expect, inject, it } from "vitest";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import type { ShardMessage } from "../../src/evaluate/plan";
import { runShard } from "../../src/evaluate/run-shard";
import { finishIfComplete } from "../../src/evaluate/finish";
import { getEvaluation, listResults, listShards, type StoredFamily } from "../../src/storage/evaluations";
import { getSubmission } from "../../src/storage/submissions";
import { parseResultsCsv } from "../../src/analysis/results-csv";
import { VALID_METADATA, call, heldQueue, submit, token, uniqueVariant } from "./helpers";

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

/**
 * A fresh classification task (the 300 memo-trap examples with prompts tagged for this test, plus one), stored
 * through the real intake. The tags keep each test's texts out of the score cache other tests fill.
 */
async function storedTask() {
  const tag = crypto.randomUUID().slice(0, 8);
  const tagged = memoTrap.replace(/^"(\w+ asks:)/gm, `"[${tag}] $1`);
  const csv = uniqueVariant(
    tagged,
    () => `"Ada asks: say ""${tag}"":\nA quiet river hides the deepest","[' water', ' stones']",0`,
  );
  const response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "classification" } });
  expect(response.status).toBe(201);
  return (await getSubmission(env.DB, (await response.json<{ id: string }>()).id))!;
}

/** Runs every pending shard of an evaluation through the real queue handler, one batch per shard. */
async function drain(evaluationId: string, queue = "isv-evaluations") {
  const outcomes = [];
  for (const shard of (await listShards(env.DB, evaluationId)).filter((s) => s.state === "pending")) {
    const batch = createMessageBatch<ShardMessage>(queue, [
      {
        id: `${shard.model}-${shard.shard}`,
        timestamp: new Date(),
        attempts: 1,
        body: { evaluationId, model: shard.model, shard: shard.shard },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    outcomes.push(await getQueueResult(batch, ctx));
  }
  return outcomes;
}

describe("evaluation reliability", () => {
  it("loses nothing when a consumer dies mid-shard: the redelivery finishes it without repeating provider calls", async () => {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ models: referenceFamily.models.slice(0, 2) }),
    );
    expect(started.ok).toBe(true);
    const evaluation = started.ok ? started.evaluation : undefined!;
    const message = { evaluationId: evaluation.id, model: "isv-ngram-1", shard: 0 };

    // The consumer dies after the provider answered and the answers were cached, while writing results.
    const dying = {
      ...env,
      DB: new Proxy(env.DB, { get: (db, name) => (name === "batch" ? dieOnResults(db) : Reflect.get(db, name)) }),
    };
    await expect(runShard(dying, message)).rejects.toThrow("consumer died");
    expect((await listResults(env.DB, evaluation.id)).length).toBe(0);
    const afterDeath = (await getEvaluation(env.DB, evaluation.id))!;

    await runShard(env, message);
    const results = (await listResults(env.DB, evaluation.id)).filter((row) => row.model === "isv-ngram-1");
    expect(results.map((row) => row.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const afterRedelivery = (await getEvaluation(env.DB, evaluation.id))!;
    expect(afterRedelivery.requests).toBe(afterDeath.requests);
    expect(afterRedelivery.cacheHits - afterDeath.cacheHits).toBe(200);

    // A duplicate delivery of a settled shard changes nothing.
    await runShard(env, message);
    expect((await listResults(env.DB, evaluation.id)).length).toBe(100);
  });

  it("keeps the rest when one model's provider refuses for good: partially_evaluated, with the reason per model", async () => {
    const submission = await storedTask();
    const models = [...referenceFamily.models.slice(0, 2), { id: "isv-ngram-missing", parameters: 99_999 }];
    const started = await startEvaluation(heldQueue, submission, family({ name: "with-a-missing-model", models }));
    const evaluationId = started.ok ? started.evaluation.id : "";
    const outcomes = await drain(evaluationId);
    expect(outcomes.every((outcome) => outcome.explicitAcks.length === 1 && outcome.retryMessages.length === 0)).toBe(
      true,
    );
    const evaluation = (await getEvaluation(env.DB, evaluationId))!;
    expect(evaluation.state).toBe("partially_evaluated");
    expect(evaluation.reason).toBe(
      "isv-ngram-missing: shards 0, 1, 2, 3 failed (the provider answered 404: The model `isv-ngram-missing` does not exist.)",
    );
    const results = await listResults(env.DB, evaluationId);
    expect(new Set(results.map((row) => row.model))).toEqual(new Set(["isv-ngram-1", "isv-ngram-2"]));
    expect(results).toHaveLength(2 * 301);
  });

  it("retries a provider it cannot reach with backoff, and the dead-letter consumer ends the shard with the last error", async () => {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ name: "unreachable", baseUrl: "http://127.0.0.1:9/v1", models: referenceFamily.models.slice(0, 1) }),
    );
    const evaluationId = started.ok ? started.evaluation.id : "";
    const outcomes = await drain(evaluationId);
    expect(outcomes.map((outcome) => [outcome.retryMessages.length, outcome.explicitAcks.length])).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
    ]);
    expect((await listShards(env.DB, evaluationId)).map((shard) => [shard.state, shard.attempts, shard.error])).toEqual(
      Array.from({ length: 4 }, () => ["pending", 1, "the provider could not be reached"]),
    );
    expect((await getEvaluation(env.DB, evaluationId))!.state).toBe("evaluating");

    await drain(evaluationId, "isv-evaluations-dlq");
    const evaluation = (await getEvaluation(env.DB, evaluationId))!;
    expect(evaluation.state).toBe("failed");
    expect(evaluation.reason).toContain(
      "isv-ngram-1: shards 0, 1, 2, 3 failed (gave up after 1 attempts: the provider could not be reached)",
    );
    expect(evaluation.retries).toBe(4);
  });

  it("stops cleanly at the token budget", async () => {
    const submission = await storedTask();
    const started = await startEvaluation(
      heldQueue,
      submission,
      family({ name: "budgeted", models: referenceFamily.models.slice(0, 1) }),
      1000,
    );
    const evaluationId = started.ok ? started.evaluation.id : "";
    await drain(evaluationId);
    const evaluation = (await getEvaluation(env.DB, evaluationId))!;
    expect(evaluation.state).toBe("partially_evaluated");
    expect(evaluation.reason).toContain("token budget of 1000 reached");
    expect(evaluation.tokensUsed).toBeGreaterThanOrEqual(1000);
  });
});

describe("adapters and resumption", () => {
  it("evaluates a TGI family (one endpoint per model) to the same results as openai-completions", async () => {
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
    const ids = [viaOpenAi, viaTgi].map((outcome) => (outcome.ok ? outcome.evaluation.id : ""));
    for (const id of ids) await drain(id);
    const [openAi, tgi] = await Promise.all(ids.map((id) => getEvaluation(env.DB, id)));
    expect([openAi!.state, tgi!.state]).toEqual(["evaluated", "evaluated"]);
    expect(tgi!.requests).toBe(301 * 2); // one text a request
    const strip = (rows: Awaited<ReturnType<typeof listResults>>) =>
      rows.map(({ model, index, flag, metrics }) => ({ model, index, flag, metrics }));
    expect(strip(await listResults(env.DB, ids[1]!))).toEqual(strip(await listResults(env.DB, ids[0]!)));
  }, 60_000);

  it("the cron job resumes an evaluation that stopped moving, through the real queue", async () => {
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
    let evaluation = await getEvaluation(env.DB, evaluationId);
    while (evaluation!.state !== "evaluated" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      evaluation = await getEvaluation(env.DB, evaluationId);
    }
    expect(evaluation!.state).toBe("evaluated");
    expect((await listResults(env.DB, evaluationId)).length).toBe(2 * 301);
  });
});

describe("the results export", () => {
  it("writes a model's results in the pipeline's format, which parseResultsCsv reads back to the stored numbers", async () => {
    const submission = await storedTask();
    const [model] = referenceFamily.models;
    const started = await startEvaluation(heldQueue, submission, family({ name: "exported", models: [model!] }));
    const evaluationId = started.ok ? started.evaluation.id : "";
    await drain(evaluationId);
    const response = await call(
      `/v1/review/evaluations/${evaluationId}/results/${model!.id}.csv`,
      await token("organiser"),
    );
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const text = await response.text();
    expect(text.slice(0, text.indexOf("\n"))).toBe("index,loss,correct,predicted,total_logprob");
    const parsed = parseResultsCsv(text, "classification");
    if (!parsed.ok) throw new Error(parsed.problems.join("; "));
    const scored = (await listResults(env.DB, evaluationId)).filter((row) => row.metrics !== null);
    expect(scored.length).toBeGreaterThan(0);
    expect(parsed.results.rows).toBe(scored.length);
    for (const column of ["loss", "correct", "total_logprob"] as const) {
      expect(
        scored.map((row) => parsed.results.columns[column]![row.index]),
        column,
      ).toEqual(scored.map((row) => row.metrics![column]));
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

  it("analyses once when the last shards settle together: one consumer claims the ending, the others leave it", async () => {
    const evaluationId = await completeButOpen();
    let analyses = 0;
    const analyse = async () => {
      analyses++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const ended = await Promise.all(Array.from({ length: 6 }, () => finishIfComplete(env.DB, evaluationId, analyse)));
    expect(ended.filter(Boolean).length).toBe(1);
    expect(analyses).toBe(1);
    expect((await getEvaluation(env.DB, evaluationId))!.state).toBe("evaluated");
  });

  it("lets a later caller take over a claim whose consumer died, but not a live one", async () => {
    const evaluationId = await completeButOpen();
    const claimAt = (at: string) =>
      env.DB.prepare("UPDATE evaluations SET finishing_at = ?2 WHERE id = ?1").bind(evaluationId, at).run();
    await claimAt(new Date().toISOString());
    expect(await finishIfComplete(env.DB, evaluationId)).toBe(false);
    expect((await getEvaluation(env.DB, evaluationId))!.state).toBe("evaluating");
    await claimAt("2000-01-01T00:00:00.000Z");
    expect(await finishIfComplete(env.DB, evaluationId)).toBe(true);
    expect((await getEvaluation(env.DB, evaluationId))!.state).toBe("evaluated");
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
