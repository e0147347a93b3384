import { appendAudit } from "../storage/audit";
import type { EvaluationRecord, StoredFamily } from "../storage/evaluations";
import { settingsInForce } from "../storage/settings";
import type { SubmissionRecord } from "../storage/submissions";
import { resolveFamily, startEvaluation, type Refusal, type StartBindings } from "./start";

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
  | { kind: "not_startable"; reason: string; started: StartedEvaluation[] }
  /**
   * A family's evaluation would pass the competition's spend ceiling: it was not queued, nor recorded; the
   * families before it in the request were started.
   */
  | { kind: "refused"; family: string; refused: Refusal; reason: string; started: StartedEvaluation[] };

/**
 * An organiser starts evaluations of a submission on the families they name, with an optional token budget, under
 * the competition's spend ceilings (read once, for all of them). Every name is resolved before anything starts;
 * the starts are audited together once they are queued, or once one cannot be.
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
  const settings = await settingsInForce(bindings);
  const started: StartedEvaluation[] = [];
  let outcome: StartRequestedOutcome = { kind: "started", evaluations: started };
  for (const family of families) {
    const start = await startEvaluation(bindings, submission, family, tokenBudget, { origin: "requested", settings });
    if (!start.ok) {
      outcome = start.refused
        ? { kind: "refused", family: family.name, refused: start.refused, reason: start.reason, started }
        : { kind: "not_startable", reason: start.reason, started };
      break;
    }
    started.push({
      id: start.evaluation.id,
      family: family.name,
      state: start.evaluation.state,
      estimate: start.evaluation.estimate,
    });
  }
  if (started.length > 0)
    await appendAudit(bindings.DB, {
      at: new Date().toISOString(),
      actor,
      action: "evaluation.start",
      submissionId: submission.id,
      detail: { evaluations: started.map(({ id, family }) => ({ id, family })), tokenBudget },
    }).run();
  return outcome;
}
