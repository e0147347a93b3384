import type { TaskType } from "../validate/task-types";
import { chanceLevel, type MetricDefinition } from "./metrics";
import type { ModelResults } from "./results-csv";
import {
  ANALYSIS_CODE_VERSION,
  AnalysisInputError,
  DECISION_RULE,
  analyseFamily,
  type AnalysisOptions,
  type DecisionRule,
  type FamilyAnalysis,
  type Verdict,
} from "./statistics";

/** Version of the analysis object's shape (schemas/analysis.schema.json). */
export const ANALYSIS_SCHEMA_VERSION = 2;

export interface FamilyResults {
  family: string;
  axis: "params" | "flops" | "rlhf_steps";
  models: { id: string; scale: number; results: ModelResults }[];
}

export type MetricRole = "headline" | "secondary";

export interface Analysis {
  schemaVersion: typeof ANALYSIS_SCHEMA_VERSION;
  codeVersion: string;
  taskType: TaskType;
  /** The task's headline metric (the one its declared type is scored by) or a secondary one. */
  role: MetricRole;
  metric: Pick<MetricDefinition, "name" | "column" | "direction" | "label">;
  seed: number;
  /** Resamples asked for; each family records how many it drew. */
  bootstrapSamples: number;
  equivalenceMargin: number;
  minSharedExamples: number;
  /** The error rates the verdicts are claimed at (statistics.ts). */
  decisionRule: DecisionRule;
  /** The metric's value for a model answering at random, where defined (classification loss and accuracy). */
  chance: number | null;
  families: FamilyAnalysis[];
  /** Families whose results cannot support a verdict (too few shared examples, one scale…), and why. */
  unanalysed: { family: string; reason: string }[];
  summary: { counts: Partial<Record<Verdict, number>>; text: string };
}

/**
 * Analyses one metric across families. Deterministic: the same inputs and seed give the same object (no clock),
 * so an analysis can be reproduced from what it records.
 */
export function analyse(
  taskType: TaskType,
  metric: MetricDefinition,
  families: FamilyResults[],
  options: Omit<AnalysisOptions, "direction">,
  classCounts?: readonly number[],
  role: MetricRole = "headline",
): Analysis {
  const analyses: FamilyAnalysis[] = [];
  const unanalysed: Analysis["unanalysed"] = [];
  for (const family of families) {
    try {
      const models = family.models.map((model) => ({
        id: model.id,
        scale: model.scale,
        values: metricValues(model.results, metric),
      }));
      analyses.push(
        analyseFamily(
          { family: family.family, axis: family.axis, models },
          { ...options, direction: metric.direction },
        ),
      );
    } catch (error) {
      if (!(error instanceof AnalysisInputError)) throw error;
      unanalysed.push({ family: family.family, reason: error.message });
    }
  }
  const counts: Partial<Record<Verdict, number>> = {};
  for (const family of analyses) counts[family.verdict] = (counts[family.verdict] ?? 0) + 1;
  const total = families.length;
  const text = [
    ...Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(
        ([verdict, count]) =>
          `${verdict.replace("_", "-")} in ${count} of ${total} ${total === 1 ? "family" : "families"}`,
      ),
    ...(unanalysed.length > 0 ? [`not analysed in ${unanalysed.length} of ${total}`] : []),
  ].join("; ");
  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    codeVersion: ANALYSIS_CODE_VERSION,
    taskType,
    role,
    metric: { name: metric.name, column: metric.column, direction: metric.direction, label: metric.label },
    seed: options.seed,
    bootstrapSamples: options.bootstrapSamples,
    equivalenceMargin: options.equivalenceMargin,
    minSharedExamples: options.minSharedExamples,
    decisionRule: DECISION_RULE,
    chance: chanceLevel(metric, classCounts),
    families: analyses,
    unanalysed,
    summary: { counts, text },
  };
}

function metricValues(results: ModelResults, metric: MetricDefinition): Float64Array {
  const column = results.columns[metric.column];
  if (!column)
    throw new AnalysisInputError(`the results have no "${metric.column}" column, which metric "${metric.name}" needs`);
  if (results.unsignedLogodds && metric.column === "logodds_difference" && metric.transform === undefined) {
    throw new AnalysisInputError(
      `these results are in the pipeline's per-prompt format, which gives the log-odds difference without its sign; analyse absolute_logodds_difference instead`,
    );
  }
  const transform = metric.transform;
  return transform ? column.map((value) => transform(value)) : column;
}
