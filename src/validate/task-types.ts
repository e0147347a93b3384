/**
 * The task types (DESIGN.md section 2): the prize's, whose files are CSV, and `behaviour`, a model-written
 * evaluation (JSON Lines, src/validate/mwe).
 */
export const TASK_TYPES = [
  "classification",
  "sequence_prob",
  "logodds",
  "absolute_logodds",
  "numeric",
  "behaviour",
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** The types whose files are the prize's CSV. */
export type CsvTaskType = Exclude<TaskType, "behaviour">;

export const isCsvTaskType = (taskType: TaskType): taskType is CsvTaskType => taskType !== "behaviour";

/** Names the prize's pipeline accepted for the same task type. */
const TASK_TYPE_ALIASES: Record<string, TaskType> = {
  classification_loss: "classification",
  classification_acc: "classification",
};

/** Early names from the prize's first rounds, rejected with the name to use instead. */
export const LEGACY_TASK_TYPES: Record<string, TaskType> = {
  single_word: "sequence_prob",
};

export type ColumnName =
  | "prompt"
  | "other_prompt"
  | "classes"
  | "answer_index"
  | "completion"
  | "true_answer"
  | "anchor"
  | "group";

export const REQUIRED_COLUMNS: Record<CsvTaskType, readonly ColumnName[]> = {
  classification: ["prompt", "classes", "answer_index"],
  sequence_prob: ["prompt", "completion"],
  logodds: ["prompt", "other_prompt", "classes", "answer_index"],
  absolute_logodds: ["prompt", "other_prompt", "classes", "answer_index"],
  numeric: ["prompt", "true_answer", "anchor"],
};

/**
 * Columns any task type may have. `group` names the slice an example belongs to (a difficulty level, say): the
 * analysis looks at each group beside the whole file (src/validate/groups.ts).
 */
export const OPTIONAL_COLUMNS: readonly ColumnName[] = ["group"];

export const KNOWN_COLUMNS: ReadonlySet<string> = new Set([
  ...Object.values(REQUIRED_COLUMNS).flat(),
  ...OPTIONAL_COLUMNS,
]);

/** Column names from early versions of the prize's format, with their current names. */
export const LEGACY_COLUMNS: Record<string, ColumnName> = {
  biased_prompt: "other_prompt",
  answer_ix: "answer_index",
  filled_template: "prompt",
  single_word: "completion",
};

/** The current name of an early column name; undefined for any other name ("constructor" included). */
export function legacyColumn(name: string): ColumnName | undefined {
  return own(LEGACY_COLUMNS, name);
}

/** A table's own entry, never one inherited from Object.prototype: names come from uploads. */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export type TaskTypeResolution =
  | { ok: true; taskType: TaskType }
  | { ok: false; reason: "unknown" | "legacy"; suggestion?: TaskType };

export function isTaskType(name: string): name is TaskType {
  return TASK_TYPES.some((type) => type === name);
}

export function resolveTaskType(name: string): TaskTypeResolution {
  if (isTaskType(name)) return { ok: true, taskType: name };
  const alias = own(TASK_TYPE_ALIASES, name);
  if (alias) return { ok: true, taskType: alias };
  const legacy = own(LEGACY_TASK_TYPES, name);
  if (legacy) return { ok: false, reason: "legacy", suggestion: legacy };
  return { ok: false, reason: "unknown" };
}

export const ACCEPTED_TASK_TYPE_NAMES: readonly string[] = [...TASK_TYPES, ...Object.keys(TASK_TYPE_ALIASES)];

/**
 * Infers the task type from the columns present. logodds and absolute_logodds share their columns, so a file with
 * `other_prompt` cannot be told apart: the submitter must say which.
 */
export function inferTaskType(columns: ReadonlySet<string>): CsvTaskType | "ambiguous" | undefined {
  const has = (name: ColumnName): boolean => columns.has(name);
  if (has("other_prompt")) return "ambiguous";
  if (has("true_answer") || has("anchor")) return "numeric";
  if (has("classes") || has("answer_index")) return "classification";
  if (has("completion")) return "sequence_prob";
  return undefined;
}

/** Types whose `classes` must hold exactly two entries (their metric is a difference of two log-probabilities). */
export function needsExactlyTwoClasses(taskType: TaskType): boolean {
  return taskType === "logodds" || taskType === "absolute_logodds";
}
