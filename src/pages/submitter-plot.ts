import type { Analysis } from "../analysis/analyse";
import { renderPlot } from "../analysis/plot";
import { latestAnalysis } from "../storage/analyses";
import { privateFamilyNames } from "../storage/families";
import type { SubmissionRecord } from "../storage/submissions";
import { choosePlot, plotAxis, type PlotQuery } from "../submissions/public-results";

export type SubmitterPlot = { kind: "svg"; svg: string } | { kind: "none"; message: string };

/**
 * The submitter's own plot of their task, before or after review: the metric and axis asked for (defaults as the
 * public plot's), drawn from the latest analysis with the private families left out, as the submitter's view of
 * the results leaves them out (src/submissions/public-results.ts).
 */
export async function submitterPlot(
  db: D1Database,
  submission: SubmissionRecord,
  query: PlotQuery,
): Promise<SubmitterPlot> {
  const choice = choosePlot(submission, query);
  if (!choice.ok) return { kind: "none", message: choice.message };
  if (choice.metric === null) return { kind: "none", message: "This task type is not analysed." };
  const stored = await latestAnalysis(db, submission.id, choice.metric);
  if (!stored) return { kind: "none", message: `No analysis of ${choice.metric} yet.` };
  const privateNames = await privateFamilyNames(db, submission.id);
  const analysis: Analysis = {
    ...stored.analysis,
    families: stored.analysis.families.filter((family) => !privateNames.has(family.family)),
  };
  if (analysis.families.length === 0) return { kind: "none", message: `No public results on ${choice.metric} yet.` };
  const along = plotAxis(analysis, choice.axis);
  if (!along.ok) return { kind: "none", message: along.message };
  return { kind: "svg", svg: renderPlot(analysis, submission.title, along.axis) };
}
