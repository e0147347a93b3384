import type { Analysis } from "../analysis/analyse";
import { renderPlot } from "../analysis/plot";
import { latestAnalysis } from "../storage/analyses";
import { privateFamilyNames } from "../storage/families";
import type { SubmissionRecord } from "../storage/submissions";
import { choosePlot, plotAxis, type PlotQuery } from "../submissions/public-results";

export type SessionPlot = { kind: "svg"; svg: string } | { kind: "none"; message: string };

/** Whose plot a page session draws: the submitter's leaves private families out; the organisers' has them all. */
export type PlotViewer = "submitter" | "organiser";

/**
 * A task's plot for a page session, which an <img> sends as a cookie: the metric and axis asked for (defaults as
 * the plot routes'), drawn from the latest analysis. For a submitter the private families are left out, as their
 * view of the results leaves them out (src/submissions/public-results.ts); for organisers it is what
 * GET /v1/review/submissions/{id}/plot.svg draws.
 */
export async function sessionPlot(
  db: D1Database,
  submission: SubmissionRecord,
  query: PlotQuery,
  viewer: PlotViewer,
): Promise<SessionPlot> {
  const choice = choosePlot(submission, query);
  if (!choice.ok) return { kind: "none", message: choice.message };
  if (choice.metric === null) return { kind: "none", message: "This task type is not analysed." };
  const stored = await latestAnalysis(db, submission.id, choice.metric);
  if (!stored) return { kind: "none", message: `No analysis of ${choice.metric} yet.` };
  let analysis: Analysis = stored.analysis;
  if (viewer === "submitter") {
    const privateNames = await privateFamilyNames(db, submission.id);
    analysis = { ...analysis, families: analysis.families.filter((family) => !privateNames.has(family.family)) };
    if (analysis.families.length === 0) return { kind: "none", message: `No public results on ${choice.metric} yet.` };
  }
  const along = plotAxis(analysis, choice.axis);
  if (!along.ok) return { kind: "none", message: along.message };
  return { kind: "svg", svg: renderPlot(analysis, submission.title, along.axis) };
}
