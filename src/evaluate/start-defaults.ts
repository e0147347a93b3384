import type { CompetitionSettings } from "../competition/settings";
import { describeError } from "../log";
import type { SubmissionRecord } from "../storage/submissions";
import { resolveFamily, startEvaluation, type Refusal, type StartBindings } from "./start";

/** One public family's start, as the submitter is told: the evaluation queued, or refused and why, or why not. */
export interface DefaultStart {
  family: string;
  id?: string;
  state?: string;
  /** The limit that refused it before queueing (its record is kept, failed, with `error` as its reason). */
  refused?: Refusal;
  error?: string;
}

/**
 * Queues a new valid submission (or a replaced file) on the competition's public families, as automatic
 * evaluations: each with the competition's token budget, counted against the daily cap and the spend ceilings.
 * A family that cannot be started, or is refused by a limit, is reported in the result, never fails the upload:
 * the submission is stored either way.
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
      const outcome = await startEvaluation(bindings, submission, family, settings.tokenBudget, {
        origin: "automatic",
        settings,
      });
      if (outcome.ok) started.push({ family: name, id: outcome.evaluation.id, state: outcome.evaluation.state });
      else if (outcome.refused && outcome.evaluation)
        started.push({
          family: name,
          id: outcome.evaluation.id,
          state: outcome.evaluation.state,
          refused: outcome.refused,
          error: outcome.reason,
        });
      else started.push({ family: name, error: outcome.reason });
    } catch (error) {
      console.error(JSON.stringify({ submission: submission.id, family: name, error: describeError(error) }));
      started.push({ family: name, error: "could not be queued; an organiser can start it" });
    }
  }
  return started;
}
