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
} as const satisfies Record<AnalysedType, readonly string[]>;

export type ResultFileColumn = (typeof RESULT_FILE_COLUMNS)[AnalysedType][number];

/** Whether a task type's results have a file format: every type but numeric. */
export function hasResultsFile(taskType: string): taskType is AnalysedType {
  return Object.hasOwn(RESULT_FILE_COLUMNS, taskType);
}

/** Written but not analysed: classification's `predicted`, the index of the class the model chose. */
const NOT_ANALYSED = "predicted";

/** A column analysis reads (a metric's `column`). */
export type ResultColumn = Exclude<ResultFileColumn, typeof NOT_ANALYSED>;

const analysed = (columns: readonly ResultFileColumn[]): readonly ResultColumn[] =>
  columns.filter((column): column is ResultColumn => column !== NOT_ANALYSED);

/** The columns analysis reads for each task type: the written ones but `predicted`. */
export const RESULT_COLUMNS: Record<AnalysedType, readonly ResultColumn[]> = {
  classification: analysed(RESULT_FILE_COLUMNS.classification),
  sequence_prob: analysed(RESULT_FILE_COLUMNS.sequence_prob),
  logodds: analysed(RESULT_FILE_COLUMNS.logodds),
  absolute_logodds: analysed(RESULT_FILE_COLUMNS.absolute_logodds),
};

/** Files from before the pipeline wrote `total_logprob` lack it: a reader takes a file without it. */
export const OPTIONAL_RESULT_COLUMNS: ReadonlySet<ResultColumn> = new Set(["total_logprob"]);
