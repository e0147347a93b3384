import { renderPlot } from "../analysis/plot";
import { latestAnalysis } from "../storage/analyses";
import type { SubmissionRecord } from "../storage/submissions";
import { choosePlot, plotAxis, type PlotQuery } from "../submissions/public-results";
import type { SubmitterPlot } from "./submitter-plot";

/**
 * The organisers' plot of a task on the review desk: what GET /v1/review/submissions/{id}/plot.svg draws (the metric
 * and axis asked for, private families included), for the desk's cookie session, which an <img> sends.
 */
export async function organiserPlot(
  db: D1Database,
  submission: SubmissionRecord,
  query: PlotQuery,
): Promise<SubmitterPlot> {
  const choice = choosePlot(submission, query);
  if (!choice.ok) return { kind: "none", message: choice.message };
  if (choice.metric === null) return { kind: "none", message: "This task type is not analysed." };
  const stored = await latestAnalysis(db, submission.id, choice.metric);
  if (!stored) return { kind: "none", message: `No analysis of ${choice.metric} yet.` };
  const along = plotAxis(stored.analysis, choice.axis);
  if (!along.ok) return { kind: "none", message: along.message };
  return { kind: "svg", svg: renderPlot(stored.analysis, submission.title, along.axis) };
}
