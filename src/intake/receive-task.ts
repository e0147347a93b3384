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
import type { TaskReport } from "../validate/zip/files-report";
import {
  AnyTaskFileValidator,
  behaviourSettings,
  readFormatChoice,
  type FormatChoice,
  type TaskFileKind,
} from "../validate/task-file";
import type { TaskType } from "../validate/task-types";
import { DEFAULT_PROMPT_TEMPLATE } from "../validate/mwe/template";

export type IntakeOutcome =
  | { kind: "created"; submission: SubmissionRecord; submitterToken: string }
  | { kind: "duplicate"; submission: SubmissionRecord }
  | { kind: "invalid"; report: TaskReport }
  /** The metadata's format, task type and behaviour settings contradict each other: the file was not read. */
  | { kind: "invalid_metadata"; fields: { field: string; message: string }[] };

/**
 * R2 keys: bytes by content, so identical uploads share storage and a record can always be traced to its bytes.
 * A model-written evaluation is kept under mwe/, as .jsonl (JSON Lines) or .json (one JSON array), as it came.
 */
export const csvKey = (sha256: string): string => `csv/${sha256}.csv`;
export const taskFileKey = (sha256: string, kind: TaskFileKind): string =>
  kind === "csv" ? csvKey(sha256) : `mwe/${sha256}.${kind === "jsonl" ? "jsonl" : "json"}`;
/**
 * The normalised examples: by content and task type, and for a model-written evaluation by its prompt template too,
 * since the same bytes with another template are other prompts (`prompts`: a hash of the template's text).
 */
export const examplesKey = (sha256: string, taskType: string, prompts?: string): string =>
  `examples/${sha256}/${taskType}${prompts === undefined ? "" : `-${prompts}`}.jsonl`;

/** What a behaviour task's examples key says of its template: the start of the template text's SHA-256. */
export async function promptsVariant(template: string): Promise<string> {
  return (await sha256Hex(template)).slice(0, 16);
}

const CONTENT_TYPES: Record<TaskFileKind, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
  json_array: "application/json; charset=utf-8",
};

/** A checked upload: invalid (nothing kept), or valid bytes in staging, to be kept under their final keys or discarded. */
export type StagedTaskFile =
  | { kind: "invalid"; report: ValidationReport }
  | {
      kind: "staged";
      sha256: string;
      /** What the bytes are, and the key they are kept under. */
      fileKind: TaskFileKind;
      fileKey: string;
      taskType: TaskType;
      /** Where the normalised examples are kept (examplesKey). */
      examplesKey: string;
      report: ValidationReport;
      keep: () => Promise<void>;
      discard: () => Promise<void>;
    };

/**
 * Validates one task file as it streams, in either format (src/validate/task-file.ts: declared in `choice`, or
 * read from its first bytes), hashing it and writing it (and its normalised examples) to staging in the same
 * pass. An invalid file leaves nothing behind.
 */
export async function stageTaskFile(
  bindings: StorageBindings,
  file: AsyncIterable<Uint8Array>,
  taskType: string | undefined,
  limits: ValidationLimits,
  choice?: FormatChoice,
): Promise<StagedTaskFile> {
  const uploadId = crypto.randomUUID();
  // The staging name cannot say the format: it is known only once the first bytes have been read.
  const csv = new PendingBlob(bindings.BLOBS, `staging/${uploadId}.upload`);
  const examples = new PendingBlob(bindings.BLOBS, `staging/${uploadId}.jsonl`);
  const encoder = new TextEncoder();
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();

  const validator: AnyTaskFileValidator = new AnyTaskFileValidator({
    limits,
    ...(taskType !== undefined ? { taskType } : {}),
    ...(choice ? { choice } : {}),
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
    const fileKind = validator.kind ?? "csv";
    const fileKey = taskFileKey(sha256, fileKind);
    const prompts =
      validType === "behaviour" ? await promptsVariant(choice?.template.text ?? DEFAULT_PROMPT_TEMPLATE) : undefined;
    const examplesObject = examplesKey(sha256, validType, prompts);
    return {
      kind: "staged",
      sha256,
      fileKind,
      fileKey,
      taskType: validType,
      examplesKey: examplesObject,
      report,
      keep: async () => {
        await csv.commit(fileKey, { httpMetadata: { contentType: CONTENT_TYPES[fileKind] }, sha256 });
        await examples.commit(examplesObject, {
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
 * A behaviour task's metadata records its format and the behaviour settings used, defaults filled in: they decide
 * its prompts and how its results read, and cannot change after upload.
 */
export async function receiveTaskFile(
  bindings: StorageBindings,
  file: AsyncIterable<Uint8Array>,
  metadata: SubmissionMetadata,
  limits: ValidationLimits,
  round: string | null = null,
): Promise<IntakeOutcome> {
  const choice = readFormatChoice(metadata);
  if (!choice.ok) return { kind: "invalid_metadata", fields: choice.fields };
  const staged = await stageTaskFile(bindings, file, metadata.taskType, limits, choice.choice);
  if (staged.kind === "invalid") return staged;
  const { sha256, report, taskType } = staged;
  try {
    const existing = await findSubmissionByCsvHash(bindings.DB, sha256);
    if (existing) {
      await staged.discard();
      return { kind: "duplicate", submission: existing };
    }
    await staged.keep();
    const { submission, submitterToken } = await newSubmission(metadata, taskType, round, {
      csvSha256: sha256,
      csvKey: staged.fileKey,
      csvBytes: report.stats.bytes,
      examplesKey: staged.examplesKey,
      exampleCount: report.stats.examples,
      report,
    });
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

/** What a new submission's record says of its file (or files): their hash, keys, sizes and report. */
export type SubmittedFile = Pick<
  SubmissionRecord,
  "csvSha256" | "csvKey" | "csvBytes" | "examplesKey" | "exampleCount" | "report"
>;

/**
 * A new submission's record, in review, and its submitter token (shown once; only its hash is kept). A behaviour
 * task's metadata records its format and the behaviour settings used, defaults filled in.
 */
export async function newSubmission(
  metadata: SubmissionMetadata,
  taskType: TaskType,
  round: string | null,
  file: SubmittedFile,
): Promise<{ submission: SubmissionRecord; submitterToken: string }> {
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
    metadata:
      taskType === "behaviour"
        ? { ...metadata, taskType: declaredType, format: "mwe", behaviour: behaviourSettings(metadata) }
        : { ...metadata, taskType: declaredType },
    ...file,
    submitterTokenHash: await sha256Hex(submitterToken),
    fileVersion: 1,
    round,
  };
  return { submission, submitterToken };
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
