import { headlineMetricName } from "../analysis/metrics";
import type { SettingsVars } from "../competition/settings";
import type { SubmissionMetadata } from "../generated/types";
import { appendAuditIfChanged } from "../storage/audit";
import { settingsInForce } from "../storage/settings";
import { editMetadataStatement, type SubmissionRecord } from "../storage/submissions";
import { behaviourSettings } from "../validate/task-file";
import { resolveTaskType } from "../validate/task-types";
import { editability, type NotEditable } from "./editable";

export type EditOutcome =
  | { kind: "saved"; submission: SubmissionRecord; metadata: SubmissionMetadata }
  | NotEditable
  /** The edit names another task type or headline metric than the upload fixed; `declared` is the upload's name. */
  | { kind: "task_type_fixed"; declared: string }
  /**
   * The edit names another format, or other behaviour settings, than the upload recorded: they decided how the
   * file was read and its prompts. `field` is the metadata field, `message` says what it must stay.
   */
  | { kind: "format_fixed"; field: "format" | "behaviour" | "files"; message: string }
  /** Review decided the task between reading it and writing the edit: nothing was changed. */
  | { kind: "conflict" };

/**
 * Changes the metadata while the task is editable. The task type stays the file's, and the declared name stays
 * the upload's: it fixed the metric the task is judged on, which results must not be able to change. The edit
 * may leave taskType out or give any name for the same type and headline metric. An edit answering a request
 * for changes puts the task back in review. The edit and its audit entry are one D1 batch, applied only from the
 * state the task was read in.
 */
export async function editMetadata(
  env: { DB: D1Database } & SettingsVars,
  submission: SubmissionRecord,
  metadata: SubmissionMetadata,
  now: Date = new Date(),
): Promise<EditOutcome> {
  const editable = editability(submission, await settingsInForce(env), now);
  if (editable.kind === "not_editable") return editable;
  const declared =
    typeof submission.metadata.taskType === "string" ? submission.metadata.taskType : submission.taskType;
  const requested = metadata.taskType === undefined ? undefined : resolveTaskType(metadata.taskType);
  if (
    requested &&
    (!requested.ok ||
      requested.taskType !== submission.taskType ||
      (headlineMetricName(requested.taskType, metadata.taskType) ?? null) !== submission.headlineMetric)
  ) {
    return { kind: "task_type_fixed", declared };
  }
  const fixed = formatFixed(submission, metadata) ?? filesFixed(submission, metadata);
  if (fixed) return fixed;
  // A behaviour task keeps its recorded format and settings, whether the edit repeats them or leaves them out.
  const behaviour =
    submission.taskType === "behaviour"
      ? { ...metadata, taskType: declared, format: "mwe" as const, behaviour: behaviourSettings(submission.metadata) }
      : { ...metadata, taskType: declared };
  // The files' roles stay the upload's, whether the edit repeats them or leaves them out.
  const { files } = submission.metadata;
  const updated = files ? { ...behaviour, files } : behaviour;
  const at = new Date().toISOString();
  const [change] = await env.DB.batch([
    editMetadataStatement(env.DB, submission.id, submission.state, updated, updated.title, at),
    appendAuditIfChanged(env.DB, {
      at,
      actor: "submitter",
      action: "submission.edit",
      submissionId: submission.id,
      detail: {
        before: { ...submission.metadata, state: submission.state },
        after: { ...updated, state: "valid" },
      },
    }),
  ]);
  if (change?.meta.changes !== 1) return { kind: "conflict" };
  return {
    kind: "saved",
    submission: { ...submission, title: updated.title, metadata: updated, state: "valid", updatedAt: at },
    metadata: updated,
  };
}

/**
 * Why the edit cannot be saved, when it names other files or roles than the upload: the files were stored and
 * evaluated as their roles said (a new file version, or a new task, changes them). Repeating them is fine.
 */
function filesFixed(
  submission: SubmissionRecord,
  metadata: SubmissionMetadata,
): Extract<EditOutcome, { kind: "format_fixed" }> | undefined {
  if (metadata.files === undefined) return undefined;
  const roles = (files: SubmissionMetadata["files"]) =>
    JSON.stringify((files ?? []).map(({ name, role, label, paired }) => [name, role, label ?? null, paired === true]));
  if (roles(metadata.files) === roles(submission.metadata.files)) return undefined;
  return {
    kind: "format_fixed",
    field: "files",
    message:
      submission.metadata.files === undefined
        ? "The task is one file, fixed at upload; send several files as a new task."
        : "The files and their roles are fixed at upload; send new files to change them.",
  };
}

/** Why the edit cannot be saved as it stands, when it changes the format or the behaviour settings. */
function formatFixed(
  submission: SubmissionRecord,
  metadata: SubmissionMetadata,
): Extract<EditOutcome, { kind: "format_fixed" }> | undefined {
  if (submission.taskType !== "behaviour") {
    if (metadata.format === "mwe")
      return { kind: "format_fixed", field: "format", message: "The file is a CSV, fixed at upload." };
    if (metadata.behaviour !== undefined)
      return {
        kind: "format_fixed",
        field: "behaviour",
        message: "Behaviour settings apply only to model-written evaluations; this task is a CSV.",
      };
    return undefined;
  }
  if (metadata.format === "csv")
    return {
      kind: "format_fixed",
      field: "format",
      message: "The file is a model-written evaluation, fixed at upload.",
    };
  if (metadata.behaviour === undefined) return undefined;
  const recorded = behaviourSettings(submission.metadata);
  // Only the settings the edit sends: one it leaves out is kept as recorded, not read as a request for its default
  // (which would refuse `{ matchingBehaviour }` alone whenever the recorded template is not the default).
  const { matchingBehaviour, promptTemplate } = metadata.behaviour;
  if (
    (matchingBehaviour === undefined || matchingBehaviour === recorded.matchingBehaviour) &&
    (promptTemplate === undefined || promptTemplate === recorded.promptTemplate)
  )
    return undefined;
  return {
    kind: "format_fixed",
    field: "behaviour",
    message: `The behaviour settings (matchingBehaviour ${JSON.stringify(recorded.matchingBehaviour)}, promptTemplate ${JSON.stringify(recorded.promptTemplate)}) were fixed at upload: they made the prompts and decide how results read. Submit a new task to change them.`,
  };
}
