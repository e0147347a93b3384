import { readStoredJson } from "../storage/stored-json";
import type { StorageBindings } from "../storage/bindings";
import {
  analyseMetrics,
  type Analysis,
  type FamilyResults,
  type MetricRole,
  type MetricToAnalyse,
} from "../analysis/analyse";
import { analyseBehaviour, behaviourMetrics, matchingBehaviourOf } from "../analysis/behaviour";
import { familyAxes, familyLines, type FamilyDefinition, type UnfitLine } from "../analysis/family";
import { METRICS, chooseMetric, defaultMetricName, type MetricDefinition, type MetricName } from "../analysis/metrics";
import { parseResultsCsv, type ModelResults } from "../analysis/results-csv";
import { DEFAULT_OPTIONS } from "../analysis/statistics";
import { insertAnalysis } from "../storage/analyses";
import { listExternalResults } from "../storage/external-results";
import { currentEvaluations } from "../storage/evaluations";
import { listResults } from "../storage/results";
import { readExamples } from "../storage/examples";
import { listSubmissionFiles, type SubmissionFile } from "../storage/submission-files";
import { sliceResults } from "../analysis/slices";
import { at } from "../analysis/checked";
import type { Example } from "../validate/row-rules";
import type { SubmissionRecord } from "../storage/submissions";
import type { TaskType } from "../validate/task-types";

export interface FamilyData {
  definition: FamilyDefinition;
  results: Map<string, ModelResults>;
}

export const resultsKey = (prefix: string, model: string): string => `${prefix}/${encodeURIComponent(model)}.csv`;

/**
 * Every family with results for a submission: uploaded ones (newest upload per family) and finished evaluations
 * (newest per family), plus `replacing`, which stands in for the stored family of the same name.
 */
export async function submissionFamilies(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  replacing?: FamilyData,
  ending?: string,
): Promise<FamilyData[]> {
  const taskType = submission.taskType;
  const families = new Map<string, FamilyData>();
  for (const evaluation of (await currentEvaluations(bindings.DB, submission)).reverse()) {
    // The newest ended evaluation with results per family, or `ending`, the one about to end (analysed before it
    // is marked). Older runs of a family are not read at all.
    if (families.has(evaluation.family)) continue;
    if (evaluation.id !== ending && evaluation.state !== "evaluated" && evaluation.state !== "partially_evaluated")
      continue;
    families.set(evaluation.family, {
      definition: evaluation.familyDefinition,
      results: evaluationResults(await listResults(bindings.DB, evaluation.id), submission.exampleCount),
    });
  }
  for (const record of await listExternalResults(bindings.DB, submission)) {
    const definition = readStoredJson<FamilyDefinition>(record.familyJson);
    const results = new Map<string, ModelResults>();
    for (const model of definition.models) {
      const object = await bindings.BLOBS.get(resultsKey(record.resultsPrefix, model.id));
      if (!object) throw new Error(`stored results ${resultsKey(record.resultsPrefix, model.id)} are missing`);
      const parsed = parseResultsCsv(await object.text(), taskType, submission.exampleCount);
      if (!parsed.ok) throw new Error(`stored results for ${model.id} no longer parse: ${parsed.problems[0]}`);
      results.set(model.id, parsed.results);
    }
    families.set(definition.name, { definition, results });
  }
  if (replacing) families.set(replacing.definition.name, replacing);
  return [...families.values()].sort((a, b) => a.definition.name.localeCompare(b.definition.name));
}

/**
 * The result columns an evaluation writes that analysis reads. A behaviour example also stores its matching
 * probability and win (for progress), but they are derived again from its log-probabilities, as for an upload.
 */
const EVALUATED_COLUMNS = [
  "loss",
  "correct",
  "logodds_difference",
  "total_logprob",
  "logprob_matching",
  "logprob_not_matching",
] as const;

function evaluationResults(rows: Awaited<ReturnType<typeof listResults>>, examples: number): Map<string, ModelResults> {
  const models = new Map<string, { rows: number; columns: Record<(typeof EVALUATED_COLUMNS)[number], Float64Array> }>();
  for (const row of rows) {
    let model = models.get(row.model);
    if (!model) {
      const column = (): Float64Array => new Float64Array(examples).fill(NaN);
      model = {
        rows: 0,
        columns: {
          loss: column(),
          correct: column(),
          logodds_difference: column(),
          total_logprob: column(),
          logprob_matching: column(),
          logprob_not_matching: column(),
        },
      };
      models.set(row.model, model);
    }
    model.rows++;
    if (!row.metrics) continue; // a flagged example (token boundary, multi-token class) is excluded, not scored
    for (const name of EVALUATED_COLUMNS) {
      const value = row.metrics[name];
      if (value !== undefined) model.columns[name][row.index] = value;
    }
  }
  // A column with no value at all (a metric the task type does not have) is left out.
  const results = new Map<string, ModelResults>();
  for (const [id, model] of models) {
    const columns: ModelResults["columns"] = {};
    for (const name of EVALUATED_COLUMNS) {
      const column = model.columns[name];
      if (!column.every((value) => Number.isNaN(value))) columns[name] = column;
    }
    results.set(id, { rows: model.rows, columns });
  }
  return results;
}

/** A metric's place in a submission's results: the headline it is judged on, or secondary. */
export function metricRole(submission: Pick<SubmissionRecord, "headlineMetric">, metric: string): MetricRole {
  return metric === submission.headlineMetric ? "headline" : "secondary";
}

/** Entries listed for people: the headline metric's first, then the secondary ones in their given order. */
export function headlineFirst<T extends { metric: string }>(
  submission: Pick<SubmissionRecord, "headlineMetric">,
  entries: readonly T[],
): T[] {
  return [
    ...entries.filter((entry) => metricRole(submission, entry.metric) === "headline"),
    ...entries.filter((entry) => metricRole(submission, entry.metric) === "secondary"),
  ];
}

/**
 * The submission's headline metric first (the one its declared type is scored by), then as secondary the task
 * type's default metric (when it is not the headline), accuracy and coverage, where they apply and every family's
 * results have their column. A classification_acc task: accuracy, then loss and coverage. (A behaviour task's
 * metrics depend on its matching behaviour: behaviourMetrics.)
 */
function applicableMetrics(taskType: TaskType, headline: MetricName | null, families: FamilyData[]): MetricToAnalyse[] {
  if (headline === null) return [];
  const first = chooseMetric(taskType, headline);
  if (!first.ok) return [];
  const metrics: MetricToAnalyse[] = [{ metric: first.metric, role: "headline" }];
  const candidates = [defaultMetricName(taskType), "accuracy", "coverage"] as const;
  for (const name of candidates) {
    if (name === undefined || metrics.some(({ metric }) => metric.name === name)) continue;
    const extra: MetricDefinition = METRICS[name];
    const applies = extra.taskTypes.includes(taskType);
    const present = families.every((family) =>
      [...family.results.values()].every((model) => model.columns[extra.column] !== undefined),
    );
    if (applies && present) metrics.push({ metric: extra, role: "secondary" });
  }
  return metrics;
}

/**
 * Analyses of every applicable metric over the given families (the chance level from the examples' classes), the
 * headline metric's first, each marked with its role. A submission of several files is analysed on its task: its
 * parts' examples, in order (the controls and variants are slices: slice-analyses.ts).
 */
export async function analysesFor(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  families: FamilyData[],
): Promise<Record<string, Analysis>> {
  const files = await listSubmissionFiles(bindings.DB, submission.id, submission.fileVersion);
  const indices = files.length > 0 ? taskIndices(files) : undefined;
  const examples = needsExamples(submission.taskType)
    ? await readExamples(bindings.BLOBS, submission.examplesKey)
    : undefined;
  const scope: ExamplesScope = {
    taskType: submission.taskType,
    ...(examples && { classCounts: classCountsOf(examples, indices) }),
  };
  return analyseScope(submission, scope, indices ? sliceFamilies(families, indices) : families).analyses;
}

/** Which examples a set of analyses is of: their task type, and the classes each has (for the chance level). */
export interface ExamplesScope {
  taskType: TaskType;
  classCounts?: number[];
}

/**
 * A behaviour task's metrics compare the matching side with the other, whatever the number of answers, and a
 * sequence_prob task has no classes: the classes' count gives no chance level for them.
 */
export const needsExamples = (taskType: TaskType): boolean => taskType !== "sequence_prob" && taskType !== "behaviour";

/** Each example's number of classes, of the examples at `indices` (all when absent), in that order. */
export function classCountsOf(examples: readonly Example[], indices?: readonly number[]): number[] {
  const chosen = indices ? indices.map((index) => at(examples, index)) : examples;
  return chosen.flatMap((example) => ("classes" in example ? [example.classes.length] : []));
}

/** The task's examples in a submission of several files: its parts', in the metadata's order. */
export function taskIndices(files: readonly SubmissionFile[]): number[] {
  return files.filter((file) => file.role === "part").flatMap((file) => fileIndices(file));
}

export const fileIndices = (file: Pick<SubmissionFile, "firstExample" | "exampleCount">): number[] =>
  Array.from({ length: file.exampleCount }, (_, k) => file.firstExample + k);

/** Every family's results cut to the examples at `indices`, in that order (sliceResults). */
export function sliceFamilies(families: readonly FamilyData[], indices: readonly number[]): FamilyData[] {
  return families.map(({ definition, results }) => ({
    definition,
    results: new Map([...results].map(([model, modelResults]) => [model, sliceResults(modelResults, indices)])),
  }));
}

/**
 * The analyses of one set of examples' results (`headlineOnly`: of the headline metric alone), and the lines they
 * were made from. The submission gives the headline metric and, for a behaviour task, which way is good.
 */
export function analyseScope(
  submission: Pick<SubmissionRecord, "headlineMetric" | "metadata">,
  scope: ExamplesScope,
  families: FamilyData[],
  headlineOnly = false,
): { analyses: Record<string, Analysis>; lines: FamilyResults[] } {
  const { taskType, classCounts } = scope;
  const analyses: Record<string, Analysis> = {};
  const { lines, unfit } = linesOf(families);
  if (lines.length === 0) return { analyses, lines };
  let analysed: Analysis[];
  if (taskType === "behaviour") {
    // Which way is good comes from the submission: it orients the metrics and decides whether a loss exists.
    const matching = matchingBehaviourOf(submission.metadata);
    const metrics = behaviourMetrics(matching).filter((metric) => !headlineOnly || metric.role === "headline");
    analysed = analyseBehaviour(metrics, lines, matching, DEFAULT_OPTIONS, unfit);
  } else {
    const metrics = applicableMetrics(taskType, submission.headlineMetric, families);
    const chosen = headlineOnly ? metrics.slice(0, 1) : metrics;
    analysed = analyseMetrics(taskType, chosen, lines, DEFAULT_OPTIONS, classCounts, unfit);
  }
  for (const analysis of analysed) analyses[analysis.metric.name] = analysis;
  return { analyses, lines };
}

/**
 * The lines to analyse, along every axis of each family (familyAxes: a grid of sizes and RLHF steps is analysed
 * along both, one line per value held fixed), with only the models that scored something. A family cut short to
 * fewer than two such models (a budget, a failing provider) is left out, as it always was; a line that cannot show
 * a trend otherwise is listed in the analyses' `unanalysed` with its reason.
 */
function linesOf(families: FamilyData[]): { lines: FamilyResults[]; unfit: UnfitLine[] } {
  const lines: FamilyResults[] = [];
  const unfit: UnfitLine[] = [];
  for (const { definition, results } of families) {
    const scored = new Map(
      [...results].filter(([, model]) =>
        Object.values(model.columns).some((column) => column.some((value) => Number.isFinite(value))),
      ),
    );
    for (const axis of familyAxes(definition)) {
      const expanded = familyLines(definition, scored, axis);
      // A family that cannot be placed on its axis is listed with the reason; the others are still analysed.
      if (!expanded.ok) {
        unfit.push({ family: definition.name, axis, models: [...scored.keys()], reason: expanded.message });
        continue;
      }
      lines.push(...expanded.lines);
      // A line of a grid, or a family whose scored models share one scale, is listed with its reason; a family
      // with fewer than two scored models is one whose evaluation was cut short, and is left out as before.
      unfit.push(...expanded.unfit.filter((line) => line.fixed !== undefined || line.models.length >= 2));
    }
  }
  return { lines, unfit };
}

/** Analyses are stored against the file version their results were computed on. */
export function analysisStatements(
  db: D1Database,
  submission: { id: string; fileVersion: number },
  analyses: Record<string, Analysis>,
  createdAt: string,
): D1PreparedStatement[] {
  return Object.entries(analyses).map(([metric, analysis]) =>
    insertAnalysis(db, {
      id: crypto.randomUUID(),
      submissionId: submission.id,
      fileVersion: submission.fileVersion,
      metric,
      createdAt,
      analysis,
    }),
  );
}
