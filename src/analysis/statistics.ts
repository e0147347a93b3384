/**
 * Scaling statistics for one metric on one model family (DESIGN.md section 4). Pure: no bindings, no I/O.
 *
 * Models are ordered by scale (ties by id) and placed at z = log10(scale). Every comparison between models is a
 * paired contrast over the examples they share (contrasts.ts). The verdict comes from tests whose error rates
 * add up to a stated bound (the decision rule below, calibrated by `npm run calibrate`); the paired bootstrap
 * gives the descriptive 95% intervals of the means, the slope and the endpoint contrast. The verdict is in
 * performance terms: a metric where lower is better (loss) is turned around before deciding.
 */
import {
  RELATIVE_TOLERANCE,
  bootstrapInterval,
  bootstrapMeans,
  columnMeans,
  endpointContrast,
  estimateContrast,
  hasSpread,
  largestMagnitude,
  percentileInterval,
  slopeContrast,
  type ContrastEstimate,
  type Interval,
} from "./contrasts";
import { normalQuantile, tCritical } from "./distributions";
import { DEFAULT_MIN_SHARED_EXAMPLES, prepareFamily, type FamilyInput } from "./family-input";
import { robustSpread } from "./spread";

export type { Interval } from "./contrasts";
export { AnalysisInputError, type FamilyInput, type ModelInput } from "./family-input";

export type Direction = "lower_is_better" | "higher_is_better";
export const VERDICTS = ["inverse", "standard", "u_shaped", "inverted_u", "flat", "inconclusive"] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Bump when a change alters any number an analysis reports, so stored analyses say which code made them. */
export const ANALYSIS_CODE_VERSION = "isv-analysis/2.0.0";

/**
 * The error rates the verdict is claimed at. With no true trend, the chance of claiming inverse, standard,
 * u_shaped or inverted_u is at most slopeLevel + 2 × shapeLevel = 5% (Bonferroni): the slope test is two-sided at
 * slopeLevel, and each shape's level is split evenly across the candidate turning models, so choosing the turning
 * model from the data is paid for. `flat` is claimed only when a two-one-sided test at flatLevel puts the slope
 * inside the margin.
 */
export interface DecisionRule {
  falseClaimRate: number;
  slopeLevel: number;
  shapeLevel: number;
  flatLevel: number;
  /** Power at which the smallest detectable slope is reported. */
  power: number;
}

export const DECISION_RULE: DecisionRule = { falseClaimRate: 0.05, slopeLevel: 0.03, shapeLevel: 0.01, flatLevel: 0.05, power: 0.8 };

export interface AnalysisOptions {
  direction: Direction;
  seed: number;
  /** Resamples asked for; fewer are drawn when examples × models × resamples would exceed BOOTSTRAP_BUDGET. */
  bootstrapSamples: number;
  /**
   * Smallest change per decade of scale that matters, as a multiple of the metric's robust spread over examples
   * (spread.ts): "flat" means the slope lies inside plus or minus this much.
   */
  equivalenceMargin: number;
  /** Fewer shared examples than this are refused (AnalysisInputError). */
  minSharedExamples: number;
}

export const DEFAULT_OPTIONS: Omit<AnalysisOptions, "direction"> = {
  seed: 20221010,
  bootstrapSamples: 10_000,
  equivalenceMargin: 0.05,
  minSharedExamples: DEFAULT_MIN_SHARED_EXAMPLES,
};

/** Additions the bootstrap may spend (about half a second): large files get fewer resamples, never fewer than 1,000. */
export const BOOTSTRAP_BUDGET = 2e8;
const MIN_CAPPED_SAMPLES = 1_000;

export interface ModelSummary {
  id: string;
  scale: number;
  log10Scale: number;
  /** Examples with a value for this model (the analysis uses those every model shares). */
  examples: number;
  mean: number;
  standardError: number;
  /** Paired-bootstrap 95% percentile interval of the mean. */
  ci95: Interval;
}

/** A slope and the interval its test decides on. */
export interface TestedSlope {
  slope: number;
  standardError: number;
  /** Two-sided interval at the test's level; an arm's one-sided test reads the bound on its side. */
  interval: Interval;
}

export interface ArmTest {
  turningModel: string;
  /** Metric change per decade left and right of the turning model. */
  left: TestedSlope;
  right: TestedSlope;
  /** Both arms significant with opposite signs in the shape's direction, at this or another candidate. */
  significant: boolean;
}

export interface FamilyAnalysis {
  family: string;
  axis: FamilyInput["axis"];
  sharedExamples: number;
  /** Bootstrap resamples drawn for this family's intervals (the request, capped by BOOTSTRAP_BUDGET). */
  bootstrapSamples: number;
  models: ModelSummary[];
  /** Metric change per decade of scale (least squares on the per-model means). */
  slope: {
    perDecade: number;
    standardError: number;
    ci95: Interval;
    /** The interval the trend test decides on, at 1 − slopeLevel. */
    test: { level: number; interval: Interval };
  };
  /** Largest model's mean minus the smallest's. */
  endpointContrast: { value: number; standardError: number; ci95: Interval };
  /** Worse then better (U in performance) and better then worse; null with fewer than 3 scales. */
  twoLines: {
    /** Interior models tried as the turning point; each shape's level is split across them. */
    candidates: number;
    /** One-sided level of each arm's test. */
    armLevel: number;
    uShaped: ArmTest;
    invertedU: ArmTest;
  } | null;
  /** Rank agreement between scale and performance (tau-b, ties within rounding), from -1 to 1: a description. */
  kendallTau: number;
  /** The metric's robust spread over examples (spread.ts), pooled over models. */
  spread: number;
  /** The equivalence margin in metric units per decade (the spread times the relative margin). */
  flatMargin: number;
  /** The slope's interval at 1 − 2 × flatLevel: "flat" when it lies inside ± flatMargin. */
  flatInterval: Interval;
  /** What this many examples can show: the slope detectable at the rule's power, and examples to detect the margin. */
  power: { level: number; detectableSlope: number; examplesForMargin: number | null };
  verdict: Verdict;
  reason: string;
  warnings: string[];
}

const fmt = (value: number): string => (value === 0 ? "0" : value.toPrecision(3));
const range = (interval: Interval): string => `${fmt(interval[0])} to ${fmt(interval[1])}`;

export function analyseFamily(input: FamilyInput, options: AnalysisOptions, rule: DecisionRule = DECISION_RULE): FamilyAnalysis {
  const { models, values, shared, warnings } = prepareFamily(input, options.minSharedExamples);
  const count = models.length;
  const n = shared.length;
  const df = n - 1;
  const z = models.map((model) => Math.log10(model.scale));
  const sign = options.direction === "lower_is_better" ? -1 : 1;
  const means = columnMeans(values, count);
  const magnitude = largestMagnitude(values);
  const performance = (interval: Interval): Interval => (sign > 0 ? interval : [-interval[1], -interval[0]]);

  const samples = bootstrapSize(options.bootstrapSamples, n, count);
  const boot = bootstrapMeans(values, count, samples, options.seed);
  const summaries: ModelSummary[] = models.map((model, m) => {
    const perModel = new Float64Array(samples);
    for (let b = 0; b < samples; b++) perModel[b] = boot[b * count + m]!;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (values[i * count + m]! - means[m]!) ** 2;
    let own = 0;
    for (const value of model.values) if (Number.isFinite(value)) own++;
    return {
      id: model.id,
      scale: model.scale,
      log10Scale: z[m]!,
      examples: own,
      mean: means[m]!,
      standardError: Math.sqrt(squares / (n - 1) / n),
      ci95: percentileInterval(perModel),
    };
  });

  const slopeWeights = slopeContrast(z, 0, count - 1);
  const slope = estimateContrast(values, count, means, slopeWeights, magnitude);
  const slopeTest = around(slope, tCritical(rule.slopeLevel / 2, df));
  const endpoint = endpointContrast(count);
  const endpointEstimate = estimateContrast(values, count, means, endpoint, magnitude);

  const twoLines = shapeTests(values, count, means, z, magnitude, df, sign, rule, models.map((model) => model.id));
  const spread = robustSpread(values, count);
  const flatMargin = options.equivalenceMargin * spread;
  const flatCritical = tCritical(rule.flatLevel, df);
  const flatInterval = around(slope, flatCritical);
  const detectableSlope = (tCritical(rule.slopeLevel / 2, df) + normalQuantile(rule.power)) * slope.standardError;
  const power = {
    level: rule.power,
    detectableSlope,
    examplesForMargin: flatMargin > 0 ? Math.ceil(n * (detectableSlope / flatMargin) ** 2) : null,
  };

  const [perfLow, perfHigh] = performance(slopeTest);
  const slopeText = `slope ${fmt(slope.estimate)} per decade (${percent(1 - rule.slopeLevel)} CI ${range(slopeTest)})`;
  const detectable = `it could detect a change of ${fmt(detectableSlope)} per decade with ${percent(rule.power)} power`;
  let verdict: Verdict;
  let reason: string;
  if (allPairedDifferencesZero(values, count, magnitude)) {
    verdict = "flat";
    reason = "Every model gives the same value on every shared example: no change with scale.";
  } else if (twoLines?.uShaped.significant) {
    verdict = "u_shaped";
    reason = `Performance worsens up to ${twoLines.uShaped.turningModel} and improves after it: both arms' intervals exclude 0 (each arm one-sided at ${fmt(twoLines.armLevel)}, the shape's ${percent(rule.shapeLevel, 1)} split over ${twoLines.candidates} candidate turning models).`;
  } else if (twoLines?.invertedU.significant) {
    verdict = "inverted_u";
    reason = `Performance improves up to ${twoLines.invertedU.turningModel} and worsens after it: both arms' intervals exclude 0 (each arm one-sided at ${fmt(twoLines.armLevel)}, the shape's ${percent(rule.shapeLevel, 1)} split over ${twoLines.candidates} candidate turning models).`;
  } else if (perfHigh < -slope.tolerance) {
    verdict = "inverse";
    reason = `Performance falls with scale: ${slopeText}.`;
  } else if (perfLow > slope.tolerance) {
    verdict = "standard";
    reason = `Performance rises with scale: ${slopeText}.`;
  } else if (within(flatInterval, flatMargin) && (twoLines?.arms ?? []).every((arm) => within(around(arm, flatCritical), flatMargin * Math.max(1, 1 / arm.span)))) {
    verdict = "flat";
    const arms = twoLines ? ", and so do both arms at each shape's turning model" : "";
    reason = `No change that matters: the slope's ${percent(1 - 2 * rule.flatLevel)} interval (${range(flatInterval)}) lies within ±${fmt(flatMargin)} per decade (${options.equivalenceMargin} robust SD)${arms}; ${detectable}.`;
  } else {
    verdict = "inconclusive";
    const more = power.examplesForMargin === null ? "" : ` About ${power.examplesForMargin} examples would detect a change of ±${fmt(flatMargin)} per decade.`;
    reason = `The data cannot tell: the ${slopeText} includes 0 and changes larger than ±${fmt(flatMargin)} per decade; ${detectable}.${more}`;
  }

  return {
    family: input.family,
    axis: input.axis,
    sharedExamples: n,
    bootstrapSamples: samples,
    models: summaries,
    slope: {
      perDecade: slope.estimate,
      standardError: slope.standardError,
      ci95: bootstrapInterval(boot, count, slopeWeights),
      test: { level: 1 - rule.slopeLevel, interval: slopeTest },
    },
    endpointContrast: { value: endpointEstimate.estimate, standardError: endpointEstimate.standardError, ci95: bootstrapInterval(boot, count, endpoint) },
    twoLines: twoLines && { candidates: twoLines.candidates, armLevel: twoLines.armLevel, uShaped: twoLines.uShaped, invertedU: twoLines.invertedU },
    kendallTau: kendallTau(z, means, sign, RELATIVE_TOLERANCE * 2 * magnitude),
    spread,
    flatMargin,
    flatInterval,
    power,
    verdict,
    reason,
    warnings,
  };
}

function percent(share: number, digits = 0): string {
  return `${(share * 100).toFixed(digits)}%`;
}

/** Resamples to draw: the request, or fewer for large inputs, so one analysis stays within its CPU budget. */
export function bootstrapSize(requested: number, examples: number, models: number): number {
  if (requested <= MIN_CAPPED_SAMPLES) return requested;
  return Math.min(requested, Math.max(MIN_CAPPED_SAMPLES, Math.floor(BOOTSTRAP_BUDGET / (examples * models))));
}

function around(contrast: ContrastEstimate, critical: number): Interval {
  const half = critical * contrast.standardError;
  return [contrast.estimate - half, contrast.estimate + half];
}

function within(interval: Interval, margin: number): boolean {
  return interval[0] > -margin && interval[1] < margin;
}

function allPairedDifferencesZero(values: Float64Array, count: number, magnitude: number): boolean {
  const tolerance = RELATIVE_TOLERANCE * magnitude;
  for (let row = 0; row < values.length; row += count) {
    for (let m = 1; m < count; m++) if (Math.abs(values[row + m]! - values[row]!) > tolerance) return false;
  }
  return true;
}

/**
 * The two-lines tests at every interior model with a spread of scales on both sides. A shape is significant when
 * at some candidate both arms exclude 0 in its direction, each one-sided at shapeLevel / candidates. The model
 * reported is the candidate with the strongest evidence (the smaller of its two arms' t statistics). `arms` are the
 * reported candidates' arms, which a flat verdict must also keep inside the margin: the most curved places, so
 * choosing them from the data makes "flat" harder to claim, never easier. An arm shorter than a decade of scale
 * cannot resolve a slope per decade, so it must keep its whole change within one decade's margin instead.
 */
function shapeTests(
  values: Float64Array,
  count: number,
  means: Float64Array,
  z: number[],
  magnitude: number,
  df: number,
  sign: number,
  rule: DecisionRule,
  ids: string[],
): (NonNullable<FamilyAnalysis["twoLines"]> & { arms: (ContrastEstimate & { span: number })[] }) | null {
  const candidates: number[] = [];
  for (let t = 1; t < count - 1; t++) if (hasSpread(z, 0, t) && hasSpread(z, t, count - 1)) candidates.push(t);
  if (candidates.length === 0) return null;
  const armLevel = rule.shapeLevel / candidates.length;
  const critical = tCritical(armLevel, df);
  const arms = candidates.map((t) => {
    const left = estimateContrast(values, count, means, slopeContrast(z, 0, t), magnitude);
    const right = estimateContrast(values, count, means, slopeContrast(z, t, count - 1), magnitude);
    return { t, left, right };
  });
  // Performance-direction t statistic of a slope: positive when performance improves; 0 within rounding.
  const statistic = (arm: ContrastEstimate): number => {
    const value = sign * arm.estimate;
    if (Math.abs(value) <= arm.tolerance) return 0;
    return arm.standardError === 0 ? Math.sign(value) * Infinity : value / arm.standardError;
  };
  const pick = (shape: "u" | "inverted"): ArmTest => {
    let best = arms[0]!;
    let bestEvidence = -Infinity;
    let significant = false;
    for (const arm of arms) {
      const left = statistic(arm.left);
      const right = statistic(arm.right);
      const evidence = shape === "u" ? Math.min(-left, right) : Math.min(left, -right);
      if (evidence > bestEvidence) [best, bestEvidence] = [arm, evidence];
      if (evidence > critical) significant = true;
    }
    const tested = (arm: ContrastEstimate): TestedSlope => ({ slope: arm.estimate, standardError: arm.standardError, interval: around(arm, critical) });
    return { turningModel: ids[best.t]!, left: tested(best.left), right: tested(best.right), significant };
  };
  const uShaped = pick("u");
  const invertedU = pick("inverted");
  const chosen = arms.filter((arm) => ids[arm.t] === uShaped.turningModel || ids[arm.t] === invertedU.turningModel);
  const span = (from: number, to: number): number => z[to]! - z[from]!;
  return {
    candidates: candidates.length,
    armLevel,
    uShaped,
    invertedU,
    arms: chosen.flatMap((arm) => [
      { ...arm.left, span: span(0, arm.t) },
      { ...arm.right, span: span(arm.t, count - 1) },
    ]),
  };
}

/** Kendall's tau-b between scale and performance; means within `tolerance` and equal scales are ties. */
function kendallTau(z: number[], means: Float64Array, sign: number, tolerance: number): number {
  let concordant = 0;
  let discordant = 0;
  let tiedScale = 0;
  let tiedPerformance = 0;
  let pairs = 0;
  for (let i = 0; i < z.length; i++) {
    for (let j = i + 1; j < z.length; j++) {
      pairs++;
      const scaleOrder = Math.sign(z[j]! - z[i]!);
      const difference = sign * (means[j]! - means[i]!);
      const performanceOrder = Math.abs(difference) <= tolerance ? 0 : Math.sign(difference);
      if (scaleOrder === 0) tiedScale++;
      if (performanceOrder === 0) tiedPerformance++;
      if (scaleOrder * performanceOrder > 0) concordant++;
      else if (scaleOrder * performanceOrder < 0) discordant++;
    }
  }
  const denominator = Math.sqrt((pairs - tiedScale) * (pairs - tiedPerformance));
  return denominator === 0 ? 0 : (concordant - discordant) / denominator;
}
