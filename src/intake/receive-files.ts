/**
 * Intake of a submission of several task files: a zip, or several upload parts named `file`. Each file is checked
 * as it streams, exactly as a file sent alone (stage-files.ts; the zip by the strict reader in src/validate/zip/),
 * then the metadata's roles are checked against what came (file-roles.ts). A valid set is kept file by file under
 * the keys a single upload of each would use, its examples joined into one list in the metadata's order, and
 * recorded with its files in one batch (a new submission here; a new file version in replace-task.ts). Anything
 * invalid or failing leaves nothing behind.
 */

import type { FilesReport, SubmissionMetadata } from "../generated/types";
import type { StorageBindings } from "../storage/bindings";
import { PendingBlob } from "../storage/pending-blob";
import { fileBytesInUse, insertSubmissionFileStatements, type SubmissionFile } from "../storage/submission-files";
import { csvBytesInUse, findSubmissionByCsvHash, insertSubmissionStatement } from "../storage/submissions";
import { sha256Hex } from "../util/hash";
import type { ValidationLimits } from "../validate/report";
import { behaviourSettings, readFormatChoice } from "../validate/task-file";
import type { TaskType } from "../validate/task-types";
import { withIssues } from "../validate/zip/files-report";
import { declaredFileProblems, fileNameKey, planFiles, type PlannedFile } from "./file-roles";
import {
  examplesKey,
  newSubmission,
  promptsVariant,
  taskFileKey,
  type IntakeOutcome,
  type SubmittedFile,
} from "./receive-task";
import { CONTENT_TYPES, FileStage, stageParts, stageZip, type TaskFilesUpload } from "./stage-files";

export type { TaskFilesUpload };

/** A valid set of files, staged: what was read, the plan of the metadata's roles, and each file's stage. */
interface CheckedFiles {
  report: FilesReport;
  plan: PlannedFile[];
  stages: Map<string, FileStage>;
  taskType: TaskType;
}

export type CheckOutcome =
  | Extract<IntakeOutcome, { kind: "invalid_metadata" | "invalid" }>
  /** Valid and staged: the caller keeps it (storeFiles) or discards it. */
  | { kind: "checked"; checked: CheckedFiles; discard: () => Promise<void> };

/**
 * Checks a submission's files as they stream into staging. The metadata must name every file with its role; what
 * it says of them alone is checked before any byte is read (invalid_metadata), the rest once the files are read
 * (the report). An invalid set, or any failure, leaves nothing in staging.
 */
export async function checkTaskFiles(
  bindings: StorageBindings,
  upload: TaskFilesUpload,
  metadata: SubmissionMetadata,
  limits: ValidationLimits,
): Promise<CheckOutcome> {
  const declared = metadata.files;
  if (declared === undefined)
    return {
      kind: "invalid_metadata",
      fields: [{ field: "files", message: "is required for several files: name each file and its role" }],
    };
  const choice = readFormatChoice(metadata);
  if (!choice.ok) return { kind: "invalid_metadata", fields: choice.fields };
  const problems = declaredFileProblems(declared);
  if (problems.length > 0) return { kind: "invalid_metadata", fields: problems };

  const uploadId = crypto.randomUUID();
  // Every file staged, so that whatever happens next (a refusal, a broken body, a failing R2) all of them go.
  const stages = new Map<string, FileStage>();
  const stage = (name: string): FileStage => {
    const opened = new FileStage(bindings.BLOBS, name, `staging/${uploadId}-${stages.size}`);
    stages.set(name, opened);
    return opened;
  };
  // A part may be small: the task is its parts together, whose size planFiles checks.
  const fileLimits = { ...limits, minExamples: 1 };
  // The declared type is the parts': a control or variant is checked as what its header says.
  const parts = new Set(declared.filter((file) => file.role === "part").map((file) => fileNameKey(file.name)));
  const taskTypeOf = (name: string): string | undefined =>
    parts.has(fileNameKey(name)) ? metadata.taskType : undefined;
  const fileOptions = { limits: fileLimits, taskTypeOf };
  const discardAll = (): Promise<unknown> => Promise.all([...stages.values()].map((opened) => opened.discard()));
  try {
    const staged =
      upload.kind === "zip"
        ? await stageZip(upload.chunks, fileOptions, choice.choice.template, stage)
        : await stageParts(upload.parts, fileOptions, choice.choice.template, stage, fileLimits);
    const read = staged.report.files.map((file) => ({
      name: file.name,
      taskType: file.report.valid ? file.report.taskType : null,
      examples: file.report.stats.examples,
    }));
    const { issues, plan, taskType } = planFiles(declared, read, metadata.taskType, limits.minExamples);
    const roles = new Map(plan.map((file) => [file.name, file]));
    const report = withIssues(
      {
        ...staged.report,
        files: staged.report.files.map((file) => {
          const planned = roles.get(file.name);
          if (!planned) return file;
          return { ...file, role: planned.role, ...(planned.label !== null && { label: planned.label }) };
        }),
      },
      issues,
    );
    if (!report.valid || !taskType) {
      await discardAll();
      return { kind: "invalid", report };
    }
    return {
      kind: "checked",
      checked: { report, plan, stages, taskType },
      discard: async () => void (await discardAll()),
    };
  } catch (error) {
    await discardAll().catch(() => undefined);
    throw error;
  }
}

/**
 * A checked set as it will be kept: each file with its keys, and the set's manifest (each file's name, role, label,
 * pairing and bytes' hash, in order, with the task type and any prompt template), whose hash names the set: the same
 * files in the same roles are a duplicate, the same files in other roles another task.
 */
export interface FileSet {
  checked: CheckedFiles;
  files: SubmissionFile[];
  manifestSha: string;
  manifestKey: string;
  /** The files' examples joined, in the metadata's order: what the submission is evaluated on. */
  examplesKey: string;
  manifest: object;
}

export async function describeFiles(checked: CheckedFiles, metadata: SubmissionMetadata): Promise<FileSet> {
  const { report, plan, stages, taskType } = checked;
  const prompts =
    taskType === "behaviour" ? await promptsVariant(behaviourSettings(metadata).promptTemplate) : undefined;
  const files: SubmissionFile[] = plan.map((planned) => {
    const stage = stages.get(planned.name);
    const read = report.files.find((file) => file.name === planned.name);
    if (!stage || !read) throw new Error(`planned file ${planned.name} was not staged`);
    // A control may be of another type than the task's: its own examples are kept under its own type.
    const ownType = read.report.taskType ?? taskType;
    return {
      ...planned,
      sha256: stage.sha256,
      fileKey: taskFileKey(stage.sha256, read.kind),
      examplesKey: examplesKey(stage.sha256, ownType, ownType === "behaviour" ? prompts : undefined),
      bytes: read.report.stats.bytes,
    };
  });
  const manifest = {
    taskType,
    ...(prompts !== undefined && { prompts }),
    files: files.map(({ name, role, label, paired, sha256 }) => ({ name, role, label, paired, sha256 })),
  };
  const manifestSha = await sha256Hex(JSON.stringify(manifest));
  return {
    checked,
    files,
    manifestSha,
    manifestKey: `files/${manifestSha}.json`,
    examplesKey: examplesKey(manifestSha, taskType, prompts),
    manifest,
  };
}

/**
 * Keeps a described set: each file and its examples under their keys, the manifest, and the joined examples; what
 * a submission's record says of them. On failure the caller undoes it (undoFiles).
 */
export async function storeFiles(bindings: StorageBindings, set: FileSet): Promise<SubmittedFile> {
  const { checked, files } = set;
  for (const file of files) {
    const stage = checked.stages.get(file.name);
    const kind = checked.report.files.find((read) => read.name === file.name)?.kind ?? "csv";
    const type = { httpMetadata: { contentType: CONTENT_TYPES[kind] }, sha256: file.sha256 };
    await stage?.file.commit(file.fileKey, type);
    await stage?.examples.commit(file.examplesKey, { httpMetadata: { contentType: "application/x-ndjson" } });
  }
  await bindings.BLOBS.put(set.manifestKey, JSON.stringify({ ...set.manifest, files }), {
    httpMetadata: { contentType: "application/json" },
  });
  await joinExamples(bindings.BLOBS, files, set.examplesKey);
  return {
    csvSha256: set.manifestSha,
    csvKey: set.manifestKey,
    csvBytes: files.reduce((sum, file) => sum + file.bytes, 0),
    examplesKey: set.examplesKey,
    exampleCount: files.reduce((sum, file) => sum + file.exampleCount, 0),
    report: checked.report,
  };
}

/** A new submission of several files: checked, kept and recorded with its files in one batch. */
export async function receiveTaskFiles(
  bindings: StorageBindings,
  upload: TaskFilesUpload,
  metadata: SubmissionMetadata,
  limits: ValidationLimits,
  round: string | null = null,
): Promise<IntakeOutcome> {
  const outcome = await checkTaskFiles(bindings, upload, metadata, limits);
  if (outcome.kind !== "checked") return outcome;
  const set = await describeFiles(outcome.checked, metadata).catch(async (error: unknown) => {
    await outcome.discard();
    throw error;
  });
  const existing = await findSubmissionByCsvHash(bindings.DB, set.manifestSha);
  if (existing) {
    await outcome.discard();
    return { kind: "duplicate", submission: existing };
  }
  try {
    const { submission, submitterToken } = await newSubmission(
      metadata,
      set.checked.taskType,
      round,
      await storeFiles(bindings, set),
    );
    try {
      await bindings.DB.batch([
        insertSubmissionStatement(bindings.DB, submission, "fail"),
        ...insertSubmissionFileStatements(bindings.DB, submission.id, 1, set.files),
      ]);
    } catch (error) {
      // Another upload of the same files and roles won the race: its objects are these same bytes.
      const winner = await findSubmissionByCsvHash(bindings.DB, set.manifestSha);
      if (winner) return { kind: "duplicate", submission: winner };
      throw error;
    }
    return { kind: "created", submission, submitterToken };
  } catch (error) {
    await outcome.discard().catch(() => undefined);
    await undoFiles(bindings, set);
    throw error;
  }
}

/** The files' examples, one after another in the metadata's order: the list the submission is evaluated on. */
async function joinExamples(bucket: R2Bucket, files: readonly SubmissionFile[], key: string): Promise<void> {
  const joined = new PendingBlob(bucket, `staging/${crypto.randomUUID()}.jsonl`);
  try {
    for (const file of files) {
      const object = await bucket.get(file.examplesKey);
      if (!object) throw new Error(`examples ${file.examplesKey} vanished before they were joined`);
      for await (const chunk of object.body) {
        joined.write(chunk);
        await joined.flush();
      }
    }
    await joined.commit(key, { httpMetadata: { contentType: "application/x-ndjson" } });
  } catch (error) {
    await joined.discard().catch(() => undefined);
    throw error;
  }
}

/** Removes what a failed recording placed, but never objects another record uses (the same bytes). */
export async function undoFiles(bindings: StorageBindings, set: FileSet): Promise<void> {
  const { files, manifestSha } = set;
  const inUse = async (sha256: string): Promise<boolean> =>
    (await csvBytesInUse(bindings.DB, sha256).catch(() => true)) ||
    (await fileBytesInUse(bindings.DB, sha256).catch(() => true));
  const unused: string[] = [];
  for (const file of files) if (!(await inUse(file.sha256))) unused.push(file.fileKey, file.examplesKey);
  if (!(await inUse(manifestSha))) unused.push(set.manifestKey, set.examplesKey);
  if (unused.length > 0) await bindings.BLOBS.delete(unused).catch(() => undefined);
}
