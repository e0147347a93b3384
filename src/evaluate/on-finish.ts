import { rebuildLeaderboard } from "../leaderboard/snapshot";
import { describeError } from "../log";
import { ANALYSIS_CODE_VERSION } from "../analysis/statistics";
import { analysesFor, analysisStatements, submissionFamilies } from "../review/analyses";
import { sliceAnalysesFor, sliceAnalysisStatements } from "../review/slice-analyses";
import type { StorageBindings } from "../storage/bindings";
import { markReanalysed, outdatedAnalysisSubmissions } from "../storage/analyses";
import { getEvaluation } from "../storage/evaluations";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";

/**
 * When an evaluation is about to end with results, the submission's analyses are recomputed over every family it
 * has, this evaluation included (it is marked ended right after).
 */
export async function analyseFinishedEvaluation(bindings: StorageBindings, evaluationId: string): Promise<void> {
  const evaluation = await getEvaluation(bindings.DB, evaluationId);
  if (!evaluation) return;
  const submission = await getSubmission(bindings.DB, evaluation.submissionId);
  if (!submission || submission.fileVersion !== evaluation.fileVersion) return; // a replaced file's run is not analysed
  await reanalyseSubmission(bindings, submission, evaluationId);
}

/**
 * Analyses a submission again over every family with results (`ending`: an evaluation about to end, counted as
 * ended) and stores the analyses; an accepted task's public entry follows.
 */
async function reanalyseSubmission(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  ending?: string,
): Promise<void> {
  const families = await submissionFamilies(bindings, submission, undefined, ending);
  const analyses = await analysesFor(bindings, submission, families);
  if (Object.keys(analyses).length === 0) return;
  const slices = await sliceAnalysesFor(bindings, submission, families);
  const now = new Date().toISOString();
  await bindings.DB.batch([
    ...analysisStatements(bindings.DB, submission, analyses, now),
    ...sliceAnalysisStatements(bindings.DB, submission, slices, now),
  ]);
  if (submission.state === "accepted") await rebuildLeaderboard(bindings.DB);
}

/** Analyses made by older analysis code are made again, a few submissions per cron run. */
export async function reanalyseOutdated(bindings: StorageBindings, limit = 5): Promise<string[]> {
  const ids = await outdatedAnalysisSubmissions(bindings.DB, ANALYSIS_CODE_VERSION, limit);
  for (const id of ids) {
    await markReanalysed(bindings.DB, id, new Date().toISOString());
    const submission = await getSubmission(bindings.DB, id);
    if (!submission) continue;
    // One submission whose stored results no longer load must not hold up the others.
    await reanalyseSubmission(bindings, submission).catch((error: unknown) =>
      console.error(JSON.stringify({ submissionId: id, reanalysis: describeError(error) })),
    );
  }
  return ids;
}
