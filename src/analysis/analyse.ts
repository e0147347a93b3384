import type { TaskType } from "../validate/task-types";
import { chanceLevel, type MetricDefinition } from "./metrics";
import type { ModelResults } from "./results-csv";
import { ANALYSIS_CODE_VERSION, analyseFamily, type AnalysisOptions, type FamilyAnalysis, type Verdict } from "./statistics";

/** Version of the analysis object's shape (schemas/analysis.schema.json). */
export const ANALYSIS_SCHEMA_VERSION = 1;

export interface FamilyResults {
  family: string;
  axis: "params" | "flops" | "rlhf_steps";
  models: { id: string; scale: number; results: ModelResults }[];
}

export interface Analysis {
  schemaVersion: typeof ANALYSIS_SCHEMA_VERSION;
  codeVersion: string;
  taskType: TaskType;
  metric: Pick<MetricDefinition, "name" | "column" | "direction" | "label">;
  seed: number;
  bootstrapSamples: number;
  equivalenceMargin: number;
  /** The metric's value for a model answering at random, where defined (classification loss and accuracy). */
  chance: number | null;
  families: FamilyAnalysis[];
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
): Analysis {
  const analyses = families.map((family) =>
    analyseFamily(
      {
        family: family.family,
        axis: family.axis,
        models: family.models.map((model) => ({ id: model.id, scale: model.scale, values: metricValues(model.results, metric) })),
      },
      { ...options, direction: metric.direction },
    ),
  );
  const counts: Partial<Record<Verdict, number>> = {};
  for (const family of analyses) counts[family.verdict] = (counts[family.verdict] ?? 0) + 1;
  const text = Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([verdict, count]) => `${verdict.replace("_", "-")} in ${count} of ${analyses.length} ${analyses.length === 1 ? "family" : "families"}`)
    .join("; ");
  return {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    codeVersion: ANALYSIS_CODE_VERSION,
    taskType,
    metric: { name: metric.name, column: metric.column, direction: metric.direction, label: metric.label },
    seed: options.seed,
    bootstrapSamples: options.bootstrapSamples,
    equivalenceMargin: options.equivalenceMargin,
    chance: chanceLevel(metric, classCounts),
    families: analyses,
    summary: { counts, text },
  };
}

function metricValues(results: ModelResults, metric: MetricDefinition): Float64Array {
  const column = results.columns[metric.column];
  if (!column) throw new RangeError(`the results have no "${metric.column}" column, which metric "${metric.name}" needs`);
  return metric.absolute ? column.map(Math.abs) : column;
}
