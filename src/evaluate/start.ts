import type { StorageBindings } from "../storage/bindings";
import referenceFamily from "../../fixtures/families/reference.json";
import referenceRlhfFamily from "../../fixtures/families/reference-rlhf.json";
import type { CompetitionSettings, SettingsVars } from "../competition/settings";
import { getFamily } from "../storage/families";
import { insertEvaluationStatements, type EvaluationRecord, type StoredFamily } from "../storage/evaluations";
import type { SubmissionRecord } from "../storage/submissions";
import { readExamples } from "../storage/examples";
import { settingsInForce } from "../storage/settings";
import { admissionStatements, refusalOf, type EvaluationOrigin, type Refusal } from "../storage/spend";
import { estimate, estimatedTokens, planShards, sendShards } from "./plan";

export const REFERENCE_FAMILY = "isv-reference";
/** The reference server's offline stand-in for RLHF (src/reference/rlhf.ts): three sizes at four step counts. */
export const REFERENCE_RLHF_FAMILY = "isv-reference-rlhf";

/** Families defined by the service itself, served by the reference server at REFERENCE_BASE_URL. */
const BUILT_IN: Record<string, unknown> = {
  [REFERENCE_FAMILY]: referenceFamily,
  [REFERENCE_RLHF_FAMILY]: referenceRlhfFamily,
};
/** Never registered, so never replaced (register-family.ts refuses them). */
export const BUILT_IN_FAMILIES: readonly string[] = Object.keys(BUILT_IN);

export interface StartBindings extends StorageBindings, SettingsVars {
  /** Only sending is needed: tests that deliver shards themselves pass a producer that holds the messages. */
  EVALUATIONS: Pick<Queue, "sendBatch">;
  REFERENCE_BASE_URL: string;
}

/**
 * A built-in family pointed at this deployment's reference server, or a registered family. The built-in ones come
 * first, so a row stored under their name (before registration refused built-in names) is never used.
 */
export async function resolveFamily(bindings: StartBindings, name: string): Promise<StoredFamily | undefined> {
  const builtIn = Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
  // The fixture files are checked against the family schema by test/node/families.test.ts.
  if (builtIn) return { ...(builtIn as StoredFamily), baseUrl: bindings.REFERENCE_BASE_URL };
  return getFamily(bindings.DB, name);
}

export type { EvaluationOrigin, Refusal };

export type StartOutcome =
  | { ok: true; evaluation: EvaluationRecord }
  /** The task or family cannot be evaluated here; nothing was recorded. */
  | { ok: false; reason: string; refused?: undefined }
  /**
   * Refused before queueing by a limit (README, "Competition settings"): nothing was queued. An automatic
   * evaluation is kept, failed with the reason, so its submitter sees why; an organiser's request leaves no record.
   */
  | { ok: false; refused: Refusal; reason: string; evaluation?: EvaluationRecord };

export interface StartOptions {
  /**
   * automatic: started by an upload or a new file on the public families (the daily cap applies, and an estimate
   * over the budget is refused); requested (the default): by an organiser (the spend ceilings apply to both).
   */
  origin?: EvaluationOrigin;
  /** The rules to admit it under; the settings in force when left out. */
  settings?: CompetitionSettings;
  /**
   * Automatic only: the client that started it has used up its allowance (`automaticEvaluationsPerClientPerDay`,
   * checked by the caller): it is refused before queueing, `client_daily_cap`.
   */
  clientCapped?: boolean;
}

/**
 * Plans an evaluation (shards of EXAMPLES_PER_SHARD examples per model), records it with its estimate, admits it
 * against the competition's limits in the same transaction, and queues one message per shard. Payloads stay in
 * storage: a message names its shard. A refused evaluation queues nothing.
 */
export async function startEvaluation(
  bindings: StartBindings,
  submission: SubmissionRecord,
  family: StoredFamily,
  tokenBudget: number | null = null,
  options: StartOptions = {},
): Promise<StartOutcome> {
  if (submission.taskType === "numeric")
    return { ok: false, reason: "numeric tasks are not evaluated: their metric needs sampled generations" };
  if (family.adapter === "external")
    return { ok: false, reason: `family ${family.name} is run elsewhere: upload its results instead` };
  const examples = await readExamples(bindings.BLOBS, submission.examplesKey);
  if (!examples) return { ok: false, reason: "the submission's examples are missing from storage" };
  const origin = options.origin ?? "requested";
  const settings = options.settings ?? (await settingsInForce(bindings));
  const now = new Date().toISOString();
  const evaluation: EvaluationRecord = {
    id: crypto.randomUUID(),
    submissionId: submission.id,
    family: family.name,
    familyDefinition: family,
    state: "queued",
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    estimate: estimate(family, examples, family.limits?.promptsPerRequest ?? 20),
    tokenBudget,
    tokensUsed: 0,
    requests: 0,
    retries: 0,
    cacheHits: 0,
    reason: null,
    fileVersion: submission.fileVersion,
  };
  const tokens = estimatedTokens(evaluation.estimate);
  const overBudget = origin === "automatic" && tokenBudget !== null && tokens > tokenBudget;
  const clientCapped = origin === "automatic" && options.clientCapped === true;
  // An evaluation refused for its budget or its client is known to be refused now: it gets no shards to remove.
  const shards = overBudget || clientCapped ? [] : planShards(evaluation.id, family, examples.length);
  // What it may spend: its budget, which the shards' charges enforce (run-shard.ts), else its estimate.
  const reservedTokens = tokenBudget ?? tokens;
  const usdPerMillionTokens = family.pricing?.usdPerMillionTokens ?? null;
  const reasons = refusalReasons(settings, tokens, tokenBudget, reservedTokens, usdPerMillionTokens);
  const inserts = insertEvaluationStatements(bindings.DB, evaluation, shards);
  const results = await bindings.DB.batch([
    ...inserts,
    ...admissionStatements(bindings.DB, {
      evaluationId: evaluation.id,
      origin,
      reservedTokens,
      usdPerMillionTokens,
      overBudget,
      clientCapped,
      dailyCap: origin === "automatic" ? settings.automaticEvaluationsPerDay : null,
      dayStart: `${now.slice(0, 10)}T00:00:00.000Z`,
      ceilingTokens: settings.spendCeilingTokens,
      ceilingUsd: settings.spendCeilingUsd,
      reasons,
      at: now,
    }),
  ]);
  const refused = refusalOf(results[inserts.length]);
  if (refused !== null) {
    const reason = reasons[refused];
    if (origin === "requested") return { ok: false, refused, reason };
    return { ok: false, refused, reason, evaluation: { ...evaluation, state: "failed", reason, finishedAt: now } };
  }
  await sendShards(bindings.EVALUATIONS, evaluation.id, shards);
  return { ok: true, evaluation };
}

/** What a refused evaluation's record and its submitter are told, for each limit. */
function refusalReasons(
  settings: CompetitionSettings,
  tokens: number,
  tokenBudget: number | null,
  reservedTokens: number,
  usdPerMillionTokens: number | null,
): Record<Refusal, string> {
  const refused = "refused before queueing:";
  const counted = `its ${tokenBudget === null ? "estimate" : "budget"} of ${reservedTokens} tokens`;
  const cost = ((reservedTokens * (usdPerMillionTokens ?? 0)) / 1e6).toFixed(2);
  return {
    over_budget: `${refused} its estimate of ${tokens} tokens exceeds the budget of ${tokenBudget} tokens for automatic evaluations; an organiser can start it`,
    client_daily_cap: `${refused} this client's allowance of ${settings.automaticEvaluationsPerClientPerDay} automatic evaluations a day is used up; an organiser can start it`,
    daily_cap: `${refused} the competition's daily cap of ${settings.automaticEvaluationsPerDay} automatic evaluations (UTC day) is reached; an organiser can start it`,
    spend_ceiling: `${refused} ${counted} would pass the competition's spend ceiling of ${settings.spendCeilingTokens} tokens`,
    spend_ceiling_usd: `${refused} its estimated cost of $${cost} would pass the competition's spend ceiling of $${settings.spendCeilingUsd}`,
  };
}
