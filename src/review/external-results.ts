import { analyse, type Analysis } from "../analysis/analyse";
import { familyScales, type FamilyDefinition } from "../analysis/family";
import { METRICS, chooseMetric, type MetricDefinition } from "../analysis/metrics";
import { parseResultsCsv, type ModelResults } from "../analysis/results-csv";
import { DEFAULT_OPTIONS } from "../analysis/statistics";
import { appendAudit, insertAnalysis, listExternalResults, upsertExternalResults } from "../storage/analyses";
import type { SubmissionRecord } from "../storage/submissions";
import type { ApiToken } from "../storage/tokens";
import type { TaskType } from "../validate/task-types";

export interface UploadedFile {
  filename: string;
  text: string;
}

export type UploadOutcome =
  | { ok: true; family: string; models: string[]; analyses: Record<string, Analysis> }
  | { ok: false; problems: { file: string | null; message: string }[] };

export interface ReviewBindings {
  DB: D1Database;
  BLOBS: R2Bucket;
}

const resultsKey = (prefix: string, model: string): string => `${prefix}/${encodeURIComponent(model)}.csv`;

/**
 * Takes an organiser's per-example results for one family: checks every file against the task (each example
 * exactly once, numbers finite), stores the files under a fresh R2 prefix, recomputes the task's analyses over
 * every family with results, and records it all in one D1 batch, so a failure leaves the previous state current.
 */
export async function receiveExternalResults(
  bindings: ReviewBindings,
  submission: SubmissionRecord,
  family: FamilyDefinition,
  files: UploadedFile[],
  actor: ApiToken,
): Promise<UploadOutcome> {
  const taskType = submission.taskType as TaskType;
  const scales = familyScales(family);
  if (!scales.ok) return { ok: false, problems: [{ file: null, message: scales.message }] };

  const problems: { file: string | null; message: string }[] = [];
  const byModel = new Map<string, UploadedFile>();
  for (const file of files) {
    const model = file.filename.replace(/\.csv$/i, "");
    if (!scales.scales.has(model)) problems.push({ file: file.filename, message: `"${model}" is not a model of family ${family.name}` });
    else if (byModel.has(model)) problems.push({ file: file.filename, message: `a second file for model "${model}"` });
    else byModel.set(model, file);
  }
  for (const model of scales.scales.keys()) {
    if (!byModel.has(model)) problems.push({ file: null, message: `no results file for model "${model}" (send it as ${model}.csv)` });
  }
  const parsed = new Map<string, ModelResults>();
  for (const [model, file] of byModel) {
    const result = parseResultsCsv(file.text, taskType, submission.exampleCount);
    if (result.ok) parsed.set(model, result.results);
    else for (const message of result.problems) problems.push({ file: file.filename, message });
  }
  if (problems.length > 0) return { ok: false, problems };

  const prefix = `results/${submission.id}/${family.name}/${crypto.randomUUID()}`;
  await Promise.all([...byModel].map(([model, file]) => bindings.BLOBS.put(resultsKey(prefix, model), file.text, { httpMetadata: { contentType: "text/csv" } })));

  const others = (await listExternalResults(bindings.DB, submission.id)).filter((record) => record.family !== family.name);
  const families = [{ definition: family, results: parsed }];
  for (const record of others) families.push({ definition: JSON.parse(record.familyJson) as FamilyDefinition, results: await loadResults(bindings.BLOBS, record.resultsPrefix, JSON.parse(record.familyJson) as FamilyDefinition, taskType, submission.exampleCount) });
  families.sort((a, b) => a.definition.name.localeCompare(b.definition.name));

  const classCounts = taskType === "sequence_prob" ? undefined : await loadClassCounts(bindings.BLOBS, submission.examplesKey);
  const analyses: Record<string, Analysis> = {};
  for (const metric of applicableMetrics(taskType, families.map((f) => f.results))) {
    analyses[metric.name] = analyse(
      taskType,
      metric,
      families.map(({ definition, results }) => {
        const known = familyScales(definition);
        if (!known.ok) throw new Error(known.message);
        return { family: definition.name, axis: known.axis, models: [...known.scales].map(([id, scale]) => ({ id, scale, results: results.get(id)! })) };
      }),
      DEFAULT_OPTIONS,
      classCounts,
    );
  }

  const now = new Date().toISOString();
  await bindings.DB.batch([
    upsertExternalResults(bindings.DB, {
      submissionId: submission.id,
      family: family.name,
      familyJson: JSON.stringify(family),
      resultsPrefix: prefix,
      uploadedBy: actor.id,
      uploadedAt: now,
    }),
    ...Object.entries(analyses).map(([metric, analysis]) => insertAnalysis(bindings.DB, { id: crypto.randomUUID(), submissionId: submission.id, metric, createdAt: now, analysis })),
    appendAudit(bindings.DB, {
      at: now,
      actor: actor.id,
      action: "results.upload",
      submissionId: submission.id,
      detail: { family: family.name, models: [...byModel.keys()], verdicts: Object.fromEntries(Object.entries(analyses).map(([metric, a]) => [metric, a.summary.text])) },
    }),
  ]);
  return { ok: true, family: family.name, models: [...byModel.keys()], analyses };
}

/** The task type's default metric, then accuracy and coverage where every family's files have their column. */
function applicableMetrics(taskType: TaskType, results: Map<string, ModelResults>[]): MetricDefinition[] {
  const first = chooseMetric(taskType);
  if (!first.ok) return [];
  const metrics: MetricDefinition[] = [first.metric];
  for (const extra of [METRICS.accuracy, METRICS.coverage]) {
    const applies = (extra.taskTypes as readonly TaskType[]).includes(taskType);
    const present = results.every((family) => [...family.values()].every((model) => model.columns[extra.column] !== undefined));
    if (applies && present) metrics.push(extra);
  }
  return metrics;
}

async function loadResults(bucket: R2Bucket, prefix: string, family: FamilyDefinition, taskType: TaskType, examples: number): Promise<Map<string, ModelResults>> {
  const results = new Map<string, ModelResults>();
  for (const model of family.models) {
    const object = await bucket.get(resultsKey(prefix, model.id));
    if (!object) throw new Error(`stored results ${resultsKey(prefix, model.id)} are missing`);
    const parsed = parseResultsCsv(await object.text(), taskType, examples);
    if (!parsed.ok) throw new Error(`stored results for ${model.id} no longer parse: ${parsed.problems[0]}`);
    results.set(model.id, parsed.results);
  }
  return results;
}

/** Each example's number of classes, from the stored normalised examples (for the chance level). */
async function loadClassCounts(bucket: R2Bucket, examplesKey: string): Promise<number[] | undefined> {
  const object = await bucket.get(examplesKey);
  if (!object) return undefined;
  const counts: number[] = [];
  for (const line of (await object.text()).split("\n")) {
    if (!line) continue;
    const example = JSON.parse(line) as { classes?: string[] };
    if (example.classes) counts.push(example.classes.length);
  }
  return counts;
}
