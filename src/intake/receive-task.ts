import type { StorageBindings } from "../storage/bindings";
import { headlineMetricName } from "../analysis/metrics";
import {
  csvBytesInUse,
  findSubmissionByCsvHash,
  insertSubmission,
  type SubmissionRecord,
} from "../storage/submissions";
import { exampleLine } from "../storage/examples";
import { PendingBlob } from "../storage/pending-blob";
import type { SubmissionMetadata } from "../generated/types";
import { newToken, SUBMITTER_TOKEN_PREFIX } from "../util/secret-tokens";
import { hex, sha256Hex } from "../util/hash";
import type { ValidationLimits, ValidationReport } from "../validate/report";
import type { TaskType } from "../validate/task-types";
import { TaskFileValidator } from "../validate/validator";

export type IntakeOutcome =
  | { kind: "created"; submission: SubmissionRecord; submitterToken: string }
  | { kind: "duplicate"; submission: SubmissionRecord }
  | { kind: "invalid"; report: ValidationReport };

/** R2 keys: bytes by content, so identical uploads share storage and a record can always be traced to its bytes. */
export const csvKey = (sha256: string): string => `csv/${sha256}.csv`;
export const examplesKey = (sha256: string, taskType: string): string => `examples/${sha256}/${taskType}.jsonl`;

/** A checked upload: invalid (nothing kept), or valid bytes in staging, to be kept under their final keys or discarded. */
export type StagedTaskFile =
  | { kind: "invalid"; report: ValidationReport }
  | {
      kind: "staged";
      sha256: string;
      taskType: TaskType;
      report: ValidationReport;
      keep: () => Promise<void>;
      discard: () => Promise<void>;
    };

/**
 * Validates one task file as it streams, hashing it and writing it (and its normalised examples) to staging in
 * the same pass. An invalid file leaves nothing behind.
 */
export async function stageTaskFile(
  bindings: StorageBindings,
  file: AsyncIterable<Uint8Array>,
  taskType: string | undefined,
  limits: ValidationLimits,
): Promise<StagedTaskFile> {
  const uploadId = crypto.randomUUID();
  const csv = new PendingBlob(bindings.BLOBS, `staging/${uploadId}.csv`);
  const examples = new PendingBlob(bindings.BLOBS, `staging/${uploadId}.jsonl`);
  const encoder = new TextEncoder();
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();

  const validator: TaskFileValidator = new TaskFileValidator({
    limits,
    ...(taskType !== undefined ? { taskType } : {}),
    onExample: (example) => {
      if (!validator.hasErrors) examples.write(encoder.encode(exampleLine(example)));
    },
  });

  try {
    for await (const chunk of file) {
      await validator.write(chunk); // in slices, yielding to other requests between them
      if (validator.stopped) break;
      await digestWriter.write(chunk);
      // Once the file is known to be invalid, storing it is wasted work: keep validating, stop writing.
      if (!validator.hasErrors) {
        csv.write(chunk);
        await csv.flush();
        await examples.flush();
      }
    }
    const report = validator.finish();
    await digestWriter.close();
    if (!report.valid || !report.taskType) {
      await discard(csv, examples);
      return { kind: "invalid", report };
    }
    const sha256 = hex(new Uint8Array(await digest.digest));
    const validType = report.taskType;
    return {
      kind: "staged",
      sha256,
      taskType: validType,
      report,
      keep: async () => {
        await csv.commit(csvKey(sha256), { httpMetadata: { contentType: "text/csv; charset=utf-8" }, sha256 });
        await examples.commit(examplesKey(sha256, validType), {
          httpMetadata: { contentType: "application/x-ndjson" },
        });
      },
      discard: () => discard(csv, examples),
    };
  } catch (error) {
    await discard(csv, examples);
    throw error;
  }
}

/**
 * Receives one task file as a stream: validates it, hashes it and writes it to R2 in the same pass, then records
 * the submission. An invalid file leaves nothing behind; the same bytes submitted twice return the first record.
 */
export async function receiveTaskFile(
  bindings: StorageBindings,
  file: AsyncIterable<Uint8Array>,
  metadata: SubmissionMetadata,
  limits: ValidationLimits,
  round: string | null = null,
): Promise<IntakeOutcome> {
  const staged = await stageTaskFile(bindings, file, metadata.taskType, limits);
  if (staged.kind === "invalid") return staged;
  const { sha256, report, taskType } = staged;
  try {
    const existing = await findSubmissionByCsvHash(bindings.DB, sha256);
    if (existing) {
      await staged.discard();
      return { kind: "duplicate", submission: existing };
    }
    await staged.keep();
    const submitterToken = newToken(SUBMITTER_TOKEN_PREFIX);
    const now = new Date().toISOString();
    // The name the submitter declared (the validator resolved it: classification_acc is a classification task)
    // decides the metric the task is judged on; without one, the type inferred from the header does.
    const declaredType = metadata.taskType ?? taskType;
    const submission: SubmissionRecord = {
      id: crypto.randomUUID(),
      createdAt: now,
      updatedAt: now,
      state: "valid",
      taskType,
      headlineMetric: headlineMetricName(taskType, declaredType) ?? null,
      title: metadata.title,
      metadata: { ...metadata, taskType: declaredType },
      csvSha256: sha256,
      csvKey: csvKey(sha256),
      csvBytes: report.stats.bytes,
      examplesKey: examplesKey(sha256, taskType),
      exampleCount: report.stats.examples,
      report,
      submitterTokenHash: await sha256Hex(submitterToken),
      fileVersion: 1,
      round,
    };
    if (!(await insertOrUndo(bindings, submission))) {
      // Another upload of the same bytes won the race; its objects are these same bytes, so nothing to undo.
      const winner = await findSubmissionByCsvHash(bindings.DB, sha256);
      if (winner) return { kind: "duplicate", submission: winner };
      throw new Error("submission insert reported a conflict but no row holds its hash");
    }
    return { kind: "created", submission, submitterToken };
  } catch (error) {
    await staged.discard();
    throw error;
  }
}

/** Inserts the record; if that fails, removes the objects just placed unless another record uses them. */
async function insertOrUndo(bindings: StorageBindings, submission: SubmissionRecord): Promise<boolean> {
  try {
    return await insertSubmission(bindings.DB, submission);
  } catch (error) {
    // The same bytes may be another task's current or earlier file, whose objects must stay.
    if (!(await csvBytesInUse(bindings.DB, submission.csvSha256).catch(() => true)))
      await bindings.BLOBS.delete([submission.csvKey, submission.examplesKey]).catch(() => undefined);
    throw error;
  }
}

async function discard(...blobs: PendingBlob[]): Promise<void> {
  await Promise.all(blobs.map((blob) => blob.discard()));
}
