import { appendAudit } from "../storage/analyses";
import { csvBytesInUse, findSubmissionByCsvHash, getSubmission, type SubmissionRecord } from "../storage/submissions";
import type { ValidationLimits, ValidationReport } from "../validate/report";
import { csvKey, examplesKey, stageTaskFile, type IntakeBindings } from "./receive-task";

export type ReplaceOutcome =
  | { kind: "replaced"; submission: SubmissionRecord }
  | { kind: "invalid"; report: ValidationReport }
  | { kind: "unchanged"; submission: SubmissionRecord }
  | { kind: "duplicate" }
  | { kind: "conflict" };

/** States in which the submitter may still change the task (the round's deadline is checked by the caller). */
export const EDITABLE_STATES = ["valid", "changes_requested"] as const;

/**
 * Replaces a submission's file with a new one, validated exactly like an upload (against the submission's task
 * type). The old file stays in R2 and is listed in submission_versions; evaluations of the old file still open are
 * ended as superseded, and results, analyses and uploads of the old version stop counting. A submission waiting
 * on requested changes goes back to review. All of the record changes are one D1 batch: a concurrent replacement
 * or decision makes the whole batch fail, and nothing of the new version is recorded.
 */
export async function replaceTaskFile(bindings: IntakeBindings, submission: SubmissionRecord, file: AsyncIterable<Uint8Array>, limits: ValidationLimits): Promise<ReplaceOutcome> {
  const staged = await stageTaskFile(bindings, file, submission.taskType, limits);
  if (staged.kind === "invalid") return staged;
  if (staged.sha256 === submission.csvSha256) {
    await staged.discard();
    return { kind: "unchanged", submission };
  }
  if (await findSubmissionByCsvHash(bindings.DB, staged.sha256)) {
    await staged.discard();
    return { kind: "duplicate" };
  }
  await staged.keep();
  const at = new Date().toISOString();
  const version = submission.fileVersion + 1;
  const next = {
    csvSha256: staged.sha256,
    csvKey: csvKey(staged.sha256),
    csvBytes: staged.report.stats.bytes,
    examplesKey: examplesKey(staged.sha256, staged.taskType),
    exampleCount: staged.report.stats.examples,
  };
  const db = bindings.DB;
  try {
    await db.batch([
      // The version row's primary key makes a concurrent replacement of the same version fail the batch.
      db
        .prepare(
          `INSERT INTO submission_versions (submission_id, version, csv_sha256, csv_key, csv_bytes, examples_key, example_count, report_json, replaced_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
        )
        .bind(submission.id, submission.fileVersion, submission.csvSha256, submission.csvKey, submission.csvBytes, submission.examplesKey, submission.exampleCount, JSON.stringify(submission.report), at),
      // A decision taken meanwhile leaves no editable state: file_version becomes NULL, which its NOT NULL
      // constraint refuses, failing the batch (SQLite has no other way to abort from a plain UPDATE).
      db
        .prepare(
          `UPDATE submissions SET csv_sha256 = ?2, csv_key = ?3, csv_bytes = ?4, examples_key = ?5, example_count = ?6, report_json = ?7,
             file_version = CASE WHEN state IN ('valid', 'changes_requested') AND file_version = ?8 - 1 THEN ?8 ELSE NULL END,
             state = 'valid', updated_at = ?9
           WHERE id = ?1`,
        )
        .bind(submission.id, next.csvSha256, next.csvKey, next.csvBytes, next.examplesKey, next.exampleCount, JSON.stringify(staged.report), version, at),
      db
        .prepare("UPDATE evaluations SET state = 'failed', reason = ?2, finished_at = ?3, updated_at = ?3 WHERE submission_id = ?1 AND state IN ('queued', 'evaluating')")
        .bind(submission.id, `superseded: the submitter replaced the file (version ${version})`, at),
      appendAudit(db, {
        at,
        actor: "submitter",
        action: "submission.replace_file",
        submissionId: submission.id,
        detail: { before: { version: submission.fileVersion, sha256: submission.csvSha256, examples: submission.exampleCount, state: submission.state }, after: { version, sha256: next.csvSha256, examples: next.exampleCount, state: "valid" } },
      }),
    ]);
  } catch (error) {
    // The batch wrote nothing; remove the new objects unless another record came to use the same bytes.
    // (The same bytes may be an earlier version of this or another task, whose objects must stay.)
    const owner = await findSubmissionByCsvHash(db, next.csvSha256).catch(() => undefined);
    if (!(await csvBytesInUse(db, next.csvSha256).catch(() => true))) await bindings.BLOBS.delete([next.csvKey, next.examplesKey]).catch(() => undefined);
    if (owner && owner.id !== submission.id) return { kind: "duplicate" };
    const now = await getSubmission(db, submission.id);
    if (now && (now.fileVersion !== submission.fileVersion || !(EDITABLE_STATES as readonly string[]).includes(now.state))) return { kind: "conflict" };
    throw error;
  }
  return { kind: "replaced", submission: { ...submission, ...next, report: staged.report, fileVersion: version, state: "valid", updatedAt: at } };
}
