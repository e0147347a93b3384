import { appendAudit } from "../storage/audit";
import type { EvaluationRecord, StoredFamily } from "../storage/evaluations";
import type { SubmissionRecord } from "../storage/submissions";
import { resolveFamily, startEvaluation, type StartBindings } from "./start";

export interface StartedEvaluation {
  id: string;
  family: string;
  state: EvaluationRecord["state"];
  estimate: EvaluationRecord["estimate"];
}

export type StartRequestedOutcome =
  | { kind: "started"; evaluations: StartedEvaluation[] }
  /** A named family is neither registered nor the built-in reference family: nothing was started. */
  | { kind: "unknown_family"; name: string }
  /** A family cannot evaluate this task; the families before it in the request were started. */
  | { kind: "not_startable"; reason: string };

/**
 * An organiser starts evaluations of a submission on the families they name, with an optional token budget. Every
 * name is resolved before anything starts; the starts are audited together once all of them are queued.
 */
export async function startRequestedEvaluations(
  bindings: StartBindings,
  submission: SubmissionRecord,
  names: readonly string[],
  tokenBudget: number | null,
  actor: string,
): Promise<StartRequestedOutcome> {
  const families: StoredFamily[] = [];
  for (const name of names) {
    const family = await resolveFamily(bindings, name);
    if (!family) return { kind: "unknown_family", name };
    families.push(family);
  }
  const started: StartedEvaluation[] = [];
  for (const family of families) {
    const outcome = await startEvaluation(bindings, submission, family, tokenBudget);
    if (!outcome.ok) return { kind: "not_startable", reason: outcome.reason };
    started.push({
      id: outcome.evaluation.id,
      family: family.name,
      state: outcome.evaluation.state,
      estimate: outcome.evaluation.estimate,
    });
  }
  await appendAudit(bindings.DB, {
    at: new Date().toISOString(),
    actor,
    action: "evaluation.start",
    submissionId: submission.id,
    detail: { evaluations: started.map(({ id, family }) => ({ id, family })), tokenBudget },
  }).run();
  return { kind: "started", evaluations: started };
}
