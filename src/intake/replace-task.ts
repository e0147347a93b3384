import { appendAudit } from "../storage/audit";
import { isEditableState } from "../submission-states";
import { supersedeOpenEvaluationsStatement } from "../storage/evaluations";
import {
  csvBytesInUse,
  findSubmissionByCsvHash,
  getSubmission,
  keepVersionStatement,
  replaceFileStatement,
  type StoredFile,
  type SubmissionRecord,
} from "../storage/submissions";
import type { ValidationLimits } from "../validate/report";
import type { TaskReport } from "../validate/zip/files-report";
import { insertSubmissionFileStatements } from "../storage/submission-files";
import { checkTaskFiles, describeFiles, storeFiles, undoFiles, type FileSet } from "./receive-files";
import { readFormatChoice } from "../validate/task-file";
import { stageTaskFile } from "./receive-task";
import type { StorageBindings } from "../storage/bindings";

export type ReplaceOutcome =
  | { kind: "replaced"; submission: SubmissionRecord }
  | { kind: "invalid"; report: TaskReport }
  | { kind: "unchanged"; submission: SubmissionRecord }
  | { kind: "duplicate" }
  | { kind: "conflict" };

/**
 * Replaces a submission's file with a new one, validated exactly like an upload (against the submission's task
 * type and format: a behaviour task's file stays a model-written evaluation, read with its recorded template). The old file stays in R2 and is listed in submission_versions; evaluations of the old file still open are
 * ended as superseded, and results, analyses and uploads of the old version stop counting. A submission waiting
 * on requested changes goes back to review. All of the record changes are one D1 batch: a concurrent replacement
 * (the kept version's key) or decision (the replacement's state guard) makes the whole batch fail, and nothing
 * of the new version is recorded.
 */
export async function replaceTaskFile(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  file: AsyncIterable<Uint8Array>,
  limits: ValidationLimits,
): Promise<ReplaceOutcome> {
  const staged = submission.metadata.files
    ? await stageNewFiles(bindings, submission, file, limits)
    : await stageNewFile(bindings, submission, file, limits);
  if (staged.kind !== "staged") return staged;
  const { next, set } = staged;
  const at = new Date().toISOString();
  const version = submission.fileVersion + 1;
  const db = bindings.DB;
  try {
    await db.batch([
      keepVersionStatement(db, submission, at),
      replaceFileStatement(db, submission.id, next, version, at),
      supersedeOpenEvaluationsStatement(
        db,
        submission.id,
        `superseded: the submitter replaced the file (version ${version})`,
        at,
      ),
      ...(set ? insertSubmissionFileStatements(db, submission.id, version, set.files) : []),
      appendAudit(db, {
        at,
        actor: "submitter",
        action: "submission.replace_file",
        submissionId: submission.id,
        detail: {
          before: {
            version: submission.fileVersion,
            sha256: submission.csvSha256,
            examples: submission.exampleCount,
            state: submission.state,
          },
          after: { version, sha256: next.csvSha256, examples: next.exampleCount, state: "valid" },
        },
      }),
    ]);
  } catch (error) {
    // The batch wrote nothing; remove the new objects unless another record came to use the same bytes.
    // (The same bytes may be an earlier version of this or another task, whose objects must stay.)
    const owner = await findSubmissionByCsvHash(db, next.csvSha256).catch(() => undefined);
    if (set) await undoFiles(bindings, set);
    else if (!(await csvBytesInUse(db, next.csvSha256).catch(() => true)))
      await bindings.BLOBS.delete([next.csvKey, next.examplesKey]).catch(() => undefined);
    if (owner && owner.id !== submission.id) return { kind: "duplicate" };
    const now = await getSubmission(db, submission.id);
    if (now && (now.fileVersion !== submission.fileVersion || !isEditableState(now.state))) return { kind: "conflict" };
    throw error;
  }
  return {
    kind: "replaced",
    submission: { ...submission, ...next, fileVersion: version, state: "valid", updatedAt: at },
  };
}

/** A new file checked and kept, ready to record as the next version; `set` for a task of several files. */
type StagedReplacement =
  | Exclude<ReplaceOutcome, { kind: "replaced" }>
  | { kind: "staged"; next: StoredFile; set?: FileSet };

/**
 * One new task file, validated exactly like an upload against the submission's task type and format (a behaviour
 * task's file stays a model-written evaluation, read with its recorded template), then kept.
 */
async function stageNewFile(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  file: AsyncIterable<Uint8Array>,
  limits: ValidationLimits,
): Promise<StagedReplacement> {
  // The upload's own choices, checked then: the format is the task's, whatever the stored metadata says of it.
  const format = submission.taskType === "behaviour" ? "mwe" : "csv";
  const choice = readFormatChoice({ ...submission.metadata, format });
  if (!choice.ok) throw new Error(`submission ${submission.id} has format choices it was not uploaded with`);
  const staged = await stageTaskFile(bindings, file, submission.taskType, limits, choice.choice);
  if (staged.kind === "invalid") return { kind: "invalid", report: staged.report };
  if (staged.sha256 === submission.csvSha256) {
    await staged.discard();
    return { kind: "unchanged", submission };
  }
  if (await findSubmissionByCsvHash(bindings.DB, staged.sha256)) {
    await staged.discard();
    return { kind: "duplicate" };
  }
  await staged.keep();
  return {
    kind: "staged",
    next: {
      csvSha256: staged.sha256,
      csvKey: staged.fileKey,
      csvBytes: staged.report.stats.bytes,
      examplesKey: staged.examplesKey,
      exampleCount: staged.report.stats.examples,
      report: staged.report,
    },
  };
}

/**
 * A new zip for a task of several files: the files the metadata names, in the roles it gives them (fixed at
 * upload), checked and kept as at upload. The new version's files are recorded with it.
 */
async function stageNewFiles(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  zip: AsyncIterable<Uint8Array>,
  limits: ValidationLimits,
): Promise<StagedReplacement> {
  const outcome = await checkTaskFiles(bindings, { kind: "zip", chunks: zip }, submission.metadata, limits);
  if (outcome.kind === "invalid_metadata")
    throw new Error(`submission ${submission.id} has file roles it was not uploaded with`);
  if (outcome.kind === "invalid") return outcome;
  let set: FileSet | undefined;
  try {
    set = await describeFiles(outcome.checked, submission.metadata);
    const unchanged = set.manifestSha === submission.csvSha256;
    if (unchanged || (await findSubmissionByCsvHash(bindings.DB, set.manifestSha))) {
      await outcome.discard();
      return unchanged ? { kind: "unchanged", submission } : { kind: "duplicate" };
    }
    return { kind: "staged", next: await storeFiles(bindings, set), set };
  } catch (error) {
    // Whatever failed (describing, looking up, keeping), nothing staged or kept stays behind.
    await outcome.discard().catch(() => undefined);
    if (set) await undoFiles(bindings, set);
    throw error;
  }
}
