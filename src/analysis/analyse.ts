import type { Analysis as GeneratedAnalysis } from "../generated/types";
import type { TaskType } from "../validate/task-types";
import { at } from "./checked";
import { chanceLevel, type MetricDefinition } from "./metrics";
import type { ModelResults } from "./results-csv";
import type { UnfitLine } from "./family";
import type { AxisScale, LineFixed } from "./family-input";
import {
  ANALYSIS_CODE_VERSION,
  AnalysisInputError,
  DECISION_RULE,
  analyseFamilyMetrics,
  type MetricInput,
  type AnalysisOptions,
  type FamilyAnalysis,
  type Verdict,
} from "./statistics";

/** Version of the analysis object's shape (schemas/analysis.schema.json). */
export const ANALYSIS_SCHEMA_VERSION = 2;

/** One family's results, or one line of a grid family's (familyLines in family.ts gives them). */
export interface FamilyResults {
  family: string;
  axis: "params" | "flops" | "rlhf_steps";
  /** Absent: linear for RLHF steps that include 0, else log10 (family-input.ts axisScaleOf). */
  axisScale?: AxisScale;
  /** What a line of a grid family holds fixed; absent for a family that is one line. */
  fixed?: LineFixed;
  models: { id: string; scale: number; results: ModelResults }[];
}

/** The task's headline metric (the one its declared type is scored by) or a secondary one. */
export type MetricRole = GeneratedAnalysis["role"];

/**
 * One metric's analysis, derived from the type generated from schemas/analysis.schema.json. Two fields are kept
 * wider than the schema's: taskType is any TaskType (the schema lists only analysed types; callers never analyse a
 * numeric task, see hasResultsFile), and families are FamilyAnalysis, whose models are a plain array (the
 * schema's "at least two" is enforced by analyseFamily, which refuses fewer). See statistics.ts and the schema
 * for what each field means.
 */
export interface Analysis extends Omit<GeneratedAnalysis, "taskType" | "families"> {
  taskType: TaskType;
  families: FamilyAnalysis[];
}

/** A metric to analyse and its place in the task's results. */
export interface MetricToAnalyse {
  metric: MetricDefinition;
  role: MetricRole;
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
  return at(analyseMetrics(taskType, [{ metric, role }], families, options, classCounts), 0);
}

/**
 * analyse for several metrics of the same results, in order: each analysis is exactly what analyse gives alone,
 * but the metrics of a family share their bootstrap draws (analyseFamilyMetrics). `unfit` lines (familyLines in
 * family.ts) are listed in every analysis's `unanalysed`, with their reason, after the families refused here.
 */
export function analyseMetrics(
  taskType: TaskType,
  metrics: readonly MetricToAnalyse[],
  families: FamilyResults[],
  options: Omit<AnalysisOptions, "direction">,
  classCounts?: readonly number[],
  unfit: readonly UnfitLine[] = [],
): Analysis[] {
  const perMetric = metrics.map(() => ({ analyses: [] as FamilyAnalysis[], unanalysed: [] as Analysis["unanalysed"] }));
  for (const family of families) {
    const inputs = metrics.map(({ metric }) => {
      try {
        const models = family.models.map((model) => ({
          id: model.id,
          scale: model.scale,
          values: metricValues(model.results, metric),
        }));
        const { axisScale, fixed } = family;
        return {
          input: {
            family: family.family,
            axis: family.axis,
            ...(axisScale && { axisScale }),
            ...(fixed && { fixed }),
            models,
          },
          options: { ...options, direction: metric.direction },
        };
      } catch (error) {
        if (!(error instanceof AnalysisInputError)) throw error;
        return error;
      }
    });
    const valid = inputs.filter((input): input is MetricInput => !(input instanceof AnalysisInputError));
    const analysed = analyseFamilyMetrics(valid);
    let next = 0;
    for (const [k, input] of inputs.entries()) {
      const outcome = input instanceof AnalysisInputError ? input : at(analysed, next++);
      const target = at(perMetric, k);
      if (outcome instanceof AnalysisInputError) target.unanalysed.push(unanalysedEntry(family, outcome.message));
      else target.analyses.push(outcome);
    }
  }
  for (const line of unfit) for (const target of perMetric) target.unanalysed.push(unanalysedEntry(line, line.reason));
  // A grid family gives several lines: the summary then counts lines ("inverse in 2 of 3 lines").
  const total = families.length + unfit.length;
  const names = new Set([...families, ...unfit].map((family) => family.family));
  const noun = names.size < total ? (["line", "lines"] as const) : (["family", "families"] as const);
  return metrics.map(({ metric, role }, k) => {
    const { analyses, unanalysed } = at(perMetric, k);
    return summarise(taskType, metric, role, total, noun, analyses, unanalysed, options, classCounts);
  });
}

/** Why a family (or a line of one, named by its axis and what it holds fixed) was not analysed. */
function unanalysedEntry(
  family: Pick<FamilyResults, "family" | "axis" | "fixed">,
  reason: string,
): Analysis["unanalysed"][number] {
  return family.fixed
    ? { family: family.family, reason, axis: family.axis, fixed: family.fixed }
    : { family: family.family, reason };
}

/** One metric's analysis object, with the counts of each verdict in words. */
function summarise(
  taskType: TaskType,
  metric: MetricDefinition,
  role: MetricRole,
  total: number,
  [one, many]: readonly [string, string],
  analyses: FamilyAnalysis[],
  unanalysed: Analysis["unanalysed"],
  options: Omit<AnalysisOptions, "direction">,
  classCounts?: readonly number[],
): Analysis {
  const counts: Partial<Record<Verdict, number>> = {};
  for (const family of analyses) counts[family.verdict] = (counts[family.verdict] ?? 0) + 1;
  const text = [
    ...Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([verdict, count]) => `${verdict.replace("_", "-")} in ${count} of ${total} ${total === 1 ? one : many}`),
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

export function metricValues(results: ModelResults, metric: MetricDefinition): Float64Array {
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
