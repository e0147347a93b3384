/**
 * Staging of several task files as they stream in (receive-files.ts decides what to keep): each file's bytes and
 * examples go to R2 staging, hashed as they come, while the zip reader or the per-file validator checks them.
 */

import type { FilesReport } from "../generated/types";
import { exampleLine } from "../storage/examples";
import { PendingBlob } from "../storage/pending-blob";
import { hex } from "../util/hash";
import type { PromptTemplate } from "../validate/mwe/template";
import type { ValidationLimits } from "../validate/report";
import type { Example } from "../validate/row-rules";
import { AnyTaskFileValidator, type TaskFileKind } from "../validate/task-file";
import { archiveIssue } from "../validate/zip/archive-issues";
import { classifyEntryName, shownName } from "../validate/zip/entry-name";
import { DEFAULT_ZIP_LIMITS } from "../validate/zip/limits";
import { ZipValidator, ZIP_REPORT_SCHEMA_VERSION, type ZipEntryStage } from "../validate/zip/zip-validator";

/** The files of one upload: a zip's bytes, or the upload's `file` parts, each with the filename it was sent with. */
export type TaskFilesUpload =
  | { kind: "zip"; chunks: AsyncIterable<Uint8Array> }
  | { kind: "parts"; parts: AsyncIterable<{ filename: string | undefined; chunks: AsyncIterable<Uint8Array> }> };

export type UploadParts = Extract<TaskFilesUpload, { kind: "parts" }>["parts"];

/** A task file's bytes and examples on their way to R2 staging, hashed as they come. */
export class FileStage implements ZipEntryStage {
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

export const CONTENT_TYPES: Record<TaskFileKind, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
  json_array: "application/json; charset=utf-8",
};

/** Every file checked and staged: the report (the stages are the caller's). */
export interface StagedFiles {
  report: FilesReport;
}

/** A zip, read by the strict reader, each task file staged as it inflates. */
export async function stageZip(
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
export async function stageParts(
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
