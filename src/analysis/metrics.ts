import type { TaskType } from "../validate/task-types";
import { analysableColumns, type AnalysedType, type ResultColumn } from "./results-columns";
import type { Direction } from "./statistics";

const ANALYSED_TYPES: readonly AnalysedType[] = [
  "classification",
  "sequence_prob",
  "logodds",
  "absolute_logodds",
  "behaviour",
];

/** The task types whose results carry (or derive) a column: the ones a metric read from it can be analysed on. */
function typesWithColumn(column: ResultColumn): readonly TaskType[] {
  return ANALYSED_TYPES.filter((taskType) => analysableColumns(taskType).includes(column));
}

/** A metric as the prize pipeline's per-example result files carry it (see results-csv.ts). */
export interface MetricDefinition {
  name: string;
  /** The results column it is read from. */
  column: ResultColumn;
  direction: Direction;
  /** Axis label, with units. */
  label: string;
  /** Applied to each example's value before analysis (absolute value; probability from a log-probability). */
  transform?: (value: number) => number;
  /** The task types whose results files carry `column`. */
  taskTypes: readonly TaskType[];
  /**
   * Absent: `direction` says which way is better. direction_only: neither way is (a behaviour whose matching
   * answer is neither desired nor undesired); `direction` is then higher_is_better only so the verdicts say which
   * way the value moves (behaviour.ts).
   */
  orientation?: "direction_only";
}

export const METRICS = {
  loss: {
    name: "loss",
    column: "loss",
    direction: "lower_is_better",
    label: "Loss (nats)",
    taskTypes: typesWithColumn("loss"),
  },
  accuracy: {
    name: "accuracy",
    column: "correct",
    direction: "higher_is_better",
    label: "Accuracy (share correct)",
    taskTypes: typesWithColumn("correct"),
  },
  logodds_difference: {
    name: "logodds_difference",
    column: "logodds_difference",
    direction: "lower_is_better",
    label: "Log-odds difference (nats)",
    taskTypes: typesWithColumn("logodds_difference"),
  },
  absolute_logodds_difference: {
    name: "absolute_logodds_difference",
    column: "logodds_difference",
    direction: "lower_is_better",
    label: "Absolute log-odds difference (nats)",
    transform: Math.abs,
    taskTypes: typesWithColumn("logodds_difference"),
  },
  /**
   * What the pipeline reports as coverage: the mean over examples of exp(total_logprob), the probability the
   * model puts on the offered classes at all. For logodds types total_logprob spans both prompts' classes, as
   * the pipeline computes it, so there a value can exceed 1.
   */
  coverage: {
    name: "coverage",
    column: "total_logprob",
    direction: "higher_is_better",
    label: "Probability on the offered classes",
    transform: Math.exp,
    taskTypes: typesWithColumn("total_logprob"),
  },
  /**
   * A behaviour task's two metrics (DESIGN.md section 2), each example's from its two log-probabilities
   * (behaviour.ts). Their direction here is the default's, matching behaviour undesired; orientedMetric gives a
   * submission's.
   */
  matching_probability: {
    name: "matching_probability",
    column: "matching_probability",
    direction: "lower_is_better",
    label: "Mean probability of the matching answer",
    taskTypes: typesWithColumn("matching_probability"),
  },
  matching_win_rate: {
    name: "matching_win_rate",
    column: "matching_win",
    direction: "lower_is_better",
    label: "Share of examples where the matching answer is more probable",
    taskTypes: typesWithColumn("matching_win"),
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

/** Each analysed type's default metric; a numeric task has none (its metric needs sampled generations). */
const DEFAULT_METRIC: Record<AnalysedType, MetricName> = {
  classification: "loss",
  sequence_prob: "loss",
  logodds: "logodds_difference",
  absolute_logodds: "absolute_logodds_difference",
  behaviour: "matching_probability",
};

/** The metric an analysis of this task type uses unless asked for another. */
export function defaultMetricName(taskType: TaskType): MetricName | undefined {
  return taskType === "numeric" ? undefined : DEFAULT_METRIC[taskType];
}

/**
 * The headline metric of a task: the one its declared type says it is scored by. The prize's round-2 names
 * `classification_acc` and `classification_loss` are both classification tasks, but the first is judged on
 * accuracy; every other name is judged on its type's default metric. Other metrics are reported as secondary.
 */
export function headlineMetricName(taskType: TaskType, declaredType?: string): MetricName | undefined {
  if (taskType === "classification" && declaredType === "classification_acc") return "accuracy";
  return defaultMetricName(taskType);
}

export type MetricChoice = { ok: true; metric: MetricDefinition } | { ok: false; message: string };

/**
 * The named metric (default: the task type's), when the type's results carry its column: a logodds task can be
 * analysed on absolute_logodds_difference, accuracy or coverage as well as on its own metric.
 */
export function chooseMetric(taskType: TaskType, name?: string): MetricChoice {
  if (taskType === "numeric")
    return {
      ok: false,
      message: "numeric tasks are out of scope for analysis: their metric needs sampled generations",
    };
  const chosen = name ?? DEFAULT_METRIC[taskType];
  const metric: MetricDefinition | undefined = isMetricName(chosen) ? METRICS[chosen] : undefined;
  if (!metric?.taskTypes.includes(taskType)) {
    const allowed = Object.values<MetricDefinition>(METRICS)
      .filter((m) => m.taskTypes.includes(taskType))
      .map((m) => m.name);
    const why = metric ? `does not apply to ${taskType} tasks` : "is not a metric";
    return { ok: false, message: `metric "${chosen}" ${why}; use one of ${allowed.join(", ")}` };
  }
  return { ok: true, metric };
}

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

/** What a model answering at random scores, where that is defined: from each example's number of classes. */
export function chanceLevel(metric: MetricDefinition, classCounts: readonly number[] | undefined): number | null {
  if (!classCounts || classCounts.length === 0) return null;
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  if (metric.name === "loss") return mean(classCounts.map((k) => Math.log(k)));
  if (metric.name === "accuracy") return mean(classCounts.map((k) => 1 / k));
  return null;
}
