import type { CompetitionSettings } from "../competition/settings";
import { describeError } from "../log";
import type { SubmissionRecord } from "../storage/submissions";
import { resolveFamily, startEvaluation, type StartBindings } from "./start";

/** One public family's start, as the submitter is told: the evaluation queued, or why it was not. */
export interface DefaultStart {
  family: string;
  id?: string;
  state?: string;
  error?: string;
}

/**
 * Queues a new valid submission (or a replaced file) on the competition's public families, with its token budget.
 * A family that cannot be started is reported in the result, never fails the upload: the submission is stored
 * either way.
 */
export async function startDefaultEvaluations(
  bindings: StartBindings,
  settings: CompetitionSettings,
  submission: SubmissionRecord,
): Promise<DefaultStart[]> {
  const started: DefaultStart[] = [];
  for (const name of settings.publicFamilies) {
    try {
      const family = await resolveFamily(bindings, name);
      if (!family) {
        started.push({ family: name, error: "not a registered family" });
        continue;
      }
      const outcome = await startEvaluation(bindings, submission, family, settings.tokenBudget);
      started.push(
        outcome.ok
          ? { family: name, id: outcome.evaluation.id, state: outcome.evaluation.state }
          : { family: name, error: outcome.reason },
      );
    } catch (error) {
      console.error(JSON.stringify({ submission: submission.id, family: name, error: describeError(error) }));
      started.push({ family: name, error: "could not be queued; an organiser can start it" });
    }
  }
  return started;
}
