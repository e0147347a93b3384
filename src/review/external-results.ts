import type { StorageBindings } from "../storage/bindings";
import { rebuildLeaderboard } from "../leaderboard/snapshot";
import type { Analysis } from "../analysis/analyse";
import { familyScales, type FamilyDefinition } from "../analysis/family";
import {
  AnalysisInputError,
  DEFAULT_MIN_SHARED_EXAMPLES,
  prepareFamily,
  type FamilyInput,
} from "../analysis/family-input";
import { parseResultsCsv, type ModelResults } from "../analysis/results-csv";
import { appendAudit } from "../storage/audit";
import { upsertExternalResults } from "../storage/external-results";
import type { SubmissionRecord } from "../storage/submissions";
import type { ApiToken } from "../storage/api-tokens";
import { analysesFor, analysisStatements, resultsKey, submissionFamilies } from "./analyses";
import { sliceAnalysesFor, sliceAnalysisStatements } from "./slice-analyses";

export interface UploadedFile {
  filename: string;
  text: string;
}

export type UploadOutcome =
  | { ok: true; family: string; models: string[]; analyses: Record<string, Analysis> }
  | { ok: false; problems: { file: string | null; message: string }[] };

/**
 * Takes an organiser's per-example results for one family: checks every file against the task (each example
 * exactly once, numbers finite), stores the files under a fresh R2 prefix, recomputes the task's analyses over
 * every family with results, and records it all in one D1 batch, so a failure leaves the previous state current.
 */
export async function receiveExternalResults(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  family: FamilyDefinition,
  files: UploadedFile[],
  actor: ApiToken,
): Promise<UploadOutcome> {
  const taskType = submission.taskType;
  const scales = familyScales(family);
  if (!scales.ok) return { ok: false, problems: [{ file: null, message: scales.message }] };

  const problems: { file: string | null; message: string }[] = [];
  const byModel = new Map<string, UploadedFile>();
  for (const file of files) {
    const model = file.filename.replace(/\.csv$/i, "");
    if (!scales.scales.has(model))
      problems.push({ file: file.filename, message: `"${model}" is not a model of family ${family.name}` });
    else if (byModel.has(model)) problems.push({ file: file.filename, message: `a second file for model "${model}"` });
    else byModel.set(model, file);
  }
  for (const model of scales.scales.keys()) {
    if (!byModel.has(model))
      problems.push({ file: null, message: `no results file for model "${model}" (send it as ${model}.csv)` });
  }
  const parsed = new Map<string, ModelResults>();
  for (const [model, file] of byModel) {
    const result = parseResultsCsv(file.text, taskType, submission.exampleCount);
    if (result.ok) parsed.set(model, result.results);
    else for (const message of result.problems) problems.push({ file: file.filename, message });
  }
  if (problems.length > 0) return { ok: false, problems };
  const unfit = fitProblem(family.name, scales.axis, scales.scales, parsed);
  if (unfit) return { ok: false, problems: [{ file: null, message: unfit }] };

  const prefix = `results/${submission.id}/${family.name}/${crypto.randomUUID()}`;
  await Promise.all(
    [...byModel].map(([model, file]) =>
      bindings.BLOBS.put(resultsKey(prefix, model), file.text, { httpMetadata: { contentType: "text/csv" } }),
    ),
  );
  const families = await submissionFamilies(bindings, submission, { definition: family, results: parsed });
  const analyses = await analysesFor(bindings, submission, families);
  const slices = await sliceAnalysesFor(bindings, submission, families);

  const now = new Date().toISOString();
  await bindings.DB.batch([
    upsertExternalResults(bindings.DB, {
      submissionId: submission.id,
      family: family.name,
      familyJson: JSON.stringify(family),
      resultsPrefix: prefix,
      uploadedBy: actor.id,
      uploadedAt: now,
      fileVersion: submission.fileVersion,
    }),
    ...analysisStatements(bindings.DB, submission, analyses, now),
    ...sliceAnalysisStatements(bindings.DB, submission, slices, now),
    appendAudit(bindings.DB, {
      at: now,
      actor: actor.id,
      action: "results.upload",
      submissionId: submission.id,
      detail: {
        family: family.name,
        models: [...byModel.keys()],
        verdicts: Object.fromEntries(Object.entries(analyses).map(([metric, a]) => [metric, a.summary.text])),
      },
    }),
  ]);
  // An accepted task's public entry shows its latest analysis: new results must reach the leaderboard.
  if (submission.state === "accepted") await rebuildLeaderboard(bindings.DB);
  return { ok: true, family: family.name, models: [...byModel.keys()], analyses };
}

/** Why a family's results could not support a verdict (one scale for every model, too few examples), if they cannot. */
function fitProblem(
  family: string,
  axis: FamilyInput["axis"],
  scales: Map<string, number>,
  results: Map<string, ModelResults>,
): string | undefined {
  const models = [...results].map(([id, model]) => ({
    id,
    scale: scales.get(id) ?? NaN,
    values: Object.values(model.columns)[0] ?? new Float64Array(0),
  }));
  try {
    prepareFamily({ family, axis, models }, DEFAULT_MIN_SHARED_EXAMPLES);
    return undefined;
  } catch (error) {
    if (error instanceof AnalysisInputError) return error.message;
    throw error;
  }
}
