/**
 * Intake of a submission of several task files: a zip, or several upload parts named `file`. Each file is checked
 * as it streams, exactly as a file sent alone (the zip by the strict reader in src/validate/zip/), and staged with
 * its examples; then the metadata's roles are checked against what came (file-roles.ts). A valid set is kept file by
 * file under the keys a single upload of each would use, its examples joined into one list in the metadata's
 * order, and recorded with its files in one batch. Anything invalid leaves nothing behind.
 */

import { METRICS, headlineMetricName } from "../analysis/metrics";
import type { FilesReport, SubmissionMetadata } from "../generated/types";
import type { StorageBindings } from "../storage/bindings";
import { exampleLine } from "../storage/examples";
import { PendingBlob } from "../storage/pending-blob";
import { fileBytesInUse, insertSubmissionFileStatements, type SubmissionFile } from "../storage/submission-files";
import { csvBytesInUse, findSubmissionByCsvHash, insertSubmissionStatement } from "../storage/submissions";
import { hex, sha256Hex } from "../util/hash";
import type { PromptTemplate } from "../validate/mwe/template";
import type { ValidationLimits } from "../validate/report";
import type { Example } from "../validate/row-rules";
import { AnyTaskFileValidator, behaviourSettings, readFormatChoice, type TaskFileKind } from "../validate/task-file";
import type { TaskType } from "../validate/task-types";
import { archiveIssue } from "../validate/zip/archive-issues";
import { classifyEntryName, shownName } from "../validate/zip/entry-name";
import { withIssues } from "../validate/zip/files-report";
import { DEFAULT_ZIP_LIMITS } from "../validate/zip/limits";
import { ZipValidator, ZIP_REPORT_SCHEMA_VERSION, type ZipEntryStage } from "../validate/zip/zip-validator";
import { declaredFileProblems, fileNameKey, planFiles, type PlannedFile } from "./file-roles";
import { examplesKey, newSubmission, promptsVariant, taskFileKey, type IntakeOutcome } from "./receive-task";

/** The files of one upload: a zip's bytes, or the upload's `file` parts, each with the filename it was sent with. */
export type TaskFilesUpload =
  | { kind: "zip"; chunks: AsyncIterable<Uint8Array> }
  | { kind: "parts"; parts: AsyncIterable<{ filename: string | undefined; chunks: AsyncIterable<Uint8Array> }> };

type UploadParts = Extract<TaskFilesUpload, { kind: "parts" }>["parts"];

/** A task file's bytes and examples on their way to R2 staging, hashed as they come. */
class FileStage implements ZipEntryStage {
  readonly file: PendingBlob;
  readonly examples: PendingBlob;
  private readonly digest = new crypto.DigestStream("SHA-256");
  private readonly digestWriter = this.digest.getWriter();
  private readonly encoder = new TextEncoder();
  private invalid = false;
  exampleCount = 0;
  sha256 = "";

  constructor(
    bucket: R2Bucket,
    readonly name: string,
    stagingPrefix: string,
  ) {
    this.file = new PendingBlob(bucket, `${stagingPrefix}.upload`);
    this.examples = new PendingBlob(bucket, `${stagingPrefix}.jsonl`);
  }

  example(example: Example): void {
    if (this.invalid) return;
    this.examples.write(this.encoder.encode(exampleLine(example)));
    this.exampleCount++;
  }

  /** Once a file is known to be invalid, storing it is wasted work: it is still hashed, never written. */
  async data(bytes: Uint8Array, invalid: boolean): Promise<void> {
    await this.digestWriter.write(bytes);
    this.invalid ||= invalid;
    if (this.invalid) return;
    this.file.write(bytes);
    await this.file.flush();
    await this.examples.flush();
  }

  /** Parks both objects in staging, so the next file's bytes are not held in memory beside these. */
  async end(): Promise<void> {
    await this.digestWriter.close();
    this.sha256 = hex(new Uint8Array(await this.digest.digest));
    // An invalid file is never kept: what it buffered goes now, not with the rest at the end.
    if (this.invalid) return this.discard();
    await this.file.complete();
    await this.examples.complete();
  }

  async discard(): Promise<void> {
    await Promise.all([this.file.discard(), this.examples.discard()]);
  }
}

const CONTENT_TYPES: Record<TaskFileKind, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
  json_array: "application/json; charset=utf-8",
};

/** Every file checked and staged: the report (the stages are the caller's). */
interface StagedFiles {
  report: FilesReport;
}

/**
 * Receives a submission of several files. The metadata must name every file with its role; what it says of them
 * alone is checked before any byte is read (invalid_metadata), the rest once the files are read (the report).
 */
export async function receiveTaskFiles(
  bindings: StorageBindings,
  upload: TaskFilesUpload,
  metadata: SubmissionMetadata,
  limits: ValidationLimits,
  round: string | null = null,
): Promise<IntakeOutcome> {
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
    const comparable = (task: TaskType, other: TaskType): boolean => {
      // A behaviour file is analysed on its behaviour metrics, other tasks on theirs: never compared across.
      if ((task === "behaviour") !== (other === "behaviour")) return false;
      const metric = headlineMetricName(task, metadata.taskType ?? task);
      return metric !== undefined && METRICS[metric].taskTypes.includes(other);
    };
    const { issues, plan, taskType } = planFiles(declared, read, comparable, limits.minExamples);
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
    return await record(bindings, { report, plan, stages, taskType }, metadata, round);
  } catch (error) {
    await discardAll().catch(() => undefined);
    throw error;
  }
}

/** A zip, read by the strict reader, each task file staged as it inflates. */
async function stageZip(
  chunks: AsyncIterable<Uint8Array>,
  file: { limits: ValidationLimits; taskTypeOf: (name: string) => string | undefined },
  template: PromptTemplate,
  stage: (name: string) => FileStage,
): Promise<StagedFiles> {
  const validator = new ZipValidator({
    limits: { maxTotalBytes: file.limits.maxBytes },
    file: { limits: file.limits },
    taskTypeOf: file.taskTypeOf,
    template,
    sink: { open: stage },
  });
  for await (const chunk of chunks) {
    await validator.write(chunk);
    if (validator.stopped) break;
  }
  return { report: validator.finish() };
}

/**
 * Upload parts, each checked as a file sent alone under the byte limit left by the parts before it. A part whose
 * filename is missing, unsafe or not a task file's stops the reading, as an archive error does in a zip.
 */
async function stageParts(
  parts: UploadParts,
  file: { limits: ValidationLimits; taskTypeOf: (name: string) => string | undefined },
  template: PromptTemplate,
  stage: (name: string) => FileStage,
  limits: ValidationLimits,
): Promise<StagedFiles> {
  const issues: FilesReport["issues"] = [];
  const files: FilesReport["files"] = [];
  const names = new Map<string, string>();
  let bytes = 0;
  let count = 0;
  for await (const part of parts) {
    const nameBytes = new TextEncoder().encode(part.filename ?? "");
    // As many files as a zip may hold: each costs staging writes and a report.
    if (++count > DEFAULT_ZIP_LIMITS.maxEntries) {
      issues.push(
        archiveIssue("too_many_entries", `More than ${DEFAULT_ZIP_LIMITS.maxEntries} files; send only the task files.`),
      );
      break;
    }
    const entry = classifyEntryName(nameBytes, DEFAULT_ZIP_LIMITS.maxNameBytes, true);
    const shown = part.filename === undefined ? "" : shownName(nameBytes);
    if (entry.kind !== "task") {
      issues.push(partNameIssue(entry, shown));
      break;
    }
    const earlier = names.get(entry.key);
    if (earlier !== undefined) {
      issues.push(archiveIssue("duplicate_entry", `Sent twice (as ${earlier} too).`, entry.name));
      break;
    }
    names.set(entry.key, entry.name);
    const opened = stage(entry.name);
    const taskType = file.taskTypeOf(entry.name);
    const validator = new AnyTaskFileValidator({
      ...(taskType !== undefined && { taskType }),
      limits: { ...limits, maxBytes: Math.max(0, limits.maxBytes - bytes) },
      choice: { format: entry.format, template, behaviourGiven: false },
      onExample: (example) => opened.example(example),
    });
    let size = 0;
    for await (const chunk of part.chunks) {
      size += chunk.length;
      await validator.write(chunk);
      if (validator.stopped) break;
      await opened.data(chunk, validator.hasErrors);
    }
    bytes += size;
    const report = validator.finish();
    await opened.end();
    const kind = validator.kind ?? (entry.format === "csv" ? "csv" : "jsonl");
    files.push({ name: entry.name, format: entry.format, kind, compressedBytes: size, report });
  }
  if (files.length === 0 && issues.length === 0)
    issues.push(archiveIssue("empty_archive", "No task file was sent; send each as a part named file."));
  const errors = issues.filter((issue) => issue.severity === "error").length;
  const sum = (count: (entry: FilesReport["files"][number]) => number): number =>
    files.reduce((total, entry) => total + count(entry), 0);
  const report: FilesReport = {
    schemaVersion: ZIP_REPORT_SCHEMA_VERSION,
    valid: errors === 0 && files.every((entry) => entry.report.valid),
    issues,
    errorCount: errors + sum((entry) => entry.report.errorCount),
    warningCount: issues.length - errors + sum((entry) => entry.report.warningCount),
    files,
    truncated: errors > 0,
    stats: { bytes, entries: files.length + (errors > 0 ? 1 : 0), inflatedBytes: bytes },
    limits: { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: limits.maxBytes },
  };
  return { report };
}

function partNameIssue(
  entry: Exclude<ReturnType<typeof classifyEntryName>, { kind: "task" }>,
  shown: string,
): FilesReport["issues"][number] {
  switch (entry.kind) {
    case "unsafe":
      return shown === ""
        ? archiveIssue("unsafe_name", "A file part has no filename: send each file with its name.")
        : archiveIssue("unsafe_name", `The name ${entry.reason}; rename the file.`, shown);
    case "nested_archive":
      return archiveIssue(
        "nested_archive",
        "An archive among several files: send its files themselves, or the zip alone.",
        shown,
      );
    default:
      return archiveIssue(
        "unsupported_file_type",
        "Not a task file: only .csv, .jsonl and .json files may be sent.",
        shown,
      );
  }
}

interface CheckedFiles {
  report: FilesReport;
  plan: PlannedFile[];
  stages: Map<string, FileStage>;
  taskType: TaskType;
}

/**
 * Keeps a valid set of files and records the submission. The set is named by a hash of its manifest (each file's
 * name, role, label, pairing and bytes' hash, in order, with the task type and any prompt template), so the same
 * files with the same roles sent again are a duplicate, and the same files in other roles are another task.
 */
async function record(
  bindings: StorageBindings,
  checked: CheckedFiles,
  metadata: SubmissionMetadata,
  round: string | null,
): Promise<IntakeOutcome> {
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
  const existing = await findSubmissionByCsvHash(bindings.DB, manifestSha);
  if (existing) {
    await Promise.all([...stages.values()].map((stage) => stage.discard()));
    return { kind: "duplicate", submission: existing };
  }
  const manifestKey = `files/${manifestSha}.json`;
  const allExamplesKey = examplesKey(manifestSha, taskType, prompts);
  const keys = { manifestKey, allExamplesKey };
  try {
    for (const file of files) {
      const stage = stages.get(file.name);
      const kind = report.files.find((read) => read.name === file.name)?.kind ?? "csv";
      const type = { httpMetadata: { contentType: CONTENT_TYPES[kind] }, sha256: file.sha256 };
      await stage?.file.commit(file.fileKey, type);
      await stage?.examples.commit(file.examplesKey, { httpMetadata: { contentType: "application/x-ndjson" } });
    }
    await bindings.BLOBS.put(manifestKey, JSON.stringify({ ...manifest, files }), {
      httpMetadata: { contentType: "application/json" },
    });
    await joinExamples(bindings.BLOBS, files, allExamplesKey);
    const { submission, submitterToken } = await newSubmission(metadata, taskType, round, {
      csvSha256: manifestSha,
      csvKey: manifestKey,
      csvBytes: files.reduce((sum, file) => sum + file.bytes, 0),
      examplesKey: allExamplesKey,
      exampleCount: files.reduce((sum, file) => sum + file.exampleCount, 0),
      report,
    });
    try {
      await bindings.DB.batch([
        insertSubmissionStatement(bindings.DB, submission, "fail"),
        ...insertSubmissionFileStatements(bindings.DB, submission.id, 1, files),
      ]);
    } catch (error) {
      // Another upload of the same files and roles won the race: its objects are these same bytes.
      const winner = await findSubmissionByCsvHash(bindings.DB, manifestSha);
      if (winner) return { kind: "duplicate", submission: winner };
      throw error;
    }
    return { kind: "created", submission, submitterToken };
  } catch (error) {
    await undo(bindings, files, keys, manifestSha);
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
async function undo(
  bindings: StorageBindings,
  files: readonly SubmissionFile[],
  keys: { manifestKey: string; allExamplesKey: string },
  manifestSha: string,
): Promise<void> {
  const inUse = async (sha256: string): Promise<boolean> =>
    (await csvBytesInUse(bindings.DB, sha256).catch(() => true)) ||
    (await fileBytesInUse(bindings.DB, sha256).catch(() => true));
  const unused: string[] = [];
  for (const file of files) if (!(await inUse(file.sha256))) unused.push(file.fileKey, file.examplesKey);
  if (!(await inUse(manifestSha))) unused.push(keys.manifestKey, keys.allExamplesKey);
  if (unused.length > 0) await bindings.BLOBS.delete(unused).catch(() => undefined);
}
