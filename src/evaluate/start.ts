import type { StorageBindings } from "../storage/bindings";
import referenceFamily from "../../fixtures/families/reference.json";
import { getFamily } from "../storage/families";
import { insertEvaluationStatements, type EvaluationRecord, type StoredFamily } from "../storage/evaluations";
import type { SubmissionRecord } from "../storage/submissions";
import { readExamples } from "../storage/examples";
import { estimate, planShards, sendShards } from "./plan";

export const REFERENCE_FAMILY = "isv-reference";

export interface StartBindings extends StorageBindings {
  /** Only sending is needed: tests that deliver shards themselves pass a producer that holds the messages. */
  EVALUATIONS: Pick<Queue, "sendBatch">;
  REFERENCE_BASE_URL: string;
}

/** A registered family, or the built-in reference family pointed at this deployment's reference server. */
export async function resolveFamily(bindings: StartBindings, name: string): Promise<StoredFamily | undefined> {
  const registered = await getFamily(bindings.DB, name);
  if (registered) return registered;
  if (name === REFERENCE_FAMILY) return { ...(referenceFamily as StoredFamily), baseUrl: bindings.REFERENCE_BASE_URL };
  return undefined;
}

export type StartOutcome = { ok: true; evaluation: EvaluationRecord } | { ok: false; reason: string };

/**
 * Plans an evaluation (shards of EXAMPLES_PER_SHARD examples per model), records it with its estimate, and
 * queues one message per shard. Payloads stay in storage: a message names its shard.
 */
export async function startEvaluation(
  bindings: StartBindings,
  submission: SubmissionRecord,
  family: StoredFamily,
  tokenBudget: number | null = null,
): Promise<StartOutcome> {
  if (submission.taskType === "numeric")
    return { ok: false, reason: "numeric tasks are not evaluated: their metric needs sampled generations" };
  if (family.adapter === "external")
    return { ok: false, reason: `family ${family.name} is run elsewhere: upload its results instead` };
  const examples = await readExamples(bindings.BLOBS, submission.examplesKey);
  if (!examples) return { ok: false, reason: "the submission's examples are missing from storage" };
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
  const shards = planShards(evaluation.id, family, examples.length);
  await bindings.DB.batch(insertEvaluationStatements(bindings.DB, evaluation, shards));
  await sendShards(bindings.EVALUATIONS, evaluation.id, shards);
  return { ok: true, evaluation };
}
