/**
 * Scaling statistics for one metric on one model family (DESIGN.md section 4). Pure: no bindings, no I/O.
 *
 * Models are ordered by scale (ties by id) and placed at z = log10(scale), or, on an axis that contains 0 (RLHF
 * steps with the pretrained model), at z = steps / 1000 (family-input.ts), so slopes are per decade or per 1000
 * steps. Every comparison between models is a
 * paired contrast over the examples they share (contrasts.ts). The verdict comes from tests whose error rates
 * add up to a stated bound (the decision rule below, calibrated by `npm run calibrate`); the paired bootstrap
 * gives the descriptive 95% intervals of the means, the slope and the endpoint contrast. The verdict is in
 * performance terms: a metric where lower is better (loss) is turned around before deciding.
 */
import type { AnalysisArm, AnalysisFamily, AnalysisTested, AnalysisVerdict } from "../generated/types";
import { at } from "./checked";
import {
  RELATIVE_TOLERANCE,
  bootstrapInterval,
  bootstrapMeansTogether,
  columnMeans,
  endpointContrast,
  estimateContrast,
  largestMagnitude,
  modelColumn,
  percentileInterval,
  slopeContrast,
  type Contrast,
  type ContrastEstimate,
  type Interval,
} from "./contrasts";
import { normalQuantile, tCritical } from "./distributions";
import {
  AnalysisInputError,
  DEFAULT_MIN_SHARED_EXAMPLES,
  position,
  prepareFamily,
  type FamilyInput,
  type PreparedFamily,
} from "./family-input";
import { shapeTests, type ArmEstimate, type ShapeTest, type ShapeTests } from "./shapes";
import { robustSpread } from "./spread";

export type { Interval } from "./contrasts";
export { AnalysisInputError, type FamilyInput, type ModelInput } from "./family-input";

/** What a slope is per: a decade of scale on a log10 axis, 1000 RLHF steps on a linear one. */
export type SlopeUnit = "decade" | "1000 RLHF steps";

export type Direction = "lower_is_better" | "higher_is_better";
export type Verdict = AnalysisVerdict;
/** Every verdict, in the order reports list them. */
export const VERDICTS = [
  "inverse",
  "standard",
  "u_shaped",
  "inverted_u",
  "flat",
  "inconclusive",
] as const satisfies readonly Verdict[];
// Fails to compile if the schema gains a verdict this list does not name.
const everyVerdictListed: [Exclude<Verdict, (typeof VERDICTS)[number]>] extends [never] ? true : never = true;
void everyVerdictListed;

export const isVerdict = (name: string): name is Verdict => VERDICTS.some((verdict) => verdict === name);

/**
 * Bump when a change alters any number or sentence an analysis reports, or which lines a family gives, so stored
 * analyses say which code made them and the cron job makes outdated ones again. 2.1.0: families of sizes x RLHF
 * steps are analysed as lines along both axes; reasons along RLHF steps say so. The verdict rule is 2.0.0's.
 */
export const ANALYSIS_CODE_VERSION = "isv-analysis/2.1.0";

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
   * Smallest change per decade of scale (per 1000 steps on a linear RLHF axis) that matters, as a multiple of the
   * metric's robust spread over examples (spread.ts): "flat" means the slope lies inside plus or minus this much.
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

/** One family's analysis: the type generated from schemas/analysis.schema.json, whose descriptions say what each
 * field means; models are a plain array here (analyseFamily refuses fewer than two). */
export interface FamilyAnalysis extends Omit<AnalysisFamily, "models"> {
  models: ModelSummary[];
}
export type ModelSummary = AnalysisFamily["models"][number];

/**
 * A line's slope and what it is per. Every reader of a slope goes through this (or narrows the union itself), so
 * a slope per 1000 RLHF steps is never shown as per decade.
 */
export function slopePer(slope: FamilyAnalysis["slope"]): { value: number; unit: SlopeUnit } {
  return "perDecade" in slope
    ? { value: slope.perDecade, unit: "decade" }
    : { value: slope.per1000Steps, unit: "1000 RLHF steps" };
}
export type ArmTest = AnalysisArm;
export type TestedSlope = AnalysisTested;

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

/** The slope's flat check, then the arms' (flatTests). */
type FlatChecks = [FlatCheck, ...FlatCheck[]];

/** A prepared family (family-input.ts) and what every phase reads from it, in its scaled units. */
interface Family extends PreparedFamily {
  name: string;
  axis: FamilyInput["axis"];
  fixed: FamilyInput["fixed"];
  count: number;
  /** Each model's position: log10 of its scale, or its RLHF steps in thousands (position in family-input.ts). */
  z: number[];
  /** +1 when higher values are better, -1 when lower are. */
  sign: number;
  means: Float64Array;
  magnitude: number;
  /** The critical t for a one-sided test at `oneSidedLevel`, with the shared examples' degrees of freedom. */
  critical: (oneSidedLevel: number) => number;
}

/** The resamples drawn and every model's mean in each (bootstrapMeans). */
interface Bootstrap {
  samples: number;
  means: Float64Array;
}

/** The tests of a trend: the slope over every model, the endpoint contrast, and the two-lines shapes. */
interface TrendTests {
  slopeWeights: Contrast;
  slope: ContrastEstimate;
  slopeCritical: number;
  /** The interval the trend test decides on, at 1 − slopeLevel. */
  slopeTest: Interval;
  endpoint: Contrast;
  endpointEstimate: ContrastEstimate;
  shapes: ShapeTests | null;
}

/** What "flat" must show and what the data could show. */
interface Flatness {
  spread: number;
  margin: number;
  checks: FlatChecks;
  power: FamilyAnalysis["power"];
}

/**
 * Analyses one family. Everything is computed on values divided by a power of two near their magnitude
 * (family-input.ts), then reported in the metric's units, so the verdict does not depend on the units.
 */
export function analyseFamily(input: FamilyInput, options: AnalysisOptions): FamilyAnalysis {
  const analysis = at(analyseFamilyMetrics([{ input, options }]), 0);
  if (analysis instanceof AnalysisInputError) throw analysis;
  return analysis;
}

/** One family's results on one metric, and how to analyse them. */
export interface MetricInput {
  input: FamilyInput;
  options: AnalysisOptions;
}

/** A family ready to analyse, and how many resamples its bootstrap draws. */
interface Prepared {
  family: Family;
  options: AnalysisOptions;
  samples: number;
}

/**
 * analyseFamily for one family on several metrics, in order: each analysis is exactly what analyseFamily gives
 * alone, but metrics whose bootstraps draw alike (same seed, resamples and shared examples) share one set of
 * draws. A metric whose results are refused gets its AnalysisInputError in its place.
 */
export function analyseFamilyMetrics(metrics: readonly MetricInput[]): (FamilyAnalysis | AnalysisInputError)[] {
  const prepared = metrics.map(({ input, options }): Prepared | AnalysisInputError => {
    try {
      const family = familyOf(input, options);
      return { family, options, samples: bootstrapSize(options.bootstrapSamples, family.shared, family.count) };
    } catch (error) {
      if (error instanceof AnalysisInputError) return error;
      throw error;
    }
  });
  const alike = new Map<string, Prepared[]>();
  for (const entry of prepared) {
    if (entry instanceof AnalysisInputError) continue;
    const key = `${entry.options.seed}/${entry.samples}/${entry.family.shared}`;
    alike.set(key, [...(alike.get(key) ?? []), entry]);
  }
  const means = new Map<Prepared, Float64Array>();
  for (const group of alike.values()) {
    const { samples, options } = at(group, 0);
    const matrices = group.map(({ family }) => ({ values: family.values, models: family.count }));
    const together = bootstrapMeansTogether(matrices, samples, options.seed);
    for (const [k, entry] of group.entries()) means.set(entry, at(together, k));
  }
  return prepared.map((entry) => {
    if (entry instanceof AnalysisInputError) return entry;
    const bootstrap = means.get(entry);
    if (!bootstrap) throw new Error("analyseFamilyMetrics: a prepared family has no bootstrap");
    return completeAnalysis(entry, { samples: entry.samples, means: bootstrap });
  });
}

/** The tests, the verdict and the report of a prepared family, given its bootstrap. */
function completeAnalysis({ family, options }: Prepared, bootstrap: Bootstrap): FamilyAnalysis {
  // The paired bootstrap gives descriptive intervals only, never the verdict; these are the tests it comes from.
  const trend = trendTests(family);
  const flatness = flatnessTests(family, trend, options.equivalenceMargin);
  const identical = allPairedDifferencesZero(family.values, family.count, family.magnitude);
  const verdict = identical ? "flat" : decide(family.sign, trend, flatness.checks);
  // The report, in the metric's units.
  const analysis = report(family, bootstrap, trend, flatness, verdict);
  const unit = family.unit;
  const failing = flatness.checks
    .filter((check) => !within(check.interval, check.allowed))
    .map((check) => ({ ...check, interval: inUnits(check.interval, unit), allowed: check.allowed * unit }));
  const reason = identical
    ? `Every model gives the same value on every shared example: no change with ${alongWhat(family.axis)}.`
    : explain(analysis, failing, options.equivalenceMargin);
  return { ...analysis, reason };
}

/** The family checked and prepared (family-input.ts), its models placed on its axis, and their means. */
function familyOf(input: FamilyInput, options: AnalysisOptions): Family {
  const prepared = prepareFamily(input, options.minSharedExamples);
  const { models, values, shared: n } = prepared;
  return {
    ...prepared,
    name: input.family,
    axis: input.axis,
    fixed: input.fixed,
    count: models.length,
    z: models.map((model) => position(model.scale, prepared.axisScale)),
    sign: options.direction === "lower_is_better" ? -1 : 1,
    means: columnMeans(values, models.length),
    magnitude: largestMagnitude(values),
    critical: (oneSidedLevel) => tCritical(oneSidedLevel, n - 1),
  };
}

/** An interval in the metric's units, from the scaled units the analysis computes in. */
function inUnits([low, high]: Interval, unit: number): Interval {
  return [low * unit, high * unit];
}

/** A contrast's estimate plus or minus `t` standard errors. */
function around(contrast: ContrastEstimate, t: number): Interval {
  const half = t * contrast.standardError;
  return [contrast.estimate - half, contrast.estimate + half];
}

/** The slope and endpoint contrasts with the slope's two-sided test, and the two-lines shapes (shapes.ts). */
function trendTests(family: Family): TrendTests {
  const { values, count, means, z, magnitude, sign, critical } = family;
  const slopeWeights = slopeContrast(z, 0, count - 1);
  const slope = estimateContrast(values, count, means, slopeWeights, magnitude);
  const slopeCritical = critical(DECISION_RULE.slopeLevel / 2);
  const endpoint = endpointContrast(count);
  return {
    slopeWeights,
    slope,
    slopeCritical,
    slopeTest: around(slope, slopeCritical),
    endpoint,
    endpointEstimate: estimateContrast(values, count, means, endpoint, magnitude),
    shapes: shapeTests({ values, count, means, z, magnitude, sign, critical }, DECISION_RULE.shapeLevel),
  };
}

/** The margin a change must exceed to matter, the flat tests against it, and the power of the data. */
function flatnessTests(family: Family, trend: TrendTests, equivalenceMargin: number): Flatness {
  const { slope, shapes } = trend;
  const spread = robustSpread(family.values, family.count);
  const margin = equivalenceMargin * spread;
  const flatCritical = family.critical(DECISION_RULE.flatLevel);
  const checks = flatTests(
    slope,
    shapes ? [shapes.uShaped, shapes.invertedU] : [],
    margin,
    (contrast) => around(contrast, flatCritical),
    family.models,
  );
  const power = powerOf(
    family.shared,
    slope.standardError,
    trend.slopeCritical,
    flatCritical,
    margin,
    checks,
    DECISION_RULE,
  );
  return { spread, margin, checks, power };
}

/** The decision rule, in performance terms: a significant shape, else the slope's sign, else flat if shown. */
function decide(sign: number, trend: TrendTests, checks: readonly FlatCheck[]): Verdict {
  const { shapes, slope, slopeTest } = trend;
  const [perfLow, perfHigh]: Interval = sign > 0 ? slopeTest : [-slopeTest[1], -slopeTest[0]];
  if (shapes?.uShaped.significant) return "u_shaped";
  if (shapes?.invertedU.significant) return "inverted_u";
  if (perfHigh < -slope.tolerance) return "inverse";
  if (perfLow > slope.tolerance) return "standard";
  if (checks.every((check) => within(check.interval, check.allowed))) return "flat";
  return "inconclusive";
}

/** The analysis in the metric's units, all but its reason. */
function report(
  family: Family,
  bootstrap: Bootstrap,
  trend: TrendTests,
  flatness: Flatness,
  verdict: Verdict,
): FamilyAnalysis {
  const { count, unit } = family;
  const { slope, endpointEstimate, shapes } = trend;
  const { spread, margin, checks, power } = flatness;
  const linear = family.axisScale === "linear";
  const slopeRest = {
    standardError: slope.standardError * unit,
    ci95: inUnits(bootstrapInterval(bootstrap.means, count, trend.slopeWeights), unit),
    test: { level: 1 - DECISION_RULE.slopeLevel, interval: inUnits(trend.slopeTest, unit) },
  };
  return {
    family: family.name,
    axis: family.axis,
    // Only lines of a grid and linear axes have these, so a family analysed as before is the same object.
    ...(family.fixed && { fixed: family.fixed }),
    ...(linear && { axisScale: "linear" as const }),
    sharedExamples: family.shared,
    bootstrapSamples: bootstrap.samples,
    models: modelSummaries(family, bootstrap.means),
    slope: linear
      ? { per1000Steps: slope.estimate * unit, ...slopeRest }
      : { perDecade: slope.estimate * unit, ...slopeRest },
    endpointContrast: {
      value: endpointEstimate.estimate * unit,
      standardError: endpointEstimate.standardError * unit,
      ci95: inUnits(bootstrapInterval(bootstrap.means, count, trend.endpoint), unit),
    },
    twoLines: shapes && {
      candidates: shapes.candidates,
      armLevel: shapes.armLevel,
      uShaped: armTest(shapes.uShaped, shapes.critical, family),
      invertedU: armTest(shapes.invertedU, shapes.critical, family),
    },
    kendallTau: kendallTau(family.z, family.means, family.sign, RELATIVE_TOLERANCE * 2 * family.magnitude),
    spread: spread * unit,
    flatMargin: margin * unit,
    flatInterval: inUnits(checks[0].interval, unit),
    power: { ...power, detectableSlope: power.detectableSlope * unit },
    verdict,
    reason: "",
    warnings: family.warnings,
  };
}

/** Each model's mean with its standard error over the shared examples and its paired-bootstrap 95% interval. */
function modelSummaries(family: Family, boot: Float64Array): ModelSummary[] {
  const { values, count, shared: n, means, unit } = family;
  return family.models.map((model, m) => {
    const mean = at(means, m);
    let squares = 0;
    // biome-ignore lint/style/noNonNullAssertion: i * count + m < n * count = values.length, as m < count.
    for (let i = 0; i < n; i++) squares += (values[i * count + m]! - mean) ** 2;
    const standardError = Math.sqrt(squares / (n - 1) / n);
    return {
      id: model.id,
      scale: model.scale,
      // On a linear axis the scale is the position; log10 of 0 steps does not exist.
      ...(family.axisScale === "log10" && { log10Scale: at(family.z, m) }),
      examples: at(family.examples, m),
      mean: mean * unit,
      standardError: standardError * unit,
      ci95: inUnits(percentileInterval(modelColumn(boot, count, m)), unit),
    };
  });
}

/** A shape's arms at its turning model, in the metric's units, with the intervals its test reads. */
function armTest(shape: ShapeTest, critical: number, family: Family): ArmTest {
  const tested = (arm: ArmEstimate): TestedSlope => ({
    slope: arm.estimate * family.unit,
    standardError: arm.standardError * family.unit,
    interval: inUnits(around(arm, critical), family.unit),
  });
  return {
    turningModel: at(family.models, shape.turning).id,
    left: tested(shape.left),
    right: tested(shape.right),
    significant: shape.significant,
  };
}

function within(interval: Interval, margin: number): boolean {
  return interval[0] > -margin && interval[1] < margin;
}

function allPairedDifferencesZero(values: Float64Array, count: number, magnitude: number): boolean {
  const tolerance = RELATIVE_TOLERANCE * magnitude;
  for (let row = 0; row < values.length; row += count) {
    // biome-ignore lint/style/noNonNullAssertion: row + m < row + count <= values.length, a whole number of rows.
    for (let m = 1; m < count; m++) if (Math.abs(values[row + m]! - values[row]!) > tolerance) return false;
  }
  return true;
}

/**
 * What "flat" must show: the slope inside ± the margin, and both arms at each shape's reported turning model:
 * the most curved places, so choosing them from the data makes "flat" harder to claim, never easier. An arm
 * shorter than a decade (1000 steps on a linear axis) cannot resolve a slope per unit, so it must keep its whole
 * change within one unit's margin instead. The slope comes first.
 */
function flatTests(
  slope: ContrastEstimate,
  shapes: ShapeTest[],
  margin: number,
  interval: (contrast: ContrastEstimate) => Interval,
  models: { id: string }[],
): FlatChecks {
  const checks: FlatChecks = [
    { what: "the slope", interval: interval(slope), allowed: margin, standardError: slope.standardError },
  ];
  const seen = new Set<number>();
  for (const shape of shapes) {
    if (seen.has(shape.turning)) continue;
    seen.add(shape.turning);
    const turning = at(models, shape.turning).id;
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
  const per = slopePer(slope);
  const slopeText = `slope ${fmt(per.value)} per ${per.unit} (${percent(slope.test.level)} CI ${range(slope.test.interval)})`;
  const shape = (test: "uShaped" | "invertedU", path: string): string => {
    if (twoLines === null) throw new Error("a shape's verdict needs the two-lines test, which needs 3 scales");
    return `Performance ${path} at ${twoLines[test].turningModel}: both arms' intervals exclude 0 (each arm one-sided at ${fmt(twoLines.armLevel)}, the shape's ${percent(rule.shapeLevel)} split over ${twoLines.candidates} candidate turning models).`;
  };
  const detectable = `it could detect a change of ${fmt(power.detectableSlope)} per ${per.unit} with ${percent(rule.power)} power`;
  const marginText = `±${fmt(flatMargin)} per ${per.unit} (${relativeMargin} robust SD)`;
  switch (analysis.verdict) {
    case "u_shaped":
      return shape("uShaped", "worsens and then improves, turning");
    case "inverted_u":
      return shape("invertedU", "improves and then worsens, turning");
    case "inverse":
      return `Performance falls with ${alongWhat(analysis.axis)}: ${slopeText}.`;
    case "standard":
      return `Performance rises with ${alongWhat(analysis.axis)}: ${slopeText}.`;
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

/** What the verdict's words say performance changes with: "scale" (size or FLOPs), or "RLHF steps". */
function alongWhat(axis: FamilyInput["axis"]): string {
  return axis === "rlhf_steps" ? "RLHF steps" : "scale";
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
      const scaleOrder = Math.sign(at(z, j) - at(z, i));
      const difference = sign * (at(means, j) - at(means, i));
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
