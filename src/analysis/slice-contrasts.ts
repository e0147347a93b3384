/**
 * The task-minus-other slope differences of a slices analysis: per control or variant and per family line of the
 * task, slopeDifference on the headline metric, or why the line could not be compared. Pure: the service
 * (src/review/slice-analyses.ts) and `isv analyse` (src/cli/analyse-slices.ts) both call it, so they cannot differ.
 */

import { metricValues, type FamilyResults } from "./analyse";
import { orientedMetric, withBehaviourColumns, type MatchingBehaviour } from "./behaviour";
import { AnalysisInputError, type ModelInput } from "./family-input";
import { fixedLabel } from "./labels";
import type { MetricDefinition } from "./metrics";
import type { SlicesAnalysis } from "./slices-analysis";
import { DEFAULT_SLOPE_DIFFERENCE_OPTIONS, slopeDifference, type SlopeDifference } from "./slope-difference";

/** A slice as compared: its role, the name it is shown by, whether it is paired with the task, and its lines. */
export interface ComparedSlice {
  kind: SlicesAnalysis["slices"][number]["kind"];
  name: string;
  paired: boolean;
  lines: readonly FamilyResults[];
}

/**
 * The task's slope minus each control's and variant's, line by line (lines matched by family, axis and what they
 * hold fixed). `matching` is a behaviour task's matching behaviour (its columns are derived and the metric oriented
 * first); the options default to the slope difference's (the analysis's seed and resamples).
 */
export function sliceContrasts(
  task: ComparedSlice,
  others: readonly ComparedSlice[],
  metric: MetricDefinition,
  matching: MatchingBehaviour | undefined,
  options: { seed?: number; bootstrapSamples?: number } = {},
): Pick<SlicesAnalysis, "contrasts" | "uncompared"> {
  const contrasts: SlopeDifference[] = [];
  const uncompared: SlicesAnalysis["uncompared"] = [];
  for (const other of others) {
    if (other.kind !== "control" && other.kind !== "variant") continue;
    for (const line of task.lines) {
      const match = other.lines.find((candidate) => sameLine(candidate, line));
      const where = { family: line.family, ...(line.fixed && { line: fixedLabel(line.fixed) }), other: other.name };
      if (!match) {
        uncompared.push({ ...where, reason: "the line has no results here" });
        continue;
      }
      try {
        contrasts.push(
          slopeDifference(
            {
              family: line.family,
              axis: line.axis,
              ...(line.axisScale && { axisScale: line.axisScale }),
              ...(line.fixed && { fixed: line.fixed }),
              metric: {
                name: metric.name,
                direction: metric.direction,
                ...(metric.orientation && { orientation: metric.orientation }),
              },
              task: modelInputs(line, metric, matching),
              other: { role: other.kind, label: other.name, models: modelInputs(match, metric, matching) },
            },
            { ...DEFAULT_SLOPE_DIFFERENCE_OPTIONS, ...options, pairing: other.paired ? "paired" : "unpaired" },
          ),
        );
      } catch (error) {
        if (!(error instanceof AnalysisInputError)) throw error;
        uncompared.push({ ...where, reason: error.message });
      }
    }
  }
  return { contrasts, uncompared };
}

const sameLine = (a: FamilyResults, b: FamilyResults): boolean =>
  a.family === b.family && a.axis === b.axis && JSON.stringify(a.fixed ?? null) === JSON.stringify(b.fixed ?? null);

/** A line's models with the metric's value per example (a behaviour task's columns derived first). */
function modelInputs(
  line: FamilyResults,
  metric: MetricDefinition,
  matching: MatchingBehaviour | undefined,
): ModelInput[] {
  return line.models.map((model) => ({
    id: model.id,
    scale: model.scale,
    values: metricValues(
      matching ? withBehaviourColumns(model.results, matching) : model.results,
      matching ? orientedMetric(metric, matching) : metric,
    ),
  }));
}
