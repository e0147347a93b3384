import type { Analysis } from "../analysis/analyse";
import { summariseEvaluation } from "../evaluate/summary";
import { headlineFirst, metricRole } from "../review/analyses";
import { latestAnalyses, latestHeadlineAnalysis } from "../storage/analyses";
import { currentEvaluations } from "../storage/evaluations";
import { privateFamilyNames } from "../storage/families";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";

// What of a task's results leaves the organisers: families marked private are for organisers only, so they are
// left out of the public plot and of the submitter's view alike.

export type PublicPlotOutcome =
  | { kind: "plot"; analysis: Analysis; title: string }
  /** Unknown, or not (yet, or any more) accepted: plots are public once a task is accepted. */
  | { kind: "not_accepted" }
  | { kind: "no_public_results" };

/** An accepted task's headline analysis with only its public families, for the public plot. */
export async function publicPlotAnalysis(db: D1Database, id: string): Promise<PublicPlotOutcome> {
  const submission = await getSubmission(db, id);
  if (submission?.state !== "accepted") return { kind: "not_accepted" };
  const stored = await latestHeadlineAnalysis(db, submission);
  const privateNames = await privateFamilyNames(db, submission.id);
  const families = stored?.analysis.families.filter((family) => !privateNames.has(family.family)) ?? [];
  if (!stored || families.length === 0) return { kind: "no_public_results" };
  return { kind: "plot", analysis: { ...stored.analysis, families }, title: submission.title };
}

/**
 * The submitter's view of the task's progress and results: the current file's evaluations on public families,
 * and, once analysed, the verdicts on those families: the headline metric's, which the task is judged on, then
 * the secondary metrics'.
 */
export async function submitterResults(db: D1Database, submission: SubmissionRecord) {
  const privateNames = await privateFamilyNames(db, submission.id);
  const evaluations = await Promise.all(
    (await currentEvaluations(db, submission))
      .filter((evaluation) => !privateNames.has(evaluation.family))
      .map((evaluation) => summariseEvaluation(db, evaluation, submission)),
  );
  const analyses = headlineFirst(submission, await latestAnalyses(db, submission.id));
  const verdicts = ({ metric, analysis }: (typeof analyses)[number]) => ({
    metric,
    role: metricRole(submission, metric),
    families: analysis.families
      .filter((family) => !privateNames.has(family.family))
      .map((family) => ({
        family: family.family,
        verdict: family.verdict,
        slopePerDecade: family.slope.perDecade,
        slopeCi95: family.slope.ci95,
        reason: family.reason,
      })),
  });
  const [headline, ...secondary] = analyses;
  const results =
    headline && metricRole(submission, headline.metric) === "headline"
      ? { ...verdicts(headline), secondary: secondary.map(verdicts) }
      : null;
  return {
    // Progress and means, without the failures, the estimate and the budget (organisers' concerns).
    evaluations: evaluations.map(
      ({ failedShards: _failed, estimate: _estimate, tokenBudget: _budget, ...visible }) => visible,
    ),
    results,
  };
}
