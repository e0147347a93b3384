import type { CompetitionSettings } from "../competition/settings";
import { startDefaultEvaluations, type DefaultStart, type DefaultStartBindings } from "../evaluate/start-defaults";
import type { SubmissionMetadata } from "../generated/types";
import { receiveTaskFiles, type TaskFilesUpload } from "../intake/receive-files";
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
  /** One task file's bytes, or a zip or several files (whose metadata names each file's role). */
  files: AsyncIterable<Uint8Array> | TaskFilesUpload,
  metadata: SubmissionMetadata,
  limits: ValidationLimits,
  round: string | null,
  /** The uploader (clientKey), whose allowance of automatic evaluations they count against. */
  client: string | null = null,
): Promise<SubmitOutcome> {
  const outcome =
    "kind" in files
      ? await receiveTaskFiles(bindings, files, metadata, limits, round)
      : await receiveTaskFile(bindings, files, metadata, limits, round);
  if (outcome.kind !== "created") return outcome;
  return { ...outcome, evaluations: await startDefaultEvaluations(bindings, settings, outcome.submission, client) };
}
