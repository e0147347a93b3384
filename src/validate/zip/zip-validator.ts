import type { FilesReport } from "../../generated/types";
import { feedStream } from "../event-loop";
import { defaultPromptTemplate, type PromptTemplate } from "../mwe/template";
import { AnyTaskFileValidator, type TaskFileFormat, type TaskFileOptions } from "../task-file";
import type { Example } from "../row-rules";
import { formatCount } from "../text";
import { ARCHIVE_ISSUE_SEVERITY, archiveIssue, type ArchiveIssue, type ArchiveIssueCode } from "./archive-issues";
import { classifyEntryName, shownName } from "./entry-name";
import { EntryInflater, SUPPORTED_METHODS } from "./entry-inflater";
import {
  FLAG_UTF8,
  ZipFraming,
  type DirectoryRecord,
  type EntryDecision,
  type EntryTotals,
  type LocalHeader,
} from "./framing";
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from "./limits";

/** Version of the report's shape (schemas/files-report.schema.json); bump on incompatible change. */
export const ZIP_REPORT_SCHEMA_VERSION = 1;

export type { FilesReport };
export type ZipFileReport = FilesReport["files"][number];

export interface ZipValidatorOptions {
  limits?: Partial<ZipLimits>;
  /** Options for every task file in the archive; each file's format is declared by its extension. */
  file?: Omit<TaskFileOptions, "choice">;
  /** How a model-written evaluation's items become prompts; the default template when absent. */
  template?: PromptTemplate;
  /** Receives each task file's bytes and examples as they are checked: how intake stores the files of a zip. */
  sink?: ZipEntrySink;
  /** The task type to check a file as, by its name, instead of `file.taskType` (a control may be of another type). */
  taskTypeOf?: (name: string) => string | undefined;
}

/** A failure of the sink (storage), not of the archive: it reaches the caller as it is, never as corrupt_archive. */
export class ZipSinkError extends Error {
  constructor(readonly failure: unknown) {
    super("the zip's files could not be staged", { cause: failure });
  }
}

/** Where each task file of a zip goes as it is read (src/intake/receive-files.ts stages them in R2). */
export interface ZipEntrySink {
  /** A task file starts; called before any of its bytes. */
  open(name: string): ZipEntryStage;
}

export interface ZipEntryStage {
  /** Each valid example, in file order. */
  example(example: Example): void;
  /** Each inflated piece, in order, once checked; `invalid` once the file is known to have an error. */
  data(bytes: Uint8Array, invalid: boolean): Promise<void>;
  /** The file was read whole and its checksum matched. */
  end(): Promise<void>;
}

/** The first bytes of archives and compressed files: a task file's name can say .csv and its bytes be a zip. */
const ARCHIVE_MAGIC: readonly (readonly number[])[] = [
  [0x50, 0x4b, 0x03, 0x04], // zip
  [0x50, 0x4b, 0x05, 0x06], // empty zip
  [0x1f, 0x8b], // gzip
  [0x37, 0x7a, 0xbc, 0xaf], // 7z
  [0x52, 0x61, 0x72, 0x21], // rar
];
const MAGIC_BYTES = 4;

/**
 * Unix file types in the high 16 bits of a directory record's external attributes. They are read whatever system
 * the record says made the entry: readers differ on which systems they take a Unix mode from (unzip, libarchive and
 * others each have their own list), so any type but none, a regular file or a folder is refused.
 */
const UNIX_FILE_TYPE = 0o170000;
const UNIX_SYMLINK = 0o120000;
const ALLOWED_FILE_TYPES: ReadonlySet<number> = new Set([0, 0o100000, 0o040000]);

/** The entry being read: a task file (its checks, and its first bytes for nested_archive), or a skipped one. */
interface OpenEntry {
  /** Its position among all the archive's entries (skipped ones included), as the central directory counts. */
  index: number;
  name: string;
  /** A task file's format and checks; none for a folder or junk, whose bytes are inflated, checked and dropped. */
  task: { format: TaskFileFormat; validator: AnyTaskFileValidator; stage: ZipEntryStage | undefined } | undefined;
  /** A folder entry: any byte it inflates to is refused. */
  folder: boolean;
  inflater: EntryInflater;
  head: number[];
}

/**
 * Checks a zip of task files as it streams in: the archive's structure and names first (ZipFraming, entry-name),
 * each entry's bytes inflated a slice at a time (EntryInflater) and handed as they come to the same per-file
 * validation as a file sent alone (AnyTaskFileValidator, its format declared by the extension). Limits are checked
 * on every inflated piece, so a zip bomb is refused while inflating. The first archive error stops reading: nothing
 * after it is inflated or checked. The interface is the validators' (`write`, `stopped`, `finish`).
 */
export class ZipValidator {
  readonly limits: ZipLimits;
  private readonly framing: ZipFraming;
  private readonly issues: ArchiveIssue[] = [];
  private readonly files: { index: number; file: ZipFileReport }[] = [];
  /** Task file names seen, by their case-insensitive key. */
  private readonly names = new Map<string, string>();
  private readonly template: PromptTemplate;
  private current: OpenEntry | undefined;
  private entries = 0;
  private inflatedBytes = 0;
  private largestPiece = 0;
  private halted = false;

  constructor(private readonly options: ZipValidatorOptions = {}) {
    this.limits = { ...DEFAULT_ZIP_LIMITS, ...options.limits };
    this.template = options.template ?? defaultPromptTemplate();
    this.framing = new ZipFraming({
      entry: (header) => this.openEntry(header),
      data: (bytes) => this.entryData(bytes),
      entryEnd: (totals) => this.closeEntry(totals),
      directoryRecord: (index, record) => this.checkDirectoryRecord(index, record),
      fail: (code, message) => this.refuse(code, message),
    });
  }

  /** True once an archive error stopped reading: the caller should stop sending input. */
  get stopped(): boolean {
    return this.halted || this.framing.stopped;
  }

  /** What the reader measured, for tests and benchmarks: never part of the report. */
  get measurements(): { inflatedBytes: number; largestInflatedPiece: number; largestRecordHeld: number } {
    return {
      inflatedBytes: this.inflatedBytes,
      largestInflatedPiece: this.largestPiece,
      largestRecordHeld: this.framing.largestRecordHeld,
    };
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.stopped) return;
    try {
      await this.framing.push(chunk);
    } catch (error) {
      this.refuseUnexpected(error);
    }
  }

  finish(): FilesReport {
    if (!this.stopped)
      try {
        this.framing.finish();
      } catch (error) {
        this.refuseUnexpected(error);
      }
    const errors = this.issues.filter((issue) => issue.severity === "error");
    if (errors.length === 0 && this.files.length === 0)
      this.issues.push(
        archiveIssue(
          "empty_archive",
          this.entries === 0
            ? "The archive has no files; add the task files."
            : `The archive has no task files (.csv, .jsonl or .json), only ${formatCount(this.entries)} skipped ${this.entries === 1 ? "entry" : "entries"}.`,
        ),
      );
    const files = this.files.map(({ file }) => file);
    const archiveErrors = this.issues.filter((issue) => issue.severity === "error").length;
    const sum = (count: (file: ZipFileReport) => number): number =>
      files.reduce((total, file) => total + count(file), 0);
    return {
      schemaVersion: ZIP_REPORT_SCHEMA_VERSION,
      valid: archiveErrors === 0 && files.every((file) => file.report.valid),
      issues: this.issues,
      errorCount: archiveErrors + sum((file) => file.report.errorCount),
      warningCount: this.issues.length - archiveErrors + sum((file) => file.report.warningCount),
      files,
      truncated: this.halted,
      stats: { bytes: this.framing.bytesRead, entries: this.entries, inflatedBytes: this.inflatedBytes },
      limits: this.limits,
    };
  }

  /** Decides what to do with an entry from its header alone, before any of its data is read. */
  private openEntry(header: LocalHeader): EntryDecision {
    const shown = shownName(header.nameBytes);
    const refuse = (code: ArchiveIssueCode, message: string): EntryDecision => {
      this.refuse(code, message, shown);
      return "stop";
    };
    if (++this.entries > this.limits.maxEntries)
      return refuse(
        "too_many_entries",
        `The archive has more than ${this.limits.maxEntries} entries; send only the task files.`,
      );
    const entry = classifyEntryName(header.nameBytes, this.limits.maxNameBytes, (header.flags & FLAG_UTF8) !== 0);
    if (entry.kind === "unsafe") return refuse("unsafe_name", `The name ${entry.reason}; rename the file.`);
    if (header.unicodePath) return refuse("unsafe_name", UNICODE_PATH_MESSAGE);
    if (header.encrypted) return refuse("encrypted_entry", "Encrypted: zip the files again without a password.");
    const unsupportedMethod = (): EntryDecision =>
      refuse(
        "unsupported_compression",
        `Compressed with method ${header.method}: zip it again with the usual method (Deflate) or none.`,
      );
    if (entry.kind === "directory" || entry.kind === "junk") {
      const folder = entry.kind === "directory";
      this.issues.push(
        folder
          ? archiveIssue("skipped_directory", "A folder: the files in it are read.", shown)
          : archiveIssue("skipped_junk", "Added by the system that made the zip, not a task file: skipped.", shown),
      );
      // Skipped, not trusted: inflated under the same limits and checks as a task file, then dropped.
      if (!SUPPORTED_METHODS.has(header.method)) return unsupportedMethod();
      this.current = this.openEntryData(this.entries - 1, shown, undefined, folder, header.method);
      return "read";
    }
    if (entry.kind === "nested_archive")
      return refuse("nested_archive", "An archive inside the archive: put its files in the zip itself.");
    if (entry.kind === "unsupported")
      return refuse(
        "unsupported_file_type",
        `Not a task file: only .csv, .jsonl and .json files may be in the archive${entry.extension ? "" : " (this one has no extension)"}.`,
      );
    if (!SUPPORTED_METHODS.has(header.method)) return unsupportedMethod();
    const earlier = this.names.get(entry.key);
    if (earlier !== undefined)
      return refuse(
        "duplicate_entry",
        earlier === entry.name
          ? "In the archive twice."
          : `The same name as ${earlier} but for case (or how it is written), so the same file on many systems; rename one.`,
      );
    this.names.set(entry.key, entry.name);
    const stage = this.options.sink?.open(entry.name);
    const onExample = this.options.file?.onExample;
    const { taskTypeOf } = this.options;
    const taskType = taskTypeOf ? taskTypeOf(entry.name) : this.options.file?.taskType;
    const validator = new AnyTaskFileValidator({
      ...this.options.file,
      ...(taskType === undefined ? { taskType: undefined } : { taskType }),
      choice: { format: entry.format, template: this.template, behaviourGiven: false },
      onExample: (example) => {
        onExample?.(example);
        stage?.example(example);
      },
    });
    const task = { format: entry.format, validator, stage };
    this.current = this.openEntryData(this.entries - 1, entry.name, task, false, header.method);
    return "read";
  }

  private openEntryData(
    index: number,
    name: string,
    task: OpenEntry["task"],
    folder: boolean,
    method: number,
  ): OpenEntry {
    const open: OpenEntry = {
      index,
      name,
      task,
      folder,
      head: [],
      inflater: new EntryInflater(method, {
        piece: (bytes) => this.inflated(open, bytes),
        stopped: () => this.halted || open.task?.validator.stopped === true,
      }),
    };
    return open;
  }

  private async entryData(bytes: Uint8Array): Promise<void> {
    const open = this.current;
    if (!open) return;
    await open.inflater.push(bytes);
    if (open.inflater.failure !== undefined) this.refuseDamaged(open, inflateFailure(open.inflater.failure));
  }

  /**
   * Each inflated piece: limits first (for every entry, skipped ones too), then a skipped entry's bytes are dropped
   * (a folder may have none), and a task file's go to the check for an archive in disguise, then its validation.
   */
  private async inflated(open: OpenEntry, bytes: Uint8Array): Promise<void> {
    if (this.halted) return;
    this.inflatedBytes += bytes.length;
    this.largestPiece = Math.max(this.largestPiece, bytes.length);
    const { inflatedBytes, compressedBytes } = open.inflater;
    if (this.inflatedBytes > this.limits.maxTotalBytes) {
      this.refuse(
        "archive_too_large",
        `The files in the archive inflate to more than ${formatCount(this.limits.maxTotalBytes)} bytes together; split the submission.`,
        open.name,
      );
      return;
    }
    if (
      inflatedBytes > this.limits.ratioFreeBytes &&
      inflatedBytes > this.limits.maxCompressionRatio * compressedBytes
    ) {
      this.refuse(
        "compression_ratio_too_high",
        `Inflates to more than ${this.limits.maxCompressionRatio} times its compressed size (${formatCount(inflatedBytes)} bytes from ${formatCount(compressedBytes)} so far): a zip bomb, or data so repetitive that it should be sent as it is, not zipped.`,
        open.name,
      );
      return;
    }
    if (!open.task) {
      if (open.folder && bytes.length > 0)
        this.refuse(
          "corrupt_archive",
          "A folder entry with contents, which readers that make the folder never show; zip the files again.",
          open.name,
        );
      return;
    }
    if (open.head.length < MAGIC_BYTES) {
      open.head.push(...bytes.subarray(0, MAGIC_BYTES - open.head.length));
      if (this.refuseIfArchive(open)) return;
    }
    const { validator, stage } = open.task;
    await validator.write(bytes);
    await stage?.data(bytes, validator.hasErrors).catch((error: unknown) => {
      throw new ZipSinkError(error);
    });
  }

  private refuseIfArchive(open: OpenEntry): boolean {
    const isArchive = ARCHIVE_MAGIC.some((magic) => magic.every((byte, i) => open.head[i] === byte));
    if (isArchive)
      this.refuse(
        "nested_archive",
        "Named as a task file but holds an archive: put its files in the zip itself.",
        open.name,
      );
    return isArchive;
  }

  private async closeEntry(totals: EntryTotals): Promise<void> {
    const open = this.current;
    if (!open) return;
    await open.inflater.finish();
    if (this.halted) return;
    const { inflater, task } = open;
    if (inflater.failure !== undefined) return this.refuseDamaged(open, inflateFailure(inflater.failure));
    // A validator that stopped at a limit stops the inflating too, so its checksum cannot be known.
    const whole = task?.validator.stopped !== true;
    if (whole && (inflater.checksum !== totals.crc || inflater.inflatedBytes !== totals.size))
      return this.refuseDamaged(open, "the contents do not match the checksum and size the archive records");
    this.current = undefined;
    if (!task) return;
    const { format, validator, stage } = task;
    const report = validator.finish();
    await stage?.end().catch((error: unknown) => {
      throw new ZipSinkError(error);
    });
    this.files.push({
      index: open.index,
      file: {
        name: open.name,
        format,
        kind: validator.kind ?? (format === "csv" ? "csv" : "jsonl"),
        compressedBytes: totals.compressedSize,
        report,
      },
    });
  }

  private refuseDamaged(open: OpenEntry, why: string): void {
    this.refuse("corrupt_archive", `Damaged: ${why}; zip the files again.`, open.name);
  }

  /**
   * A symlink or other special file, or a second name in the directory's record, is refused even after its entry
   * was read: only the directory says what an entry is on disk.
   */
  private checkDirectoryRecord(index: number, record: DirectoryRecord): void {
    const type = (record.externalAttributes >>> 16) & UNIX_FILE_TYPE;
    if (record.unicodePath) this.refuseListed(index, "unsafe_name", () => UNICODE_PATH_MESSAGE);
    else if (!ALLOWED_FILE_TYPES.has(type))
      this.refuseListed(index, "symlink_entry", (name) => {
        const what = type === UNIX_SYMLINK ? "symbolic link" : "special file (a device, pipe or socket)";
        return `${name === undefined ? `Entry ${index + 1} is a` : "A"} ${what}, not a file: put the file itself in the archive.`;
      });
  }

  /** Refuses entry `index` after it was read, dropping its report (its "contents" were not a file's). */
  private refuseListed(index: number, code: ArchiveIssueCode, message: (name: string | undefined) => string): void {
    const listed = this.files.findIndex((file) => file.index === index);
    const name = listed >= 0 ? this.files[listed]?.file.name : undefined;
    if (listed >= 0) this.files.splice(listed, 1);
    this.refuse(code, message(name), name);
  }

  /** Something the reader did not expect threw: the archive is reported corrupt, never left to crash the caller. */
  private refuseUnexpected(error: unknown): void {
    if (error instanceof ZipSinkError) throw error.failure;
    this.current = undefined;
    const detail = error instanceof Error ? ` (${error.message})` : "";
    this.refuse("corrupt_archive", `The archive could not be read${detail}; zip the files again.`);
  }

  /** Records an archive error (or, for the framing's failures, its message) and stops reading. */
  private refuse(code: ArchiveIssueCode, message: string, entry?: string): void {
    this.issues.push(archiveIssue(code, message, entry ?? this.current?.name));
    if (ARCHIVE_ISSUE_SEVERITY[code] === "error") {
      this.halted = true;
      this.framing.stop();
      // The entry being read when the archive failed was not read whole: its report would say so wrongly.
      this.current = undefined;
    }
  }
}

const UNICODE_PATH_MESSAGE =
  "The entry carries a second name (a Unicode Path extra field), which unzip extracts it under instead of the name checked; zip the files again.";

function inflateFailure(reason: string): string {
  return `the compressed data cannot be inflated (${reason})`;
}

/** Checks a whole zip stream (for the CLI and tests); stops reading at the first archive error. */
export async function validateZipStream(
  stream: ReadableStream<Uint8Array>,
  options: ZipValidatorOptions = {},
): Promise<FilesReport> {
  const validator = new ZipValidator(options);
  await feedStream(stream, validator);
  return validator.finish();
}
