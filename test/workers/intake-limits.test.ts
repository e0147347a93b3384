import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import referenceFamily from "../../fixtures/families/reference.json";
import type { CompetitionSettings } from "../../src/competition/settings";
import { estimate, estimateTextTokens } from "../../src/evaluate/plan";
import { adapterFor } from "../../src/evaluate/adapters";
import { textsFor } from "../../src/evaluate/metrics";
import { workerAccess } from "../../src/evaluate/provider-access";
import { runShard } from "../../src/evaluate/run-shard";
import { cachedScores } from "../../src/storage/score-cache";
import { sha256Hex } from "../../src/util/hash";
import { startEvaluation } from "../../src/evaluate/start";
import { startDefaultEvaluations, type DefaultStartBindings } from "../../src/evaluate/start-defaults";
import { readExamples } from "../../src/storage/examples";
import { getEvaluation, listEvaluations, type StoredFamily } from "../../src/storage/evaluations";
import { listShards } from "../../src/storage/shards";
import { settingsInForce } from "../../src/storage/settings";
import { getSubmission, type SubmissionRecord } from "../../src/storage/submissions";
import { defined } from "../defined";
import {
  call,
  drainShards,
  heldQueue,
  lambadaVariant,
  problemOf,
  storedCounts,
  submit,
  taggedMemoTrapTask,
  token,
  withSettings,
} from "./helpers";

/**
 * Intake limits: uploads per client (a Durable Object per client address), and the daily cap, default budget and
 * spend ceilings that bound what automatic and requested evaluations may cost. The settings of this file's storage
 * (saved below, restored at the end) refuse every automatic evaluation (a daily cap of 0), so no upload here queues
 * anything in the background; the tests that admit evaluations start them with a producer that holds the messages.
 */
const T0 = Date.UTC(2030, 0, 1);

const fileSettings = (): Partial<CompetitionSettings> => ({
  uploadsPerHour: 2,
  publicFamilies: ["isv-reference"],
  automaticEvaluationsPerDay: 0,
});
const saved = withSettings(fileSettings());

/** An IPv6 /64 of its own (its first four groups). */
const hexGroup = (): string => Math.floor(Math.random() * 0xffff).toString(16);
const newNetwork = (): string => `2001:db8:${hexGroup()}:${hexGroup()}`;
/** An address of its own for each caller, so each test's client starts with a full allowance. */
let clients = 0;
const freshClient = (): string => `198.18.${Math.floor(++clients / 250)}.${(clients % 250) + 1}`;

/** Uploads a unique real task (LAMBADA, 1,001 examples) from `client`. */
const uploadFrom = (client: string, label = "Limits") =>
  submit({ csv: lambadaVariant(label), headers: { "cf-connecting-ip": client } });

/** A stored task, uploaded from a client of its own. */
async function storedTask(): Promise<SubmissionRecord> {
  const response = await uploadFrom(freshClient());
  expect(response.status).toBe(201);
  const { id } = await response.json<{ id: string }>();
  return defined(await getSubmission(env.DB, id), `stored submission ${id}`);
}

interface Spend {
  tokens: { used: number; reserved: number; ceiling: number | null; remaining: number | null };
  usd: { used: number; reserved: number; ceiling: number | null; remaining: number | null };
  automaticEvaluations: { day: string; started: number; refused: number; cap: number | null };
  families: { family: string; usdPerMillionTokens: number | null; tokensUsed: number; tokensReserved: number }[];
}
const spend = async (): Promise<Spend> => {
  const response = await call("/v1/review/spend", saved.admin);
  expect(response.status).toBe(200);
  return response.json<Spend>();
};

const family = (overrides: Partial<StoredFamily> = {}): StoredFamily => ({
  ...(referenceFamily as StoredFamily),
  baseUrl: inject("referenceUrl"),
  models: referenceFamily.models.slice(0, 1),
  ...overrides,
});

/** The tokens an evaluation of `submission` on `on` is estimated to cost, summed over its models. */
async function estimatedTokens(submission: SubmissionRecord, on: StoredFamily): Promise<number> {
  const examples = defined(await readExamples(env.BLOBS, submission.examplesKey), "the task's examples");
  return estimate(on, examples, on.limits?.promptsPerRequest ?? 20).reduce((sum, model) => sum + model.tokens, 0);
}

/** The bindings with a producer that records what it is asked to queue. */
function recordingQueue(): { bindings: DefaultStartBindings; sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    sent,
    bindings: {
      ...env,
      EVALUATIONS: {
        sendBatch: async (messages: Iterable<MessageSendRequest>): Promise<QueueSendBatchResponse> => {
          sent.push(...messages);
          return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
        },
      },
    },
  };
}

describe("uploads from one client", () => {
  const client = freshClient();
  let accepted: Response[];
  let refused: Response;
  let countsBefore: Awaited<ReturnType<typeof storedCounts>>;
  let countsAfter: Awaited<ReturnType<typeof storedCounts>>;

  beforeAll(async () => {
    vi.spyOn(Date, "now").mockReturnValue(T0);
    accepted = [await uploadFrom(client), await uploadFrom(client)];
    countsBefore = await storedCounts();
    refused = await uploadFrom(client);
    countsAfter = await storedCounts();
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it("are accepted up to the limit", () => {
    expect(accepted.map((response) => response.status)).toEqual([201, 201]);
  });

  it("past it are refused with 429 rate_limited and Retry-After: the hour divided by the limit", async () => {
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1800");
    expect(await problemOf(refused.clone())).toMatchObject({
      code: "rate_limited",
      retryAfterSeconds: 1800,
      limit: 2,
    });
  });

  it("past it store nothing", () => {
    expect(countsAfter).toEqual(countsBefore);
  });

  it("leave another client's allowance alone", async () => {
    expect((await uploadFrom(freshClient())).status).toBe(201);
  });

  it("count a file replacement too: the client's replacement is refused and the file stays", async () => {
    const first = defined(accepted[0], "the first upload");
    const { id, submitterToken } = await first.clone().json<{ id: string; submitterToken: string }>();
    const replaced = await call(`/v1/submissions/${id}/file`, submitterToken, {
      method: "PUT",
      body: lambadaVariant("Replacement"),
      headers: { "content-type": "text/csv", "cf-connecting-ip": client },
    });
    expect((await problemOf(replaced)).code).toBe("rate_limited");
    expect(defined(await getSubmission(env.DB, id), "the submission").fileVersion).toBe(1);
  });

  it("are refused a second before the interval has passed, with one second to wait", async () => {
    vi.spyOn(Date, "now").mockReturnValue(T0 + 1_799_000);
    const early = await uploadFrom(client);
    expect(early.status).toBe(429);
    expect(early.headers.get("retry-after")).toBe("1");
  });

  it("are accepted again, one, once an hour divided by the limit has passed", async () => {
    vi.spyOn(Date, "now").mockReturnValue(T0 + 1_800_000);
    expect([(await uploadFrom(client)).status, (await uploadFrom(client)).status]).toEqual([201, 429]);
  });
});

describe("uploads from one IPv6 network", () => {
  it("share one allowance across the addresses of a /64", async () => {
    const network = newNetwork();
    const statuses = [];
    for (const host of ["::1", "::2", ":aaaa:bbbb:cccc:dddd"]) statuses.push((await uploadFrom(network + host)).status);
    expect(statuses).toEqual([201, 201, 429]);
  });
});

describe("an upload whose automatic evaluation is refused", () => {
  let created: { id: string; submitterToken: string; evaluations: Record<string, unknown>[] };
  let status: number;

  beforeAll(async () => {
    const response = await uploadFrom(freshClient(), "Refused");
    status = response.status;
    created = await response.json();
  });

  it("is stored (201)", () => {
    expect(status).toBe(201);
  });

  it("lists the refused evaluation with its state, refusal and reason", () => {
    expect(created.evaluations).toEqual([
      {
        family: "isv-reference",
        id: expect.any(String),
        state: "failed",
        refused: "daily_cap",
        error:
          "refused before queueing: the competition's daily cap of 0 automatic evaluations (UTC day) is reached; an organiser can start it",
      },
    ]);
  });

  it("shows the submitter the refused evaluation and the reason in its status", async () => {
    const read = await call(`/v1/submissions/${created.id}`, created.submitterToken);
    const body = await read.json<{ evaluations: { state: string; reason: string }[] }>();
    expect(body.evaluations).toMatchObject([
      {
        state: "failed",
        reason: expect.stringMatching(/^refused before queueing: the competition's daily cap of 0 automatic/),
      },
    ]);
  });

  it("queues no shard", async () => {
    const [evaluation] = created.evaluations;
    expect(await listShards(env.DB, String(defined(evaluation, "an evaluation").id))).toEqual([]);
  });
});

describe("automatic evaluations", () => {
  /** The settings in force, with the intake limits of a test. */
  const settingsWith = async (limits: Partial<CompetitionSettings>): Promise<CompetitionSettings> => ({
    ...(await settingsInForce(env)),
    tokenBudget: null,
    automaticEvaluationsPerDay: null,
    spendCeilingTokens: null,
    spendCeilingUsd: null,
    ...limits,
  });

  it("stop at the daily cap: the ones past it are refused, visibly", async () => {
    const { started } = (await spend()).automaticEvaluations;
    const settings = await settingsWith({ automaticEvaluationsPerDay: started + 2 });
    const outcomes = [];
    for (let i = 0; i < 3; i++)
      outcomes.push(...(await startDefaultEvaluations(heldQueue, settings, await storedTask())));
    expect(outcomes.map(({ state, refused }) => [state, refused])).toEqual([
      ["queued", undefined],
      ["queued", undefined],
      ["failed", "daily_cap"],
    ]);
  });

  it("are counted by the day: admins see how many were started and refused today", async () => {
    const tasks = [await storedTask(), await storedTask()];
    const before = (await spend()).automaticEvaluations;
    const settings = await settingsWith({ automaticEvaluationsPerDay: before.started + 1 });
    for (const task of tasks) await startDefaultEvaluations(heldQueue, settings, task);
    const after = (await spend()).automaticEvaluations;
    expect([after.started - before.started, after.refused - before.refused]).toEqual([1, 1]);
  });

  it("do not include an organiser's starts in the daily count", async () => {
    const before = (await spend()).automaticEvaluations.started;
    const started = await startEvaluation(heldQueue, await storedTask(), family());
    expect(started.ok).toBe(true);
    expect((await spend()).automaticEvaluations.started).toBe(before);
  });

  describe("whose estimate exceeds the budget", () => {
    let outcome: Awaited<ReturnType<typeof startDefaultEvaluations>>;
    let sent: unknown[];
    let submission: SubmissionRecord;
    let tokens: number;

    beforeAll(async () => {
      submission = await storedTask();
      const queue = recordingQueue();
      sent = queue.sent;
      tokens = await estimatedTokens(submission, family({ models: referenceFamily.models }));
      const settings = await settingsWith({ tokenBudget: tokens - 1 });
      outcome = await startDefaultEvaluations(queue.bindings, settings, submission);
    });

    it("are refused, saying the estimate and the budget", () => {
      expect(outcome).toEqual([
        {
          family: "isv-reference",
          id: expect.any(String),
          state: "failed",
          refused: "over_budget",
          error: `refused before queueing: its estimate of ${tokens} tokens exceeds the budget of ${tokens - 1} tokens for automatic evaluations; an organiser can start it`,
        },
      ]);
    });

    it("queue nothing", async () => {
      const [refused] = outcome;
      expect(sent).toEqual([]);
      expect(await listShards(env.DB, defined(refused?.id, "the refused evaluation's id"))).toEqual([]);
    });

    it("are recorded as ended, with the estimate and the reason", async () => {
      const refused = defined(await getEvaluation(env.DB, defined(outcome[0]?.id, "an id")), "the evaluation");
      expect(refused).toMatchObject({
        state: "failed",
        finishedAt: expect.any(String),
        reason: expect.stringMatching(/^refused before queueing: its estimate/),
        tokenBudget: tokens - 1,
      });
      expect(refused.estimate.reduce((sum, model) => sum + model.tokens, 0)).toBe(tokens);
    });
  });

  it("within the budget are queued, with the budget", async () => {
    const submission = await storedTask();
    const tokens = await estimatedTokens(submission, family({ models: referenceFamily.models }));
    const queue = recordingQueue();
    const [started] = await startDefaultEvaluations(
      queue.bindings,
      await settingsWith({ tokenBudget: tokens }),
      submission,
    );
    expect(started).toMatchObject({ state: "queued" });
    expect(defined(await getEvaluation(env.DB, defined(started?.id, "an id")), "it").tokenBudget).toBe(tokens);
    expect(queue.sent.length).toBe((await listShards(env.DB, defined(started?.id, "an id"))).length);
  });
});

describe("automatic evaluations per client", () => {
  describe("started by uploads, with an allowance of one a client", () => {
    const client = freshClient();
    let evaluations: Record<string, unknown>[][];
    let second: { id: string; submitterToken: string };

    beforeAll(async () => {
      expect((await saved.putChanged({ automaticEvaluationsPerClientPerDay: 1 })).status).toBe(200);
      const responses = [await uploadFrom(client), await uploadFrom(client), await uploadFrom(freshClient())];
      expect((await saved.putChanged()).status).toBe(200);
      expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);
      const bodies = await Promise.all(
        responses.map((response) =>
          response.json<{ id: string; submitterToken: string; evaluations: Record<string, unknown>[] }>(),
        ),
      );
      evaluations = bodies.map((body) => body.evaluations);
      second = defined(bodies[1], "the second upload");
    });

    it("refuse a client's evaluations past its allowance, and no other client's", () => {
      // The daily cap of this file's settings (0) refuses the ones the client's allowance lets through.
      expect(evaluations.map((started) => started.map((evaluation) => evaluation.refused))).toEqual([
        ["daily_cap"],
        ["client_daily_cap"],
        ["daily_cap"],
      ]);
    });

    it("list the refusal with its state and reason, and queue no shard", async () => {
      const refused = defined(evaluations[1]?.[0], "the second upload's evaluation");
      expect(refused).toEqual({
        family: "isv-reference",
        id: expect.any(String),
        state: "failed",
        refused: "client_daily_cap",
        error:
          "refused before queueing: this client's allowance of 1 automatic evaluations a day is used up; an organiser can start it",
      });
      expect(await listShards(env.DB, String(refused.id))).toEqual([]);
    });

    it("show the submitter the reason in its status", async () => {
      const read = await call(`/v1/submissions/${second.id}`, second.submitterToken);
      const body = await read.json<{ evaluations: { state: string; reason: string }[] }>();
      expect(body.evaluations).toMatchObject([
        { state: "failed", reason: expect.stringMatching(/^refused before queueing: this client's allowance of 1/) },
      ]);
    });
  });

  it("are counted by client: past its allowance, the client's starts are refused and queue nothing", async () => {
    const client = `ip:allowance-${crypto.randomUUID()}`;
    const settings: CompetitionSettings = {
      ...(await settingsInForce(env)),
      automaticEvaluationsPerClientPerDay: 2,
      automaticEvaluationsPerDay: null,
      tokenBudget: null,
      spendCeilingTokens: null,
      spendCeilingUsd: null,
    };
    const queue = recordingQueue();
    const outcomes = [];
    const queued = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(...(await startDefaultEvaluations(queue.bindings, settings, await storedTask(), client)));
      queued.push(queue.sent.length);
    }
    expect(outcomes.map(({ state, refused }) => [state, refused])).toEqual([
      ["queued", undefined],
      ["queued", undefined],
      ["failed", "client_daily_cap"],
    ]);
    expect(queued[2]).toBe(queued[1]);
  });
});

describe("the global spend ceiling", () => {
  it("admits an evaluation that reaches it exactly, and refuses the next, before queueing it", async () => {
    const submission = await storedTask();
    const on = family();
    const tokens = await estimatedTokens(submission, on);
    const { used, reserved } = (await spend()).tokens;
    const settings = { ...(await settingsInForce(env)), spendCeilingTokens: used + reserved + tokens };
    const queue = recordingQueue();
    const first = await startEvaluation(queue.bindings, submission, on, null, { origin: "requested", settings });
    const sentForFirst = queue.sent.length;
    const second = await startEvaluation(queue.bindings, submission, on, null, { origin: "requested", settings });
    expect(first.ok).toBe(true);
    expect(second).toEqual({
      ok: false,
      refused: "spend_ceiling",
      reason: `refused before queueing: its estimate of ${tokens} tokens would pass the competition's spend ceiling of ${used + reserved + tokens} tokens`,
    });
    expect(queue.sent.length).toBe(sentForFirst);
  });

  it("keeps no record of an organiser's refused start", async () => {
    const submission = await storedTask();
    const { used, reserved } = (await spend()).tokens;
    const settings = { ...(await settingsInForce(env)), spendCeilingTokens: used + reserved };
    const before = await listEvaluations(env.DB, submission.id);
    await startEvaluation(heldQueue, submission, family(), null, { origin: "requested", settings });
    expect(await listEvaluations(env.DB, submission.id)).toEqual(before);
  });

  it("in dollars counts the families with a price, and refuses what would pass it", async () => {
    const submission = await storedTask();
    const priced = family({ name: "priced", pricing: { usdPerMillionTokens: 2 } });
    const cost = ((await estimatedTokens(submission, priced)) * 2) / 1e6;
    const { used, reserved } = (await spend()).usd;
    const settings = { ...(await settingsInForce(env)), spendCeilingUsd: used + reserved + 1.5 * cost };
    const first = await startEvaluation(heldQueue, submission, priced, null, { origin: "requested", settings });
    const second = await startEvaluation(heldQueue, submission, priced, null, { origin: "requested", settings });
    expect([first.ok, second.ok ? null : second.refused]).toEqual([true, "spend_ceiling_usd"]);
  });

  it("refuses an organiser's request past it with 409 spend_ceiling_reached, and starts nothing", async () => {
    const submission = await storedTask();
    const before = await listEvaluations(env.DB, submission.id);
    const { used, reserved } = (await spend()).tokens;
    expect((await saved.putChanged({ spendCeilingTokens: used + reserved })).status).toBe(200);
    const response = await call(`/v1/review/submissions/${submission.id}/evaluations`, await token("organiser"), {
      method: "POST",
      body: JSON.stringify({ families: ["isv-reference"] }),
    });
    expect((await saved.putChanged()).status).toBe(200);
    expect(await problemOf(response)).toMatchObject({
      status: 409,
      code: "spend_ceiling_reached",
      family: "isv-reference",
    });
    expect(await listEvaluations(env.DB, submission.id)).toEqual(before);
  });
});

describe("the spend, for admins", () => {
  it("shows the tokens an open evaluation reserves, and their cost at its family's price", async () => {
    const submission = await storedTask();
    const priced = family({ name: "priced-view", pricing: { usdPerMillionTokens: 3 } });
    const tokens = await estimatedTokens(submission, priced);
    const before = await spend();
    await startEvaluation(heldQueue, submission, priced);
    const after = await spend();
    expect(after.tokens.reserved - before.tokens.reserved).toBe(tokens);
    expect(after.usd.reserved - before.usd.reserved).toBeCloseTo((tokens * 3) / 1e6, 9);
    expect(after.families.find((entry) => entry.family === "priced-view")).toEqual({
      family: "priced-view",
      usdPerMillionTokens: 3,
      evaluations: 1,
      tokensUsed: 0,
      tokensReserved: tokens,
      usdUsed: 0,
      usdReserved: expect.closeTo((tokens * 3) / 1e6, 9),
    });
  });

  it("counts the tokens an evaluation used once it has run, and no longer its reservation", async () => {
    const before = await spend();
    const started = await startEvaluation(heldQueue, await storedTask(), family());
    const id = started.ok ? started.evaluation.id : "";
    await drainShards(id);
    const evaluation = defined(await getEvaluation(env.DB, id), "the evaluation");
    const after = await spend();
    expect(evaluation.state).toBe("evaluated");
    expect([after.tokens.used - before.tokens.used, after.tokens.reserved - before.tokens.reserved]).toEqual([
      evaluation.tokensUsed,
      0,
    ]);
    // A whole evaluation through the queue handler: seconds on a quiet machine, more on a busy one.
  }, 60_000);

  it("shows what remains of the ceiling", async () => {
    const { tokens } = await spend();
    expect(tokens.remaining).toBe(Math.max(0, defined(tokens.ceiling, "a ceiling") - tokens.used - tokens.reserved));
  });

  it("is for admins only: an organiser is refused", async () => {
    expect((await problemOf(await call("/v1/review/spend", await token("organiser")))).code).toBe("forbidden");
  });
});

describe("the token budget of a running evaluation", () => {
  /** The distinct texts of examples [first, end) of a task. */
  async function shardTexts(submission: SubmissionRecord, first: number, end: number): Promise<string[]> {
    const examples = defined(await readExamples(env.BLOBS, submission.examplesKey), "the task's examples");
    const texts = examples
      .slice(first, end)
      .flatMap((example) => textsFor(example).map((t) => t.prompt + t.continuation));
    return [...new Set(texts)];
  }

  /** The tokens the provider counted for `texts` on `on`'s first model, as cached. */
  async function providerTokens(on: StoredFamily, texts: readonly string[]): Promise<number> {
    const model = defined(on.models[0], "a model").id;
    const { version } = adapterFor(on, workerAccess(env));
    const keys = await Promise.all(texts.map((text) => sha256Hex(JSON.stringify([on.baseUrl, model, version, text]))));
    const scores = await cachedScores(env.DB, keys);
    expect(scores.size).toBe(texts.length);
    return [...scores.values()].reduce((sum, scored) => sum + scored.tokens.length, 0);
  }

  /** A task whose texts no other test has scored (LAMBADA variants share all but one example's). */
  const taggedTask = () => taggedMemoTrapTask({ "cf-connecting-ip": freshClient() });

  const started = async (submission: SubmissionRecord, on: StoredFamily, budget: number | null) => {
    const outcome = await startEvaluation(heldQueue, submission, on, budget, { origin: "requested" });
    if (!outcome.ok) throw new Error(`not started: ${outcome.reason}`);
    return outcome.evaluation.id;
  };

  it("estimates UTF-8 bytes, not UTF-16 units: CJK and emoji are not undercounted", () => {
    // 日本語 is 3 units and 9 bytes, 😀 is 2 units and 4 bytes: 13 bytes, 4 tokens (5 units would be 2).
    expect([estimateTextTokens(["abcd"]), estimateTextTokens(["日本語😀"])]).toEqual([1, 4]);
  });

  it("reserves an automatic evaluation's budget against the ceiling, not its estimate", async () => {
    const submission = await storedTask();
    const tokens = await estimatedTokens(submission, family({ models: referenceFamily.models }));
    const before = (await spend()).tokens.reserved;
    const settings = {
      ...(await settingsInForce(env)),
      tokenBudget: tokens + 1000,
      automaticEvaluationsPerDay: null,
      spendCeilingTokens: null,
    };
    const [outcome] = await startDefaultEvaluations(heldQueue, settings, submission);
    expect(outcome?.state).toBe("queued");
    expect((await spend()).tokens.reserved - before).toBe(tokens + 1000);
  });

  it("refuses an evaluation whose budget would pass the ceiling though its estimate fits", async () => {
    const submission = await storedTask();
    const on = family();
    const tokens = await estimatedTokens(submission, on);
    const { used, reserved } = (await spend()).tokens;
    const settings = { ...(await settingsInForce(env)), spendCeilingTokens: used + reserved + tokens };
    const outcome = await startEvaluation(heldQueue, submission, on, tokens + 1, { origin: "requested", settings });
    expect(outcome).toEqual({
      ok: false,
      refused: "spend_ceiling",
      reason: `refused before queueing: its budget of ${tokens + 1} tokens would pass the competition's spend ceiling of ${used + reserved + tokens} tokens`,
    });
  });

  it("lets shards running at once start only as many as the budget pays for", async () => {
    const submission = await taggedTask();
    const on = family();
    const budget = Math.max(
      estimateTextTokens(await shardTexts(submission, 0, 100)),
      estimateTextTokens(await shardTexts(submission, 100, 200)),
    );
    const id = await started(submission, on, budget);
    const model = defined(on.models[0], "a model").id;
    const outcomes = await Promise.all([0, 1].map((shard) => runShard(env, { evaluationId: id, model, shard })));
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(["done", "failed"]);
    const failed = (await listShards(env.DB, id)).filter((shard) => shard.state === "failed");
    expect(failed.map((shard) => shard.error)).toEqual([`token_budget_reached: token budget of ${budget} reached`]);
  });

  it("settles a scored shard's charge to the tokens the provider counted", async () => {
    const submission = await taggedTask();
    const on = family();
    const id = await started(submission, on, null);
    const model = defined(on.models[0], "a model").id;
    expect(await runShard(env, { evaluationId: id, model, shard: 0 })).toEqual({ kind: "done" });
    const counted = await providerTokens(on, await shardTexts(submission, 0, 100));
    expect(defined(await getEvaluation(env.DB, id), "the evaluation").tokensUsed).toBe(counted);
  });

  it("charges nothing for cached texts: a re-run within a budget of one token finishes", async () => {
    const submission = await taggedTask();
    const on = family();
    await drainShards(await started(submission, on, null));
    const id = await started(submission, on, 1);
    await drainShards(id);
    const evaluation = defined(await getEvaluation(env.DB, id), "the re-run");
    expect([evaluation.state, evaluation.tokensUsed]).toEqual(["evaluated", 0]);
  });

  describe("a shard whose consumer dies after the provider answered, while writing results", () => {
    let counted: number;
    let afterDeath: number;
    let afterRetry: number;

    beforeAll(async () => {
      const submission = await taggedTask();
      const on = family();
      const id = await started(submission, on, null);
      const message = { evaluationId: id, model: defined(on.models[0], "a model").id, shard: 0 };
      const dying = {
        ...env,
        DB: new Proxy(env.DB, {
          get: (db, name) =>
            name === "batch"
              ? async (statements: D1PreparedStatement[]) => {
                  const first = statements[0] as unknown as { statement?: string } | undefined;
                  if (first?.statement?.includes("evaluation_results")) throw new Error("consumer died");
                  return db.batch(statements);
                }
              : Reflect.get(db, name),
        }),
      };
      await expect(runShard(dying, message)).rejects.toThrow("consumer died");
      afterDeath = defined(await getEvaluation(env.DB, id), "the evaluation").tokensUsed;
      expect(await runShard(env, message)).toEqual({ kind: "done" });
      afterRetry = defined(await getEvaluation(env.DB, id), "the evaluation").tokensUsed;
      counted = await providerTokens(on, await shardTexts(submission, 0, 100));
    });

    it("has counted the tokens the provider was paid for", () => {
      expect(afterDeath).toBe(counted);
    });

    it("is not charged again when retried", () => {
      expect(afterRetry).toBe(counted);
    });
  });

  it("gives back the charge of texts the provider did not score", async () => {
    const on = family({ models: [{ id: "isv-ngram-missing", parameters: 99_999 }] });
    const id = await started(await taggedTask(), on, null);
    await runShard(env, { evaluationId: id, model: "isv-ngram-missing", shard: 0 }).catch(() => undefined);
    expect(defined(await getEvaluation(env.DB, id), "the evaluation").tokensUsed).toBe(0);
  });
});

describe("settings saved before the intake limits", () => {
  it("take the default budget in place of their stored null", async () => {
    const { uploadsPerHour: _u, automaticEvaluationsPerDay: _a, ...legacy } = { ...saved.found, ...fileSettings() };
    const { spendCeilingTokens: _t, spendCeilingUsd: _d, automaticEvaluationsPerClientPerDay: _c, ...old } = legacy;
    await env.DB.prepare(
      "INSERT INTO competition_settings (created_at, actor, settings_json) VALUES (?1, 'upgrade', ?2)",
    )
      .bind(new Date().toISOString(), JSON.stringify({ ...old, tokenBudget: null }))
      .run();
    const budget = (await settingsInForce(env)).tokenBudget;
    expect((await saved.putChanged()).status).toBe(200);
    expect(budget).toBe(5_000_000);
  });
});
