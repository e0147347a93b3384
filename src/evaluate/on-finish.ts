import { rebuildLeaderboard } from "../leaderboard/snapshot";
import { analysesFor, analysisStatements, submissionFamilies } from "../review/analyses";
import { getEvaluation } from "../storage/evaluations";
import { getSubmission } from "../storage/submissions";

/**
 * When an evaluation is about to end with results, the submission's analyses are recomputed over every family it
 * has, this evaluation included (it is marked ended right after).
 */
export async function analyseFinishedEvaluation(bindings: { DB: D1Database; BLOBS: R2Bucket }, evaluationId: string): Promise<void> {
  const evaluation = await getEvaluation(bindings.DB, evaluationId);
  if (!evaluation) return;
  const submission = await getSubmission(bindings.DB, evaluation.submissionId);
  if (!submission || submission.fileVersion !== evaluation.fileVersion) return; // a replaced file's run is not analysed
  const families = await submissionFamilies(bindings, submission, undefined, evaluationId);
  const analyses = await analysesFor(bindings, submission, families);
  if (Object.keys(analyses).length === 0) return;
  await bindings.DB.batch(analysisStatements(bindings.DB, submission, analyses, new Date().toISOString()));
  // A re-run of an accepted task changes what its public entry shows.
  if (submission.state === "accepted") await rebuildLeaderboard(bindings.DB);
}
