import type { Analysis } from "../analysis/analyse";
import { chooseBehaviourMetric, matchingBehaviourOf } from "../analysis/behaviour";
import { chooseMetric } from "../analysis/metrics";
import { PLOT_AXES, isPlotAxis, lineVerdictWords, plotAxes } from "../analysis/plot";
import { summariseEvaluation } from "../evaluate/summary";
import { headlineFirst, metricRole } from "../review/analyses";
import { latestSliceAnalysis } from "../storage/slice-analyses";
import type { SlicesAnalysis } from "../analysis/slices-analysis";
import { latestAnalyses, latestAnalysis } from "../storage/analyses";
import { currentEvaluations } from "../storage/evaluations";
import { privateFamilyNames } from "../storage/families";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";

// What of a task's results leaves the organisers: families marked private are for organisers only, so they are
// left out of the public plot and of the submitter's view alike.

type Axis = Analysis["families"][number]["axis"];

/** A plot's query as sent: `metric` and `axis`, each absent (or empty) for its default. */
export interface PlotQuery {
  metric?: string | undefined;
  axis?: string | undefined;
}

/** What a plot query asks for, checked against the task; or the parameter that cannot be, and why. */
export type PlotChoice =
  | { ok: true; metric: string | null; axis: Axis | undefined }
  | { ok: false; parameter: "metric" | "axis"; message: string };

/**
 * The metric (default the headline; null for a task without one) and axis (default: the first line's) a plot
 * query asks for. A metric is refused unless the task's analyses can have it (for a behaviour task, as its matching
 * behaviour orients them: no loss when neither side is desired), an axis unless it is one lines can run along
 * (whether this analysis's do is plotAxis's question: not a malformed query, but a plot that does not exist).
 */
export function choosePlot(
  submission: Pick<SubmissionRecord, "taskType" | "headlineMetric" | "metadata">,
  query: PlotQuery,
): PlotChoice {
  const axis = query.axis || undefined;
  if (axis !== undefined && !isPlotAxis(axis))
    return { ok: false, parameter: "axis", message: `\`axis\` must be one of ${PLOT_AXES.join(", ")}.` };
  const metric = query.metric || undefined;
  if (metric === undefined) return { ok: true, metric: submission.headlineMetric, axis };
  const chosen =
    submission.taskType === "behaviour"
      ? chooseBehaviourMetric(metric, matchingBehaviourOf(submission.metadata))
      : chooseMetric(submission.taskType, metric);
  if (!chosen.ok) return { ok: false, parameter: "metric", message: `${chosen.message}.` };
  return { ok: true, metric: chosen.metric.name, axis };
}

/**
 * The axis a plot of the analysis is drawn along: the one asked for (default: the first line's) when lines run
 * along it; else why not, naming the axes they do run along. A plot never draws an empty frame.
 */
export function plotAxis(
  analysis: Analysis,
  axis: Axis | undefined,
): { ok: true; axis: Axis } | { ok: false; message: string } {
  const axes = plotAxes(analysis);
  const along = axis ?? axes[0];
  if (along !== undefined && axes.includes(along)) return { ok: true, axis: along };
  return {
    ok: false,
    message: `The ${analysis.metric.name} analysis has no lines along ${axis ?? "any axis"}; its lines run along ${axes.join(", ") || "none"}.`,
  };
}

export type PublicPlotOutcome =
  | { kind: "plot"; analysis: Analysis; title: string; axis: Axis }
  /** Unknown, or not (yet, or any more) accepted: plots are public once a task is accepted. */
  | { kind: "not_accepted" }
  | { kind: "invalid_query"; parameter: "metric" | "axis"; message: string }
  | { kind: "no_public_results"; metric: string | null }
  /** The analysis has public lines, but none along the axis asked for. */
  | { kind: "no_lines_along"; message: string };

/**
 * An accepted task's analysis of the metric asked for (default its headline), with only its public families, for
 * the public plot along the axis asked for (default the first public line's).
 */
export async function publicPlotAnalysis(
  db: D1Database,
  id: string,
  query: PlotQuery = {},
): Promise<PublicPlotOutcome> {
  const submission = await getSubmission(db, id);
  if (submission?.state !== "accepted") return { kind: "not_accepted" };
  const choice = choosePlot(submission, query);
  if (!choice.ok) return { kind: "invalid_query", parameter: choice.parameter, message: choice.message };
  const stored = choice.metric === null ? undefined : await latestAnalysis(db, submission.id, choice.metric);
  const privateNames = await privateFamilyNames(db, submission.id);
  const families = stored?.analysis.families.filter((family) => !privateNames.has(family.family)) ?? [];
  if (!stored || families.length === 0) return { kind: "no_public_results", metric: choice.metric };
  const analysis = { ...stored.analysis, families };
  const along = plotAxis(analysis, choice.axis);
  if (!along.ok) return { kind: "no_lines_along", message: along.message };
  return { kind: "plot", analysis, title: submission.title, axis: along.axis };
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
    ...(analysis.metric.orientation ? { orientation: analysis.metric.orientation } : {}),
    families: analysis.families
      .filter((family) => !privateNames.has(family.family))
      .map((family) => ({
        family: family.family,
        // A grid family has a line per value held fixed along each axis: these tell its lines apart.
        axis: family.axis,
        ...(family.fixed ? { fixed: family.fixed } : {}),
        verdict: family.verdict,
        // The verdict for people: in performance terms, or the direction only for a direction-only metric.
        words: lineVerdictWords(family, analysis.metric.orientation),
        // A linear axis (RLHF steps from 0) has its slope per 1000 steps: never shown as per decade.
        ...("perDecade" in family.slope
          ? { slopePerDecade: family.slope.perDecade }
          : { slopePer1000Steps: family.slope.per1000Steps }),
        slopeCi95: family.slope.ci95,
        reason: family.reason,
      })),
  });
  const [headline, ...secondary] = analyses;
  const results =
    headline && metricRole(submission, headline.metric) === "headline"
      ? { ...verdicts(headline), secondary: secondary.map(verdicts) }
      : null;
  const slices = await latestSliceAnalysis(db, submission);
  return {
    // Progress and means, without the failures, the estimate and the budget (organisers' concerns).
    evaluations: evaluations.map(
      ({ failedShards: _failed, estimate: _estimate, tokenBudget: _budget, ...visible }) => visible,
    ),
    results,
    // Each file, group and contrast of a submission with slices, on the headline metric; null without slices.
    slices: slices ? withoutFamilies(slices.analysis, privateNames) : null,
  };
}

/** A slices analysis without the given (private) families: in each slice's analysis, the contrasts and the rest. */
export function withoutFamilies(slices: SlicesAnalysis, names: ReadonlySet<string>): SlicesAnalysis {
  return {
    ...slices,
    slices: slices.slices.map(({ analysis, ...slice }) => ({
      ...slice,
      ...(analysis && {
        analysis: {
          ...analysis,
          families: analysis.families.filter((family) => !names.has(family.family)),
          unanalysed: analysis.unanalysed.filter((family) => !names.has(family.family)),
        },
      }),
    })),
    contrasts: slices.contrasts.filter((contrast) => !names.has(contrast.family)),
    uncompared: slices.uncompared.filter((line) => !names.has(line.family)),
  };
}
