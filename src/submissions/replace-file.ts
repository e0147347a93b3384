import type { CompetitionSettings } from "../competition/settings";
import { startDefaultEvaluations, type DefaultStart, type DefaultStartBindings } from "../evaluate/start-defaults";
import { replaceTaskFile, type ReplaceOutcome } from "../intake/replace-task";
import type { SubmissionRecord } from "../storage/submissions";
import type { ValidationLimits } from "../validate/report";

export type ReplaceFileOutcome =
  | Exclude<ReplaceOutcome, { kind: "replaced" }>
  | (Extract<ReplaceOutcome, { kind: "replaced" }> & { evaluations: DefaultStart[] });

/**
 * A new file for an editable task (the caller checked `editability` before reading the body): replaced as it
 * streams, validated against the task's type, then queued afresh on the competition's public families. The old
 * file is kept; an unchanged, duplicate, invalid or conflicting file starts nothing.
 */
export async function replaceFile(
  bindings: DefaultStartBindings,
  settings: CompetitionSettings,
  submission: SubmissionRecord,
  file: AsyncIterable<Uint8Array>,
  limits: ValidationLimits,
  /** The uploader (clientKey), whose allowance of automatic evaluations they count against. */
  client: string | null = null,
): Promise<ReplaceFileOutcome> {
  const outcome = await replaceTaskFile(bindings, submission, file, limits);
  if (outcome.kind !== "replaced") return outcome;
  return { ...outcome, evaluations: await startDefaultEvaluations(bindings, settings, outcome.submission, client) };
}
