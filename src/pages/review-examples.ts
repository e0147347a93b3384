import { familyScales } from "../analysis/family";
import { METRICS, type MetricName } from "../analysis/metrics";
import type { ExampleMetrics } from "../evaluate/metrics";
import { currentEvaluations, type EvaluationRecord } from "../storage/evaluations";
import { readExamples } from "../storage/examples";
import { listResults, type ResultRow } from "../storage/results";
import type { SubmissionRecord } from "../storage/submissions";
import type { Example } from "../validate/row-rules";

/** How many examples the task page shows per family. */
export const DRIVING_EXAMPLES = 10;

/** An example whose headline metric gets worse the most from a family's smallest model to its largest. */
export interface DrivingExample {
  /** 0-based, in the task's order (the results' example_index). */
  index: number;
  /** As stored at intake; undefined only if the stored examples are missing. */
  example: Example | undefined;
  smallest: number;
  largest: number;
  /** How much worse the largest model does than the smallest (positive: inverse scaling on this example). */
  worsening: number;
}

export interface FamilyDrivers {
  family: string;
  metric: MetricName;
  smallestModel: string;
  largestModel: string;
  examples: DrivingExample[];
}

/** An evaluation whose results are final (all of them, or all that could be scored). */
const finished = (evaluation: EvaluationRecord): boolean =>
  evaluation.state === "evaluated" || evaluation.state === "partially_evaluated";

/** The metric's value for one example's stored metrics, transformed as analysis transforms it. */
function metricValue(metrics: ExampleMetrics | null, metric: MetricName): number | undefined {
  const definition = METRICS[metric];
  const raw = metrics?.[definition.column];
  if (typeof raw !== "number") return undefined;
  return "transform" in definition ? definition.transform(raw) : raw;
}

/**
 * The `count` examples that get worse most from `smallest` to `largest` (ties by the task's order): those a
 * reviewer reads to judge whether the effect is the phenomenon or an artefact of formatting. "Worse" follows the
 * metric's direction (loss up, accuracy down). Examples flagged or unscored on either model are left out.
 */
export function rankDrivers(
  results: readonly ResultRow[],
  metric: MetricName,
  smallest: string,
  largest: string,
  count = DRIVING_EXAMPLES,
): Omit<DrivingExample, "example">[] {
  const small = new Map<number, number>();
  const large = new Map<number, number>();
  for (const row of results) {
    const value = metricValue(row.metrics, metric);
    if (value === undefined) continue;
    if (row.model === smallest) small.set(row.index, value);
    else if (row.model === largest) large.set(row.index, value);
  }
  const sign = METRICS[metric].direction === "lower_is_better" ? 1 : -1;
  const ranked: Omit<DrivingExample, "example">[] = [];
  for (const [index, smallValue] of small) {
    const largeValue = large.get(index);
    if (largeValue === undefined) continue;
    ranked.push({ index, smallest: smallValue, largest: largeValue, worsening: sign * (largeValue - smallValue) });
  }
  ranked.sort((a, b) => b.worsening - a.worsening || a.index - b.index);
  return ranked.slice(0, count);
}

/** The family's smallest and largest models on its own axis, or undefined if it has fewer than two. */
function extremes(evaluation: EvaluationRecord): { smallest: string; largest: string } | undefined {
  const scales = familyScales(evaluation.familyDefinition);
  if (!scales.ok || scales.scales.size < 2) return undefined;
  const ordered = [...scales.scales].sort((a, b) => a[1] - b[1]);
  const smallest = ordered[0]?.[0];
  const largest = ordered.at(-1)?.[0];
  return smallest === undefined || largest === undefined ? undefined : { smallest, largest };
}

/**
 * For each family evaluated on the submission's current file, the examples that drive its headline verdict, from
 * the stored per-example results and the stored examples. Empty for a task without a headline metric.
 */
export async function drivingExamples(
  bindings: Pick<Env, "DB" | "BLOBS">,
  submission: SubmissionRecord,
): Promise<FamilyDrivers[]> {
  const metric = submission.headlineMetric;
  if (metric === null) return [];
  const evaluations = (await currentEvaluations(bindings.DB, submission)).filter(finished);
  if (evaluations.length === 0) return [];
  const examples = (await readExamples(bindings.BLOBS, submission.examplesKey)) ?? [];
  const drivers: FamilyDrivers[] = [];
  for (const evaluation of evaluations) {
    const ends = extremes(evaluation);
    if (!ends) continue;
    const ranked = rankDrivers(await listResults(bindings.DB, evaluation.id), metric, ends.smallest, ends.largest);
    drivers.push({
      family: evaluation.family,
      metric,
      smallestModel: ends.smallest,
      largestModel: ends.largest,
      examples: ranked.map((entry) => ({ ...entry, example: examples[entry.index] })),
    });
  }
  return drivers;
}
