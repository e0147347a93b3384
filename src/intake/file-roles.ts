/**
 * The roles of a submission's files (metadata `files`): checked against the metadata alone before any file is read,
 * then against the files read. Pure: intake (receive-files.ts) reports what this finds and stores the plan.
 */

import { METRICS, headlineMetricName } from "../analysis/metrics";
import type { FilesReportIssue, SubmissionMetadata } from "../generated/types";
import type { TaskType } from "../validate/task-types";
import { DEFAULT_ZIP_LIMITS } from "../validate/zip/limits";

export type DeclaredFile = NonNullable<SubmissionMetadata["files"]>[number];

/** What a file is to its submission (the metadata's `role`). */
export type FileRole = DeclaredFile["role"];

export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * A file name as compared: as the zip reader normalises entry names (src/validate/zip/entry-name.ts), Unicode NFC
 * with no empty or "." segments, so the metadata's "./task/a.csv" names the entry task/a.csv.
 */
export const fileNameKey = (name: string): string =>
  name
    .normalize("NFC")
    .split("/")
    .filter((segment) => segment !== "" && segment !== ".")
    .join("/");

/** The longest name a file may have, in UTF-8 bytes: what the zip reader allows an entry. */
const MAX_NAME_BYTES = DEFAULT_ZIP_LIMITS.maxNameBytes;

/**
 * What the metadata's list says wrongly on its own: a name listed twice, no part, a variant label used twice, a
 * part marked paired. (The schema has already checked each entry's shape, and that a variant has a label.)
 */
export function declaredFileProblems(files: readonly DeclaredFile[] | undefined): FieldProblem[] {
  if (files === undefined) return [];
  const problems: FieldProblem[] = [];
  const names = new Map<string, number>();
  const labels = new Map<string, number>();
  for (const [index, file] of files.entries()) {
    if (new TextEncoder().encode(file.name).length > MAX_NAME_BYTES)
      problems.push({ field: `files[${index}].name`, message: `is longer than ${MAX_NAME_BYTES} bytes in UTF-8` });
    const key = fileNameKey(file.name);
    const earlier = names.get(key);
    if (earlier !== undefined)
      problems.push({ field: `files[${index}].name`, message: `is listed already, as files[${earlier}]` });
    else names.set(key, index);
    if (file.role === "variant" && file.label !== undefined) {
      const labelled = labels.get(file.label);
      if (labelled !== undefined)
        problems.push({ field: `files[${index}].label`, message: `is files[${labelled}]'s label already` });
      else labels.set(file.label, index);
    }
    if (file.role === "part" && file.paired === true)
      problems.push({
        field: `files[${index}].paired`,
        message: "only a control or a variant is paired with the task",
      });
  }
  if (!files.some((file) => file.role === "part"))
    problems.push({ field: "files", message: "name at least one file as a part: the task is its parts" });
  return problems;
}

/**
 * Whether a control or variant of type `other` can be compared with a task of type `task`: its results have the
 * task's headline metric, and neither or both are behaviour tasks (a behaviour file is analysed on its behaviour
 * metrics, other tasks on theirs, so they are never compared across).
 */
export function comparableTypes(task: TaskType, other: TaskType, declaredType: string | undefined): boolean {
  if ((task === "behaviour") !== (other === "behaviour")) return false;
  const metric = headlineMetricName(task, declaredType ?? task);
  return metric !== undefined && METRICS[metric].taskTypes.includes(other);
}

/** A file as read: its name, and for a valid one its task type and examples. */
export interface ReadFile {
  name: string;
  taskType: TaskType | null;
  examples: number;
}

/** A valid file placed in the submission's one list of examples. */
export interface PlannedFile {
  /** Its place in the metadata's list. */
  position: number;
  name: string;
  role: FileRole;
  label: string | null;
  paired: boolean;
  firstExample: number;
  exampleCount: number;
}

/** The roles' codes, after the archive's in schemas/files-report.schema.json: each is an error. */
export const ROLE_ISSUE_CODES = [
  "file_not_named",
  "named_file_missing",
  "task_type_mismatch",
  "paired_count_mismatch",
  "too_few_examples",
] as const satisfies readonly FilesReportIssue["code"][];
type RoleIssueCode = (typeof ROLE_ISSUE_CODES)[number];

const issue = (code: RoleIssueCode, message: string, entry?: string): FilesReportIssue => ({
  severity: "error",
  code,
  message,
  ...(entry !== undefined && { entry }),
});

/**
 * The files read against the metadata's roles: every file must be named (file_not_named), every name must have
 * come (named_file_missing), the parts must be of one task type, the first part's, and a control or variant of a
 * type the task's headline metric applies to, so the two can be compared (comparableTypes; task_type_mismatch), and
 * a paired file must have as many examples as the parts together (paired_count_mismatch). The parts together, and
 * each control and variant, need `minExamples` (too_few_examples; each file alone was checked against 1). Issues come in the
 * order the files were read, then missing names in the metadata's order. Files read are placed in the metadata's
 * order, their examples one after another; `taskType` is the parts'.
 */
export function planFiles(
  declared: readonly DeclaredFile[],
  read: readonly ReadFile[],
  /** The metadata's task type, which decides the task's headline metric (classification_acc: accuracy). */
  declaredType: string | undefined,
  minExamples: number,
): { issues: FilesReportIssue[]; plan: PlannedFile[]; taskType: TaskType | null } {
  const issues: FilesReportIssue[] = [];
  const byName = new Map(read.map((file) => [fileNameKey(file.name), file]));
  const declaredKeys = new Set(declared.map((file) => fileNameKey(file.name)));
  for (const file of read) {
    if (declaredKeys.has(fileNameKey(file.name))) continue;
    issues.push(
      issue(
        "file_not_named",
        `Not named in the metadata's files: give it a role (part, control or variant) or leave it out.`,
        file.name,
      ),
    );
  }
  for (const file of declared)
    if (!byName.has(fileNameKey(file.name)))
      issues.push(
        issue("named_file_missing", "Named in the metadata's files but not sent; send it or remove it.", file.name),
      );
  const firstPart = declared
    .filter((file) => file.role === "part")
    .map((file) => byName.get(fileNameKey(file.name)))
    .find((file) => file?.taskType);
  const taskType = firstPart?.taskType ?? null;
  const plan: PlannedFile[] = [];
  let next = 0;
  for (const [position, file] of declared.entries()) {
    const found = byName.get(fileNameKey(file.name));
    if (!found) continue;
    const other = found.taskType;
    if (taskType !== null && other !== null && other !== taskType) {
      if (file.role === "part")
        issues.push(
          issue(
            "task_type_mismatch",
            `A ${other} task file; the parts of a task must be of one type (${firstPart?.name} is ${taskType}).`,
            file.name,
          ),
        );
      else if (!comparableTypes(taskType, other, declaredType))
        issues.push(
          issue(
            "task_type_mismatch",
            `A ${other} task file, whose results have no value of the ${taskType} task's headline metric to compare.`,
            file.name,
          ),
        );
    }
    plan.push({
      position,
      name: found.name,
      role: file.role,
      label: file.label ?? null,
      paired: file.paired === true,
      firstExample: next,
      exampleCount: found.examples,
    });
    next += found.examples;
  }
  const taskExamples = plan.filter((file) => file.role === "part").reduce((sum, file) => sum + file.exampleCount, 0);
  const complete = read.every((file) => file.taskType !== null) && plan.length === declared.length;
  if (complete && taskExamples < minExamples)
    issues.push(
      issue(
        "too_few_examples",
        `The parts together have ${taskExamples} examples; the task needs at least ${minExamples} (about 1000 are recommended).`,
      ),
    );
  for (const file of plan)
    if (complete && file.role !== "part" && file.exampleCount < minExamples)
      issues.push(
        issue(
          "too_few_examples",
          `A ${file.role} is analysed alone, so it needs at least ${minExamples} examples like the task; it has ${file.exampleCount}.`,
          file.name,
        ),
      );
  for (const file of plan)
    if (file.paired && file.exampleCount !== taskExamples)
      issues.push(
        issue(
          "paired_count_mismatch",
          `Marked paired, so its examples must match the task's one to one, but it has ${file.exampleCount} and the parts together have ${taskExamples}.`,
          file.name,
        ),
      );
  return { issues, plan, taskType };
}
