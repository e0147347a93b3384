/**
 * `isv submit` of several task files (a zip, or files sent as parts named `file`): their roles from the metadata's
 * `files` and --role, and the checks intake runs (src/intake/receive-files.ts) run here first, so a submission the
 * service would refuse is reported file by file before anything is sent.
 */
import { statSync } from "node:fs";
import { basename } from "node:path";
import { fileNameKey, planFiles, type DeclaredFile } from "../intake/file-roles";
import type { PromptTemplate } from "../validate/mwe/template";
import { DEFAULT_LIMITS } from "../validate/report";
import { validateTaskStream } from "../validate/task-file";
import { classifyEntryName } from "../validate/zip/entry-name";
import { withIssues, type FilesReport } from "../validate/zip/files-report";
import { DEFAULT_ZIP_LIMITS } from "../validate/zip/limits";
import { ZIP_REPORT_SCHEMA_VERSION, validateZipStream } from "../validate/zip/zip-validator";
import { UsageError, type CommandUsage } from "./args";
import { fileStream } from "./file-stream";

/** A FILE ending in .zip is an archive of task files, as for isv validate. */
export const isZip = (path: string): boolean => path.toLowerCase().endsWith(".zip");

/** The name the service knows a file by: a part's filename (its base name), a zip entry's path in the zip. */
const sentName = (name: string, paths: readonly string[]): string => (paths.includes(name) ? basename(name) : name);

/**
 * The metadata's `files` with --role NAME=part|control|variant[:LABEL] and --paired NAME applied: a role replaces
 * the listed file's role and label (its pairing kept) or lists the file; --paired marks a listed file. NAME is a
 * FILE as given (its base name is sent) or a path inside the zip.
 */
export function declaredFiles(
  listed: unknown,
  flags: { roles: readonly string[]; paired: readonly string[]; paths: readonly string[] },
  usage: CommandUsage,
): DeclaredFile[] {
  const files = listedFiles(listed, usage);
  for (const assignment of flags.roles) {
    const at = assignment.lastIndexOf("=");
    const name = sentName(assignment.slice(0, at), flags.paths);
    const [role = "", ...label] = assignment.slice(at + 1).split(":");
    if (at <= 0 || (role !== "part" && role !== "control" && role !== "variant"))
      throw new UsageError(`--role takes NAME=part|control|variant[:LABEL]; got "${assignment}"`, usage);
    const given = label.join(":");
    const entry: DeclaredFile = { name, role, ...(given !== "" && { label: given }) };
    const index = files.findIndex((file) => file.name === name);
    if (index < 0) files.push(entry);
    else files[index] = { ...entry, ...(files[index]?.paired !== undefined && { paired: files[index]?.paired }) };
  }
  for (const given of flags.paired) {
    const name = sentName(given, flags.paths);
    const index = files.findIndex((file) => file.name === name);
    const file = files[index];
    if (!file) throw new UsageError(`--paired ${given}: give it a role first (--role ${given}=control)`, usage);
    files[index] = { ...file, paired: true };
  }
  return files;
}

/** The metadata's own `files`, where each entry has the shape the schema gives (the service checks the rest). */
function listedFiles(listed: unknown, usage: CommandUsage): DeclaredFile[] {
  if (listed === undefined) return [];
  if (!Array.isArray(listed)) throw new UsageError('the metadata\'s "files" must be a list', usage);
  return listed.map((entry: unknown, index) => {
    const where = `the metadata's files[${index}]`;
    if (entry === null || typeof entry !== "object") throw new UsageError(`${where} is not an object`, usage);
    const { name, role, label, paired }: Record<string, unknown> = { ...entry };
    if (typeof name !== "string" || (role !== "part" && role !== "control" && role !== "variant"))
      throw new UsageError(`${where} needs a name and a role (part, control or variant)`, usage);
    if (label !== undefined && typeof label !== "string") throw new UsageError(`${where}: label is text`, usage);
    if (paired !== undefined && typeof paired !== "boolean")
      throw new UsageError(`${where}: paired is true or false`, usage);
    return {
      name,
      role,
      ...(label !== undefined && { label }),
      ...(paired !== undefined && { paired }),
    };
  });
}

/**
 * The files checked as intake checks them: a zip by the strict reader, or each file alone under the bytes left by
 * those before it, a part as the metadata's task type, a control or variant as its header says; then the roles
 * against the files read. The report the service would give (without its competition's own limits).
 */
export async function checkTaskFiles(
  paths: readonly string[],
  declared: readonly DeclaredFile[],
  metadata: { taskType?: string },
  template: PromptTemplate,
  usage: CommandUsage,
): Promise<FilesReport> {
  // Names compared as intake compares them (fileNameKey: NFC, no empty or "." segments).
  const parts = new Set(declared.filter((file) => file.role === "part").map((file) => fileNameKey(file.name)));
  const taskTypeOf = (name: string): string | undefined =>
    parts.has(fileNameKey(name)) ? metadata.taskType : undefined;
  const [first] = paths;
  const read =
    first !== undefined && paths.length === 1 && isZip(first)
      ? await validateZipStream(fileStream(first), {
          limits: { maxTotalBytes: DEFAULT_LIMITS.maxBytes },
          file: { limits: { minExamples: 1 } },
          taskTypeOf,
          template,
        })
      : await checkParts(paths, taskTypeOf, template, usage);
  const { issues, plan } = planFiles(
    declared,
    read.files.map((file) => ({
      name: file.name,
      taskType: file.report.valid ? file.report.taskType : null,
      examples: file.report.stats.examples,
    })),
    metadata.taskType,
    DEFAULT_LIMITS.minExamples,
  );
  const roles = new Map(plan.map((file) => [file.name, file]));
  const files = read.files.map((file) => {
    const planned = roles.get(file.name);
    return planned ? { ...file, role: planned.role, ...(planned.label !== null && { label: planned.label }) } : file;
  });
  return withIssues({ ...read, files }, issues);
}

/** Several task files, each checked alone as an upload part is: by its name's extension, a zip never among them. */
async function checkParts(
  paths: readonly string[],
  taskTypeOf: (name: string) => string | undefined,
  template: PromptTemplate,
  usage: CommandUsage,
): Promise<FilesReport> {
  const names = new Map<string, string>();
  const files: FilesReport["files"] = [];
  let bytes = 0;
  for (const path of paths) {
    const entry = classifyEntryName(new TextEncoder().encode(basename(path)), DEFAULT_ZIP_LIMITS.maxNameBytes, true);
    if (entry.kind === "nested_archive") throw new UsageError(`${path}: a zip is sent alone, not among files`, usage);
    if (entry.kind !== "task")
      throw new UsageError(`${path}: not a task file by its name (only .csv, .jsonl and .json files are sent)`, usage);
    const earlier = names.get(entry.key);
    if (earlier !== undefined)
      throw new UsageError(`${path} and ${earlier} would be sent under one name, ${entry.name}; rename one`, usage);
    names.set(entry.key, path);
    const taskType = taskTypeOf(entry.name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new UsageError(`cannot read ${path}`, usage);
    }
    const { report, kind } = await validateTaskStream(fileStream(path), {
      ...(taskType !== undefined && { taskType }),
      limits: { minExamples: 1, maxBytes: Math.max(0, DEFAULT_LIMITS.maxBytes - bytes) },
      choice: { format: entry.format, template, behaviourGiven: false },
    });
    bytes += size;
    files.push({ name: entry.name, format: entry.format, kind, compressedBytes: size, report });
  }
  const sum = (count: (file: FilesReport["files"][number]) => number): number =>
    files.reduce((total, file) => total + count(file), 0);
  return {
    schemaVersion: ZIP_REPORT_SCHEMA_VERSION,
    valid: files.every((file) => file.report.valid),
    issues: [],
    errorCount: sum((file) => file.report.errorCount),
    warningCount: sum((file) => file.report.warningCount),
    files,
    truncated: false,
    stats: { bytes, entries: files.length, inflatedBytes: bytes },
    limits: { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: DEFAULT_LIMITS.maxBytes },
  };
}

/** A submission's files as the service lists them (fileView): each with its role and its range of examples. */
export interface SubmittedFile {
  name: string;
  role: "part" | "control" | "variant";
  label?: string;
  paired: boolean;
  firstExample: number;
  examples: number;
}

/** One line per file: its name, role (label, pairing) and the range of the submission's examples it holds. */
export function formatSubmittedFiles(files: readonly SubmittedFile[]): string {
  const width = Math.max(...files.map((file) => file.name.length));
  return [
    "files:",
    ...files.map((file) => {
      const role = [file.role, file.label, file.paired ? "paired" : undefined].filter(Boolean).join(", ");
      const last = file.firstExample + file.examples - 1;
      return `  ${file.name.padEnd(width)}  ${role.padEnd(24)} examples ${file.firstExample}-${last} (${file.examples})`;
    }),
  ].join("\n");
}
