import type { TaskType } from "../validate/task-types";

/** The task types whose results are analysed: a numeric task's metric needs sampled generations. */
export type AnalysedType = Exclude<TaskType, "numeric">;

/** The first column of a results file: the example's 0-based position in the task. */
export const INDEX_COLUMN = "index";

/**
 * The prize pipeline's per-example results files, one per model: after the row index, the columns it writes for
 * each task type, in its order. The one table both the reader (parseResultsCsv) and the writer (writeResultsCsv,
 * the evaluation export) use.
 */
export const RESULT_FILE_COLUMNS = {
  classification: ["loss", "correct", "predicted", "total_logprob"],
  sequence_prob: ["loss"],
  logodds: ["logodds_difference", "correct", "total_logprob"],
  absolute_logodds: ["logodds_difference", "correct", "total_logprob"],
  // A model-written evaluation: log of the total probability on the matching answers and on the others.
  behaviour: ["logprob_matching", "logprob_not_matching"],
} as const satisfies Record<AnalysedType, readonly string[]>;

export type ResultFileColumn = (typeof RESULT_FILE_COLUMNS)[AnalysedType][number];

/** Whether a task type's results have a file format: every type but numeric. */
export function hasResultsFile(taskType: string): taskType is AnalysedType {
  return Object.hasOwn(RESULT_FILE_COLUMNS, taskType);
}

/** Written but not analysed: classification's `predicted`, the index of the class the model chose. */
const NOT_ANALYSED = "predicted";

/** A column read from a results file: the written ones but `predicted`. */
export type ReadColumn = Exclude<ResultFileColumn, typeof NOT_ANALYSED>;

/**
 * Columns computed per example from a behaviour file's two log-probabilities (analysis/behaviour.ts), never
 * written: the matching probability, the matching win (1, 0.5 or 0) and, when one side is desired, the loss
 * toward it.
 */
export const DERIVED_COLUMNS = {
  behaviour: ["matching_probability", "matching_win", "loss"],
} as const satisfies Partial<Record<AnalysedType, readonly string[]>>;

export type DerivedColumn = (typeof DERIVED_COLUMNS)["behaviour"][number];

/** A column analysis reads (a metric's `column`): one read from the file or one derived from those. */
export type ResultColumn = ReadColumn | DerivedColumn;

const analysed = (columns: readonly ResultFileColumn[]): readonly ReadColumn[] =>
  columns.filter((column): column is ReadColumn => column !== NOT_ANALYSED);

/** The columns read from each task type's results file: the written ones but `predicted`. */
export const RESULT_COLUMNS: Record<AnalysedType, readonly ReadColumn[]> = {
  classification: analysed(RESULT_FILE_COLUMNS.classification),
  sequence_prob: analysed(RESULT_FILE_COLUMNS.sequence_prob),
  logodds: analysed(RESULT_FILE_COLUMNS.logodds),
  absolute_logodds: analysed(RESULT_FILE_COLUMNS.absolute_logodds),
  behaviour: analysed(RESULT_FILE_COLUMNS.behaviour),
};

/** Every column a metric of the task type may read: the file's, then those derived from them. */
export function analysableColumns(taskType: AnalysedType): readonly ResultColumn[] {
  const derived: readonly ResultColumn[] = taskType === "behaviour" ? DERIVED_COLUMNS.behaviour : [];
  return [...RESULT_COLUMNS[taskType], ...derived];
}

/** Files from before the pipeline wrote `total_logprob` lack it: a reader takes a file without it. */
export const OPTIONAL_RESULT_COLUMNS: ReadonlySet<ResultColumn> = new Set(["total_logprob"]);
