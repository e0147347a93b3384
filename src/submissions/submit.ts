import type { CompetitionSettings } from "../competition/settings";
import { startDefaultEvaluations, type DefaultStart, type DefaultStartBindings } from "../evaluate/start-defaults";
import type { SubmissionMetadata } from "../generated/types";
import { receiveTaskFile, type IntakeOutcome } from "../intake/receive-task";
import type { ValidationLimits } from "../validate/report";

export type SubmitOutcome =
  | Exclude<IntakeOutcome, { kind: "created" }>
  | (Extract<IntakeOutcome, { kind: "created" }> & { evaluations: DefaultStart[] });

/**
 * A new task: received as it streams (validated, hashed and stored, or refused), then, if it is new, queued on the
 * competition's public families. A duplicate or invalid file starts nothing.
 */
export async function submitTask(
  bindings: DefaultStartBindings,
  settings: CompetitionSettings,
  file: AsyncIterable<Uint8Array>,
  metadata: SubmissionMetadata,
  limits: ValidationLimits,
  round: string | null,
  /** The uploader (clientKey), whose allowance of automatic evaluations they count against. */
  client: string | null = null,
): Promise<SubmitOutcome> {
  const outcome = await receiveTaskFile(bindings, file, metadata, limits, round);
  if (outcome.kind !== "created") return outcome;
  return { ...outcome, evaluations: await startDefaultEvaluations(bindings, settings, outcome.submission, client) };
}
