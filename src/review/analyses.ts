import { readStoredJson } from "../storage/stored-json";
import type { StorageBindings } from "../storage/bindings";
import { analyseMetrics, type Analysis, type MetricRole, type MetricToAnalyse } from "../analysis/analyse";
import { familyScales, type FamilyDefinition } from "../analysis/family";
import { METRICS, chooseMetric, defaultMetricName, type MetricDefinition, type MetricName } from "../analysis/metrics";
import { parseResultsCsv, type ModelResults } from "../analysis/results-csv";
import { DEFAULT_OPTIONS } from "../analysis/statistics";
import { insertAnalysis } from "../storage/analyses";
import { listExternalResults } from "../storage/external-results";
import { currentEvaluations } from "../storage/evaluations";
import { listResults } from "../storage/results";
import { readExamples } from "../storage/examples";
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

/** The result columns an evaluation writes. */
const EVALUATED_COLUMNS = ["loss", "correct", "logodds_difference", "total_logprob"] as const;

function evaluationResults(rows: Awaited<ReturnType<typeof listResults>>, examples: number): Map<string, ModelResults> {
  const models = new Map<string, { rows: number; columns: Record<(typeof EVALUATED_COLUMNS)[number], Float64Array> }>();
  for (const row of rows) {
    let model = models.get(row.model);
    if (!model) {
      const column = (): Float64Array => new Float64Array(examples).fill(NaN);
      model = {
        rows: 0,
        columns: { loss: column(), correct: column(), logodds_difference: column(), total_logprob: column() },
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
 * results have their column. A classification_acc task: accuracy, then loss and coverage.
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
 * headline metric's first, each marked with its role.
 */
export async function analysesFor(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  families: FamilyData[],
): Promise<Record<string, Analysis>> {
  const taskType = submission.taskType;
  const classCounts =
    taskType === "sequence_prob" ? undefined : await loadClassCounts(bindings.BLOBS, submission.examplesKey);
  const analyses: Record<string, Analysis> = {};
  // A trend needs two models with results: a family cut short to fewer (a budget, a failing provider) is left out.
  const fittable = families
    .map(({ definition, results }) => {
      const known = familyScales(definition);
      if (!known.ok) throw new Error(known.message);
      const models = [...known.scales].flatMap(([id, scale]) => {
        const model = results.get(id);
        const scored = Object.values(model?.columns ?? {}).some((column) =>
          column.some((value) => Number.isFinite(value)),
        );
        return model && scored ? [{ id, scale, results: model }] : [];
      });
      return { family: definition.name, axis: known.axis, models };
    })
    .filter((family) => family.models.length >= 2);
  if (fittable.length === 0) return analyses;
  const metrics = applicableMetrics(taskType, submission.headlineMetric, families);
  for (const analysis of analyseMetrics(taskType, metrics, fittable, DEFAULT_OPTIONS, classCounts)) {
    analyses[analysis.metric.name] = analysis;
  }
  return analyses;
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

/** Each example's number of classes, from the stored normalised examples (for the chance level). */
async function loadClassCounts(bucket: R2Bucket, examplesKey: string): Promise<number[] | undefined> {
  const examples = await readExamples(bucket, examplesKey);
  return examples?.flatMap((example) => ("classes" in example ? [example.classes.length] : []));
}
