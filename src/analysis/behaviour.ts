/**
 * Behaviour tasks (model-written evaluations, DESIGN.md section 2): their per-example columns derived from a
 * results file's two log-probabilities, their metrics oriented by which way the submission says is good, and the
 * words their analyses use. Pure: shared by the Worker and `isv analyse`.
 */
import { matchingProbability, matchingWin, sideLoss } from "../evaluate/metrics";
import { analyseMetrics, type Analysis, type FamilyResults, type MetricToAnalyse } from "./analyse";
import type { UnfitLine } from "./family";
import { METRICS, chooseMetric, type MetricChoice, type MetricDefinition } from "./metrics";
import { formatScale } from "./labels";
import type { ModelResults } from "./results-csv";
import type { AnalysisOptions, FamilyAnalysis, Verdict } from "./statistics";

/** Whether the behaviour a task's matching answers show is undesired (the default, as in risk evaluations). */
export const MATCHING_BEHAVIOURS = ["undesired", "desired", "neither"] as const;
export type MatchingBehaviour = (typeof MATCHING_BEHAVIOURS)[number];
export const DEFAULT_MATCHING_BEHAVIOUR: MatchingBehaviour = "undesired";

export const isMatchingBehaviour = (name: string): name is MatchingBehaviour =>
  MATCHING_BEHAVIOURS.some((known) => known === name);

/**
 * A submission's matching behaviour from its metadata (submission-metadata.schema.json's `behaviour`), the
 * default where it names none. Typed structurally, so any metadata with that optional field fits.
 */
export function matchingBehaviourOf(metadata: {
  behaviour?: { matchingBehaviour?: MatchingBehaviour };
}): MatchingBehaviour {
  return metadata.behaviour?.matchingBehaviour ?? DEFAULT_MATCHING_BEHAVIOUR;
}

/**
 * A behaviour model's results with the columns its metrics read, each example's from its two log-probabilities:
 * matching_probability, matching_win and, when one side is desired, the loss toward it (-log of the desired
 * side's share). An example without a value (NaN) stays without one in every derived column.
 */
export function withBehaviourColumns(results: ModelResults, matching: MatchingBehaviour): ModelResults {
  const { logprob_matching: lm, logprob_not_matching: ln } = results.columns;
  if (lm === undefined || ln === undefined) return results;
  const derive = (formula: (m: number, n: number) => number): Float64Array =>
    lm.map((m, i) => {
      const n = ln[i] ?? NaN;
      return Number.isNaN(m) || Number.isNaN(n) ? NaN : formula(m, n);
    });
  const columns: ModelResults["columns"] = {
    ...results.columns,
    matching_probability: derive(matchingProbability),
    matching_win: derive(matchingWin),
  };
  if (matching === "undesired") columns.loss = derive((m, n) => sideLoss(n, m));
  if (matching === "desired") columns.loss = derive((m, n) => sideLoss(m, n));
  return { ...results, columns };
}

/** The metrics a behaviour task is analysed on, in order: the headline first. */
const BEHAVIOUR_METRICS = [METRICS.matching_probability, METRICS.matching_win_rate, METRICS.loss] as const;
type MatchingMetricName = "matching_probability" | "matching_win_rate";
const isMatchingMetric = (name: string): name is MatchingMetricName =>
  name === "matching_probability" || name === "matching_win_rate";

/**
 * A behaviour metric as the submission's matching behaviour orients it. Performance is the probability on the
 * desired side: with matching undesired both matching metrics are lower-is-better, with desired higher-is-better.
 * With neither, no way is better: the metric is marked direction_only and analysed as if higher were better, so
 * its verdicts say which way the value moves. The loss is toward the desired side, always lower-is-better.
 */
export function orientedMetric(metric: MetricDefinition, matching: MatchingBehaviour): MetricDefinition {
  if (!isMatchingMetric(metric.name)) return metric;
  if (matching === "undesired") return { ...metric, direction: "lower_is_better" };
  if (matching === "desired") return { ...metric, direction: "higher_is_better" };
  return { ...metric, direction: "higher_is_better", orientation: "direction_only" };
}

/**
 * The metrics a behaviour task with this matching behaviour is analysed on, oriented, with their roles:
 * matching_probability (the headline), matching_win_rate always beside it, then the loss toward the desired side
 * (none when neither side is).
 */
export function behaviourMetrics(matching: MatchingBehaviour): MetricToAnalyse[] {
  return BEHAVIOUR_METRICS.filter((metric) => matching !== "neither" || metric.name !== "loss").map((metric) => ({
    metric: orientedMetric(metric, matching),
    role: metric.name === "matching_probability" ? "headline" : "secondary",
  }));
}

/**
 * Analyses of behaviour results (each model's logprob_matching and logprob_not_matching): the given metrics, in
 * order, over the families, each model's columns derived first, then finished (finishBehaviourAnalyses).
 */
export function analyseBehaviour(
  metrics: readonly MetricToAnalyse[],
  families: readonly FamilyResults[],
  matching: MatchingBehaviour,
  options: Omit<AnalysisOptions, "direction">,
  unfit: readonly UnfitLine[] = [],
): Analysis[] {
  const derived = families.map((family) => ({
    ...family,
    models: family.models.map((model) => ({ ...model, results: withBehaviourColumns(model.results, matching) })),
  }));
  return finishBehaviourAnalyses(analyseMetrics("behaviour", metrics, derived, options, undefined, unfit), matching);
}

/** chooseMetric for a behaviour task: the named metric (default the headline), oriented; no loss for neither. */
export function chooseBehaviourMetric(name: string | undefined, matching: MatchingBehaviour): MetricChoice {
  const choice = chooseMetric("behaviour", name);
  if (!choice.ok) return choice;
  if (matching === "neither" && choice.metric.name === "loss")
    return {
      ok: false,
      message:
        'metric "loss" is toward the desired answers, and with matching behaviour "neither" no side is desired; ' +
        "use matching_probability or matching_win_rate",
    };
  return { ok: true, metric: orientedMetric(choice.metric, matching) };
}

/** What a direction-only verdict says: which way the value moves along the axis, never which way is better. */
const TREND_WORDS: Record<Verdict, string> = {
  standard: "rises with scale",
  inverse: "falls with scale",
  u_shaped: "U-shaped (falls, then rises)",
  inverted_u: "inverted U (rises, then falls)",
  flat: "no change that matters",
  inconclusive: "no change shown (inconclusive)",
};

/** TREND_WORDS as a sentence's predicate. */
const TREND_PHRASES: Record<Verdict, string> = {
  standard: "rises with scale",
  inverse: "falls with scale",
  u_shaped: "is U-shaped (falls, then rises)",
  inverted_u: "is an inverted U (rises, then falls)",
  flat: "shows no change that matters",
  inconclusive: "shows no change (inconclusive)",
};

const PERFORMANCE_WORDS: Record<Verdict, string> = {
  inverse: "inverse scaling",
  standard: "standard scaling",
  u_shaped: "U-shaped scaling",
  inverted_u: "inverted-U scaling",
  flat: "no change that matters",
  inconclusive: "an inconclusive result",
};

type Orientation = Analysis["metric"]["orientation"];

/** A verdict in words for people: performance terms, or the direction of change for a direction-only metric. */
export function verdictWords(verdict: Verdict, orientation: Orientation): string {
  return orientation === "direction_only" ? TREND_WORDS[verdict] : PERFORMANCE_WORDS[verdict];
}

/**
 * A behaviour task's analyses made ready to store or show: a direction-only metric's analysis marked so, its
 * summary and reasons in words of direction rather than performance; and where the two matching metrics' verdicts
 * on a family point different ways, a disagreement on both analyses, also as a sentence of their summaries.
 */
export function finishBehaviourAnalyses(analyses: readonly Analysis[], matching: MatchingBehaviour): Analysis[] {
  const finished = analyses.map((analysis) => (matching === "neither" ? directionOnly(analysis) : analysis));
  const probability = finished.find((analysis) => analysis.metric.name === "matching_probability");
  const winRate = finished.find((analysis) => analysis.metric.name === "matching_win_rate");
  if (!probability || !winRate) return finished;
  const disagreements = disagreementsBetween(probability, winRate);
  if (disagreements.length === 0) return finished;
  const sentences = disagreements.map((disagreement) => disagreement.text).join(" ");
  return finished.map((analysis) =>
    isMatchingMetric(analysis.metric.name)
      ? {
          ...analysis,
          disagreements,
          summary: { ...analysis.summary, text: `${analysis.summary.text}. ${sentences}` },
        }
      : analysis,
  );
}

/** A matching metric's analysis under matching behaviour neither, in words of direction only. */
function directionOnly(analysis: Analysis): Analysis {
  if (!isMatchingMetric(analysis.metric.name)) return analysis;
  const total = analysis.families.length + analysis.unanalysed.length;
  // Lines, as analyseMetrics counts them, when a family gives several (a grid); each line's words name its axis.
  const names = new Set([...analysis.families, ...analysis.unanalysed].map((line) => line.family));
  const [one, many] = names.size < total ? ["line", "lines"] : ["family", "families"];
  const counts = new Map<string, number>();
  for (const family of analysis.families) {
    const along = family.axis === "rlhf_steps" ? "with RLHF steps" : "with scale";
    const words = TREND_WORDS[family.verdict].replace("with scale", along);
    counts.set(words, (counts.get(words) ?? 0) + 1);
  }
  const counted = [...counts]
    .sort(([, a], [, b]) => b - a)
    .map(([words, count]) => `${words} in ${count} of ${total} ${total === 1 ? one : many}`);
  if (analysis.unanalysed.length > 0) counted.push(`not analysed in ${analysis.unanalysed.length} of ${total}`);
  return {
    ...analysis,
    metric: { ...analysis.metric, orientation: "direction_only" },
    families: analysis.families.map((family) => ({
      ...family,
      reason: directionReason(family.reason, analysis.metric.label),
    })),
    summary: {
      ...analysis.summary,
      text: `Direction only (the matching behaviour is neither desired nor undesired): ${counted.join("; ")}`,
    },
  };
}

/**
 * A verdict's reason in words of direction: the statistics speak of performance, which under neither is the
 * metric itself (analysed as higher-is-better), so performance becomes the metric, improving rising, worsening
 * falling.
 */
function directionReason(reason: string, label: string): string {
  return reason
    .replace(/\bPerformance\b/g, `The ${lowerFirst(label)}`)
    .replace(/\bperformance\b/g, `the ${lowerFirst(label)}`)
    .replace(/\bimproves\b/g, "rises")
    .replace(/\bworsens\b/g, "falls");
}

/** Verdicts that claim something: a trend, a shape, or no change that matters. */
const CLAIMS: ReadonlySet<Verdict> = new Set(["inverse", "standard", "u_shaped", "inverted_u", "flat"]);

type Disagreement = NonNullable<Analysis["disagreements"]>[number];

/** Families (or lines of one) on which both matching metrics claim something, and the claims differ. */
function disagreementsBetween(probability: Analysis, winRate: Analysis): Disagreement[] {
  const winRates = new Map(winRate.families.map((family) => [lineKey(family), family]));
  return probability.families.flatMap((family) => {
    const other = winRates.get(lineKey(family));
    if (!other || family.verdict === other.verdict) return [];
    if (!CLAIMS.has(family.verdict) || !CLAIMS.has(other.verdict)) return [];
    const orientation = probability.metric.orientation;
    const [first, second] = [probability, winRate].map((analysis) => lowerFirst(analysis.metric.label));
    const axis = family.axis === "rlhf_steps" ? "with RLHF steps" : "with scale";
    const phrase = (verdict: Verdict): string =>
      orientation === "direction_only"
        ? TREND_PHRASES[verdict].replace("with scale", axis)
        : `shows ${PERFORMANCE_WORDS[verdict]}`;
    const text =
      `On ${lineName(family)} the two matching metrics point different ways: the ${first} ` +
      `${phrase(family.verdict)}, while the ${second} ${phrase(other.verdict)}.`;
    return [
      {
        family: family.family,
        axis: family.axis,
        ...(family.fixed ? { fixed: family.fixed } : {}),
        verdicts: { matching_probability: family.verdict, matching_win_rate: other.verdict },
        text,
      },
    ];
  });
}

/** A family's line: its name, and for a line of a grid family its axis and what it holds fixed. */
function lineKey(family: Pick<FamilyAnalysis, "family" | "axis" | "fixed">): string {
  return JSON.stringify([family.family, family.axis, family.fixed?.parameters, family.fixed?.rlhfSteps]);
}

function lineName(family: Pick<FamilyAnalysis, "family" | "fixed">): string {
  const fixed = family.fixed;
  if (fixed?.parameters !== undefined) return `${family.family} at ${formatScale(fixed.parameters)} parameters`;
  if (fixed?.rlhfSteps !== undefined) return `${family.family} at ${fixed.rlhfSteps} RLHF steps`;
  return family.family;
}

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);
