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
  largestMagnitude,
  percentileInterval,
  slopeContrast,
  type ContrastEstimate,
  type Interval,
} from "./contrasts";
import { normalQuantile, tCritical } from "./distributions";
import { DEFAULT_MIN_SHARED_EXAMPLES, prepareFamily, type FamilyInput } from "./family-input";
import { shapeTests, type ArmEstimate, type ShapeTest } from "./shapes";
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

const SLOPE_LEVEL = 0.03;
const SHAPE_LEVEL = 0.01;
export const DECISION_RULE: DecisionRule = {
  falseClaimRate: SLOPE_LEVEL + 2 * SHAPE_LEVEL,
  slopeLevel: SLOPE_LEVEL,
  shapeLevel: SHAPE_LEVEL,
  flatLevel: 0.05,
  power: 0.8,
};

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

/** An arm's slope and the interval its test decides on. */
export interface TestedSlope {
  slope: number;
  standardError: number;
  /** Two-sided at 1 − 2 × armLevel: the one-sided test reads the bound on its side (within rounding, 0 is 0). */
  interval: Interval;
}

export interface ArmTest {
  turningModel: string;
  /** Metric change per decade left and right of the turning model. */
  left: TestedSlope;
  right: TestedSlope;
  /** Both arms significant with opposite signs in the shape's direction, at this turning model. */
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
  /**
   * What the data can show, at the rule's power: the smallest slope the trend test would detect; the examples
   * that would detect a slope the size of the margin; and the examples that would show a family with no change
   * to be flat (the slope and the tested arms inside their margins). Null where the margin is 0.
   */
  power: { level: number; detectableSlope: number; examplesForMargin: number | null; examplesForFlat: number | null };
  verdict: Verdict;
  reason: string;
  warnings: string[];
}

const fmt = (value: number): string => (value === 0 ? "0" : value.toPrecision(3));
const range = (interval: Interval): string => `${fmt(interval[0])} to ${fmt(interval[1])}`;
const percent = (share: number, digits = 0): string => `${(share * 100).toFixed(digits)}%`;

/** Resamples to draw: the request, or fewer for large inputs, so one analysis stays within its CPU budget. */
export function bootstrapSize(requested: number, examples: number, models: number): number {
  if (requested <= MIN_CAPPED_SAMPLES) return requested;
  return Math.min(requested, Math.max(MIN_CAPPED_SAMPLES, Math.floor(BOOTSTRAP_BUDGET / (examples * models))));
}

/** A contrast's flat test: its interval at flatLevel, and the margin it must lie within. */
interface FlatCheck {
  what: string;
  interval: Interval;
  allowed: number;
  standardError: number;
}

/**
 * Analyses one family. Everything is computed on values divided by a power of two near their magnitude
 * (family-input.ts), then reported in the metric's units, so the verdict does not depend on the units.
 */
export function analyseFamily(input: FamilyInput, options: AnalysisOptions): FamilyAnalysis {
  const rule = DECISION_RULE;
  const { models, values, unit, examples, shared: n, warnings } = prepareFamily(input, options.minSharedExamples);
  const count = models.length;
  const z = models.map((model) => Math.log10(model.scale));
  const sign = options.direction === "lower_is_better" ? -1 : 1;
  const means = columnMeans(values, count);
  const magnitude = largestMagnitude(values);
  const inUnits = (value: number): number => value * unit;
  const intervalInUnits = ([low, high]: Interval): Interval => [low * unit, high * unit];
  const critical = (oneSidedLevel: number): number => tCritical(oneSidedLevel, n - 1);
  const around = (contrast: ContrastEstimate, t: number): Interval => {
    const half = t * contrast.standardError;
    return [contrast.estimate - half, contrast.estimate + half];
  };

  const samples = bootstrapSize(options.bootstrapSamples, n, count);
  const boot = bootstrapMeans(values, count, samples, options.seed);
  const summaries: ModelSummary[] = models.map((model, m) => {
    const perModel = new Float64Array(samples);
    for (let b = 0; b < samples; b++) perModel[b] = boot[b * count + m]!;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (values[i * count + m]! - means[m]!) ** 2;
    const standardError = Math.sqrt(squares / (n - 1) / n);
    return {
      id: model.id,
      scale: model.scale,
      log10Scale: z[m]!,
      examples: examples[m]!,
      mean: inUnits(means[m]!),
      standardError: inUnits(standardError),
      ci95: intervalInUnits(percentileInterval(perModel)),
    };
  });

  const slopeWeights = slopeContrast(z, 0, count - 1);
  const slope = estimateContrast(values, count, means, slopeWeights, magnitude);
  const slopeCritical = critical(rule.slopeLevel / 2);
  const slopeTest = around(slope, slopeCritical);
  const endpoint = endpointContrast(count);
  const endpointEstimate = estimateContrast(values, count, means, endpoint, magnitude);
  const shapes = shapeTests({ values, count, means, z, magnitude, sign, critical }, rule.shapeLevel);

  const spread = robustSpread(values, count);
  const margin = options.equivalenceMargin * spread;
  const flatCritical = critical(rule.flatLevel);
  const flatChecks = flatTests(
    slope,
    shapes ? [shapes.uShaped, shapes.invertedU] : [],
    margin,
    (contrast) => around(contrast, flatCritical),
    models,
  );
  const power = powerOf(n, slope.standardError, slopeCritical, flatCritical, margin, flatChecks, rule);

  const perf = (interval: Interval): Interval => (sign > 0 ? interval : [-interval[1], -interval[0]]);
  const [perfLow, perfHigh] = perf(slopeTest);
  const identical = allPairedDifferencesZero(values, count, magnitude);
  let verdict: Verdict;
  if (identical) verdict = "flat";
  else if (shapes?.uShaped.significant) verdict = "u_shaped";
  else if (shapes?.invertedU.significant) verdict = "inverted_u";
  else if (perfHigh < -slope.tolerance) verdict = "inverse";
  else if (perfLow > slope.tolerance) verdict = "standard";
  else if (flatChecks.every((check) => within(check.interval, check.allowed))) verdict = "flat";
  else verdict = "inconclusive";

  const armTest = (shape: ShapeTest): ArmTest => {
    const tested = (arm: ArmEstimate): TestedSlope => ({
      slope: inUnits(arm.estimate),
      standardError: inUnits(arm.standardError),
      interval: intervalInUnits(around(arm, shapes!.critical)),
    });
    return {
      turningModel: models[shape.turning]!.id,
      left: tested(shape.left),
      right: tested(shape.right),
      significant: shape.significant,
    };
  };
  const analysis: FamilyAnalysis = {
    family: input.family,
    axis: input.axis,
    sharedExamples: n,
    bootstrapSamples: samples,
    models: summaries,
    slope: {
      perDecade: inUnits(slope.estimate),
      standardError: inUnits(slope.standardError),
      ci95: intervalInUnits(bootstrapInterval(boot, count, slopeWeights)),
      test: { level: 1 - rule.slopeLevel, interval: intervalInUnits(slopeTest) },
    },
    endpointContrast: {
      value: inUnits(endpointEstimate.estimate),
      standardError: inUnits(endpointEstimate.standardError),
      ci95: intervalInUnits(bootstrapInterval(boot, count, endpoint)),
    },
    twoLines: shapes && {
      candidates: shapes.candidates,
      armLevel: shapes.armLevel,
      uShaped: armTest(shapes.uShaped),
      invertedU: armTest(shapes.invertedU),
    },
    kendallTau: kendallTau(z, means, sign, RELATIVE_TOLERANCE * 2 * magnitude),
    spread: inUnits(spread),
    flatMargin: inUnits(margin),
    flatInterval: intervalInUnits(flatChecks[0]!.interval),
    power: { ...power, detectableSlope: inUnits(power.detectableSlope) },
    verdict,
    reason: "",
    warnings,
  };
  const failing = flatChecks
    .filter((check) => !within(check.interval, check.allowed))
    .map((check) => ({ ...check, interval: intervalInUnits(check.interval), allowed: inUnits(check.allowed) }));
  const reason = identical
    ? "Every model gives the same value on every shared example: no change with scale."
    : explain(analysis, failing, options.equivalenceMargin);
  return { ...analysis, reason };
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
 * What "flat" must show: the slope inside ± the margin, and both arms at each shape's reported turning model:
 * the most curved places, so choosing them from the data makes "flat" harder to claim, never easier. An arm
 * shorter than a decade cannot resolve a slope per decade, so it must keep its whole change within one decade's
 * margin instead. The slope comes first.
 */
function flatTests(
  slope: ContrastEstimate,
  shapes: ShapeTest[],
  margin: number,
  interval: (contrast: ContrastEstimate) => Interval,
  models: { id: string }[],
): FlatCheck[] {
  const checks: FlatCheck[] = [
    { what: "the slope", interval: interval(slope), allowed: margin, standardError: slope.standardError },
  ];
  const seen = new Set<number>();
  for (const shape of shapes) {
    if (seen.has(shape.turning)) continue;
    seen.add(shape.turning);
    const turning = models[shape.turning]!.id;
    for (const [side, arm] of [
      ["left", shape.left],
      ["right", shape.right],
    ] as const) {
      checks.push({
        what: `the arm ${side} of ${turning}`,
        interval: interval(arm),
        allowed: margin * Math.max(1, 1 / arm.span),
        standardError: arm.standardError,
      });
    }
  }
  return checks;
}

/** Sample sizes from the paired standard errors, which shrink as 1 / sqrt(examples). */
function powerOf(
  n: number,
  slopeError: number,
  slopeCritical: number,
  flatCritical: number,
  margin: number,
  checks: FlatCheck[],
  rule: DecisionRule,
): FamilyAnalysis["power"] {
  const detectableSlope = (slopeCritical + normalQuantile(rule.power)) * slopeError;
  if (!(margin > 0)) return { level: rule.power, detectableSlope, examplesForMargin: null, examplesForFlat: null };
  // For a family with no change, a two one-sided test passes with this power when allowed / SE ≥ t + z((1 + power) / 2).
  const flatFactor = flatCritical + normalQuantile((1 + rule.power) / 2);
  const needed = (error: number, allowed: number, factor: number): number =>
    Math.ceil(n * ((factor * error) / allowed) ** 2);
  return {
    level: rule.power,
    detectableSlope,
    examplesForMargin: needed(detectableSlope, margin, 1),
    examplesForFlat: Math.max(...checks.map((check) => needed(check.standardError, check.allowed, flatFactor))),
  };
}

/** The reason for a verdict reached by the tests, in the metric's units: the numbers behind it, and what more data would do. */
function explain(analysis: FamilyAnalysis, failing: FlatCheck[], relativeMargin: number): string {
  const { slope, twoLines, power, flatMargin, flatInterval } = analysis;
  const rule = DECISION_RULE;
  const slopeText = `slope ${fmt(slope.perDecade)} per decade (${percent(slope.test.level)} CI ${range(slope.test.interval)})`;
  const shape = (test: ArmTest, path: string): string =>
    `Performance ${path} at ${test.turningModel}: both arms' intervals exclude 0 (each arm one-sided at ${fmt(twoLines!.armLevel)}, the shape's ${percent(rule.shapeLevel)} split over ${twoLines!.candidates} candidate turning models).`;
  const detectable = `it could detect a change of ${fmt(power.detectableSlope)} per decade with ${percent(rule.power)} power`;
  const marginText = `±${fmt(flatMargin)} per decade (${relativeMargin} robust SD)`;
  switch (analysis.verdict) {
    case "u_shaped":
      return shape(twoLines!.uShaped, "worsens and then improves, turning");
    case "inverted_u":
      return shape(twoLines!.invertedU, "improves and then worsens, turning");
    case "inverse":
      return `Performance falls with scale: ${slopeText}.`;
    case "standard":
      return `Performance rises with scale: ${slopeText}.`;
    case "flat": {
      const arms = twoLines ? ", and so do both arms at each shape's turning model" : "";
      return `No change that matters: the slope's ${percent(1 - 2 * rule.flatLevel)} interval (${range(flatInterval)}) lies within ${marginText}${arms}; ${detectable}.`;
    }
    case "inconclusive": {
      const why = failing
        .map(
          (check) =>
            `${check.what}'s ${percent(1 - 2 * rule.flatLevel)} interval (${range(check.interval)}) is not within ±${fmt(check.allowed)}`,
        )
        .join("; ");
      const more: string[] = [];
      if (power.examplesForMargin !== null && power.examplesForMargin > analysis.sharedExamples)
        more.push(`about ${power.examplesForMargin} examples would detect a change of ${marginText}`);
      if (power.examplesForFlat !== null && power.examplesForFlat > analysis.sharedExamples)
        more.push(`about ${power.examplesForFlat} would show a family with no change to be flat`);
      const next = more.length > 0 ? ` With the same spread, ${more.join(", and ")}.` : "";
      return `The data cannot tell: the ${slopeText} includes 0, and no change larger than the margin is shown either: ${why}. With ${analysis.sharedExamples} examples, ${detectable}.${next}`;
    }
  }
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
