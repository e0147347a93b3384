import type { TaskType } from "../validate/task-types";
import type { Direction } from "./statistics";

/** A metric as the prize pipeline's per-example result files carry it (see results-csv.ts). */
export interface MetricDefinition {
  name: string;
  /** The results column it is read from. */
  column: "loss" | "correct" | "logodds_difference" | "total_logprob";
  direction: Direction;
  /** Axis label, with units. */
  label: string;
  absolute?: boolean;
  taskTypes: readonly TaskType[];
}

export const METRICS = {
  loss: { name: "loss", column: "loss", direction: "lower_is_better", label: "Loss (nats)", taskTypes: ["classification", "sequence_prob"] },
  accuracy: {
    name: "accuracy",
    column: "correct",
    direction: "higher_is_better",
    label: "Accuracy (share correct)",
    taskTypes: ["classification", "logodds", "absolute_logodds"],
  },
  logodds_difference: {
    name: "logodds_difference",
    column: "logodds_difference",
    direction: "lower_is_better",
    label: "Log-odds difference (nats)",
    taskTypes: ["logodds"],
  },
  absolute_logodds_difference: {
    name: "absolute_logodds_difference",
    column: "logodds_difference",
    direction: "lower_is_better",
    label: "Absolute log-odds difference (nats)",
    absolute: true,
    taskTypes: ["absolute_logodds"],
  },
  coverage: {
    name: "coverage",
    column: "total_logprob",
    direction: "higher_is_better",
    label: "Log-probability on the offered classes (nats)",
    taskTypes: ["classification", "logodds", "absolute_logodds"],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

const DEFAULT_METRIC: Record<TaskType, MetricName | undefined> = {
  classification: "loss",
  sequence_prob: "loss",
  logodds: "logodds_difference",
  absolute_logodds: "absolute_logodds_difference",
  numeric: undefined,
};

/** The metric an analysis of this task type uses unless asked for another. */
export function defaultMetricName(taskType: TaskType): MetricName | undefined {
  return DEFAULT_METRIC[taskType];
}

export type MetricChoice = { ok: true; metric: MetricDefinition } | { ok: false; message: string };

export function chooseMetric(taskType: TaskType, name?: string): MetricChoice {
  if (taskType === "numeric") return { ok: false, message: "numeric tasks are out of scope for analysis: their metric needs sampled generations" };
  const chosen = name ?? DEFAULT_METRIC[taskType]!;
  const metric = (METRICS as Record<string, MetricDefinition>)[chosen];
  if (!metric || !metric.taskTypes.includes(taskType)) {
    const allowed = Object.values(METRICS).filter((m) => (m.taskTypes as readonly TaskType[]).includes(taskType)).map((m) => m.name);
    return { ok: false, message: `metric "${chosen}" does not apply to ${taskType} tasks; use one of ${allowed.join(", ")}` };
  }
  return { ok: true, metric };
}

/** The columns the pipeline writes for each task type, beyond the row index. */
export const RESULT_COLUMNS: Record<Exclude<TaskType, "numeric">, readonly MetricDefinition["column"][]> = {
  classification: ["loss", "correct"],
  sequence_prob: ["loss"],
  logodds: ["logodds_difference", "correct"],
  absolute_logodds: ["logodds_difference", "correct"],
};

/** What a model answering at random scores, where that is defined: from each example's number of classes. */
export function chanceLevel(metric: MetricDefinition, classCounts: readonly number[] | undefined): number | null {
  if (!classCounts || classCounts.length === 0) return null;
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  if (metric.name === "loss") return mean(classCounts.map((k) => Math.log(k)));
  if (metric.name === "accuracy") return mean(classCounts.map((k) => 1 / k));
  return null;
}
