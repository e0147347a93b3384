/**
 * The task's slope minus a control's or variant's, for one line of a family and one metric: the quantity a
 * reviewer wants from a control experiment (issue 18). Pure and seeded.
 *
 * Both slopes are the analysis's own (statistics.ts): models placed by family-input.ts, the same least-squares
 * contrast weights (slopeContrast), fitted only to the models with results in both slices so the two are
 * comparable. Paired slices (example i of one matches example i of the other) give a per-example difference of
 * the two slope contrasts, whose spread is the standard error: what an example's difficulty does to both slices
 * cancels. Unpaired slices combine the two slopes' standard errors (Welch). The claim is read from a t interval
 * at a stated level; the bootstrap interval beside it is a description, as in the analysis. `npm run calibrate`
 * shows by simulation that with no true difference the claim is made at most at 1 − level.
 */
import type { SlopeDifference } from "../generated/types";
import { at } from "./checked";
import {
  bootstrapMeans,
  columnMeans,
  contrastPerExample,
  estimateContrast,
  largestMagnitude,
  percentileInterval,
  slopeContrast,
  type Contrast,
  type Interval,
} from "./contrasts";
import { tCritical } from "./distributions";
import {
  AnalysisInputError,
  axisScaleOf,
  position,
  prepareFamily,
  type Axis,
  type AxisScale,
  type LineFixed,
  type ModelInput,
  type PreparedFamily,
} from "./family-input";
import { fixedLabel } from "./labels";
import { ANALYSIS_CODE_VERSION, DEFAULT_OPTIONS, bootstrapSize, type SlopeUnit } from "./statistics";

export type { SlopeDifference } from "../generated/types";
export type Pairing = SlopeDifference["pairing"];

/** One line's results on one metric in the task and in the slice it is compared with. */
export interface SlopeDifferenceInput {
  family: string;
  axis: Axis;
  /** Absent: axisScaleOf(axis, the scales of both slices' models), as the analysis would place them. */
  axisScale?: AxisScale;
  fixed?: LineFixed;
  metric: SlopeDifference["metric"];
  /** The task's models (all its parts), each with the metric's value by example index, NaN where it has none. */
  task: readonly ModelInput[];
  /** The control or variant, and its models. */
  other: SlopeDifference["other"] & { models: readonly ModelInput[] };
}

export interface SlopeDifferenceOptions {
  pairing: Pairing;
  /** Two-sided level of the t interval the claim is read from: with no true difference, the claim is made with
   * probability at most 1 − level. */
  level: number;
  seed: number;
  /** Resamples asked for; fewer for large inputs (bootstrapSize), as in the analysis. */
  bootstrapSamples: number;
  /** Fewer shared examples than this are refused (paired: shared by both slices; unpaired: in either). */
  minSharedExamples: number;
}

export const DEFAULT_SLOPE_DIFFERENCE_OPTIONS: Omit<SlopeDifferenceOptions, "pairing"> = {
  level: 0.95,
  seed: DEFAULT_OPTIONS.seed,
  bootstrapSamples: DEFAULT_OPTIONS.bootstrapSamples,
  minSharedExamples: DEFAULT_OPTIONS.minSharedExamples,
};

export const SLOPE_DIFFERENCE_SCHEMA_VERSION = 1;

/** The unpaired bootstrap draws the other slice's examples from its own stream, seeded apart from the task's. */
const OTHER_STREAM = 0x5bd1e995;

/** One slice prepared for the comparison: its per-example slope contrast and slope, in the metric's units / unit. */
interface SliceContrast {
  examples: number;
  perExample: Float64Array;
  slope: number;
  standardError: number;
  /** Below this (metric units) a difference is rounding noise. */
  tolerance: number;
  unit: number;
  warnings: string[];
}

/**
 * The task's slope minus the other slice's on one line, with its test interval, bootstrap interval and claim.
 * Throws AnalysisInputError (as the analysis does) when fewer than two models at different positions have results
 * in both slices, when a model's scale differs between them, when paired slices differ in length, or when too few
 * examples are shared.
 */
export function slopeDifference(input: SlopeDifferenceInput, options: SlopeDifferenceOptions): SlopeDifference {
  if (!(options.level > 0 && options.level < 1)) throw new RangeError(`level ${options.level} must lie in (0, 1)`);
  // A standard error needs 2 examples: fewer is a caller's setting, not a property of the data.
  if (!(options.minSharedExamples >= 2)) throw new RangeError("minSharedExamples must be at least 2");
  const name = input.fixed ? `${input.family} (${fixedLabel(input.fixed)})` : input.family;
  const other = otherName(input.other);
  const [taskModels, otherModels] = commonModels(input, name, other);
  const leftOut = leftOutWarnings(input, other);
  const axisScale =
    input.axisScale ??
    axisScaleOf(
      input.axis,
      [...input.task, ...input.other.models].map((model) => model.scale),
    );
  const masks =
    options.pairing === "paired"
      ? pairedMasks(taskModels, otherModels, name, other, options.minSharedExamples)
      : unpairedCheck(taskModels, otherModels, name, other, options.minSharedExamples);
  const line = { family: input.family, axis: input.axis, axisScale, ...(input.fixed && { fixed: input.fixed }) };
  const taskFamily = prepareFamily({ ...line, models: masks[0] }, options.minSharedExamples);
  const otherFamily = prepareFamily({ ...line, models: masks[1] }, options.minSharedExamples);
  const weights = slopeContrast(
    taskFamily.models.map((model) => position(model.scale, axisScale)),
    0,
    taskFamily.models.length - 1,
  );
  const task = sliceContrast(taskFamily, weights, "the task");
  const compared = sliceContrast(otherFamily, weights, other);
  const tested =
    options.pairing === "paired"
      ? pairedDifference(task, compared, options)
      : unpairedDifference(task, compared, options);
  const per: SlopeUnit = axisScale === "linear" ? "1000 RLHF steps" : "decade";
  const verdict = claimOf(tested.interval, task.tolerance + compared.tolerance, input.metric);
  const models = taskFamily.models.map((model) => model.id);
  return {
    schemaVersion: SLOPE_DIFFERENCE_SCHEMA_VERSION,
    codeVersion: ANALYSIS_CODE_VERSION,
    family: input.family,
    axis: input.axis,
    ...(input.fixed && { fixed: input.fixed }),
    axisScale,
    per,
    // Only the schema's fields, so a full MetricDefinition can be passed as the metric.
    metric: {
      name: input.metric.name,
      direction: input.metric.direction,
      ...(input.metric.orientation && { orientation: input.metric.orientation }),
    },
    other: { role: input.other.role, label: input.other.label },
    pairing: options.pairing,
    models: [at(models, 0), at(models, 1), ...models.slice(2)],
    seed: options.seed,
    minSharedExamples: options.minSharedExamples,
    task: { examples: task.examples, slope: task.slope, standardError: task.standardError },
    otherSlope: { examples: compared.examples, slope: compared.slope, standardError: compared.standardError },
    difference: {
      estimate: tested.estimate,
      standardError: tested.standardError,
      degreesOfFreedom: tested.degreesOfFreedom,
      test: { level: options.level, interval: tested.interval },
      bootstrap: { samples: tested.samples, ci95: tested.ci95 },
    },
    ...verdict,
    statement: statement(verdict, tested, options, input, per),
    warnings: [...leftOut, ...task.warnings, ...compared.warnings],
  };
}

/** "the control \"plain.csv\"" or "the variant \"few-shot\"": how refusals and statements name the other slice. */
function otherName({ role, label }: SlopeDifference["other"]): string {
  return `the ${role} "${label}"`;
}

/**
 * The models with results in both slices, each slice's in its own order. A model whose scale differs between the
 * slices would be placed at two positions: the slices are not of one line, which is refused.
 */
function commonModels(input: SlopeDifferenceInput, name: string, other: string): [ModelInput[], ModelInput[]] {
  const otherScales = new Map(input.other.models.map((model) => [model.id, model.scale]));
  const taskIds = new Set(input.task.map((model) => model.id));
  for (const model of input.task) {
    const scale = otherScales.get(model.id);
    if (scale !== undefined && scale !== model.scale) {
      throw new AnalysisInputError(
        `family ${name}: model "${model.id}" has scale ${model.scale} in the task but ${scale} in ${other}`,
      );
    }
  }
  const taskModels = input.task.filter((model) => otherScales.has(model.id));
  const otherModels = input.other.models.filter((model) => taskIds.has(model.id));
  const positions = new Set(taskModels.map((model) => model.scale)).size;
  if (positions < 2) {
    throw new AnalysisInputError(
      `family ${name}: ${taskModels.length} model${taskModels.length === 1 ? " has" : "s have"} results in both the task and ${other}, at ${positions} scale${positions === 1 ? "" : "s"}; a slope difference needs 2 models at different scales in both`,
    );
  }
  return [taskModels, otherModels];
}

/** A model with results in one slice only is left out of both slopes: said, so the slopes can be read against the
 * slices' own analyses. */
function leftOutWarnings(input: SlopeDifferenceInput, other: string): string[] {
  const taskIds = new Set(input.task.map((model) => model.id));
  const otherIds = new Set(input.other.models.map((model) => model.id));
  return [
    ...input.task
      .filter((model) => !otherIds.has(model.id))
      .map((model) => `${model.id} has results in the task but not in ${other}: left out of both slopes`),
    ...input.other.models
      .filter((model) => !taskIds.has(model.id))
      .map((model) => `${model.id} has results in ${other} but not in the task: left out of both slopes`),
  ];
}

/** Examples where every model has a value, among the first `length`. */
function sharedIndices(models: readonly ModelInput[], length: number): number[] {
  const shared: number[] = [];
  for (let i = 0; i < length; i++) if (models.every((model) => Number.isFinite(model.values[i]))) shared.push(i);
  return shared;
}

const examplesOf = (models: readonly ModelInput[]): number => Math.max(...models.map((model) => model.values.length));

/**
 * Paired slices restricted to the examples both share: every other example is set to NaN in both, so each slice's
 * prepared matrix (prepareFamily) holds the same examples in the same order, row i of one matching row i of the other.
 */
function pairedMasks(
  task: readonly ModelInput[],
  other: readonly ModelInput[],
  name: string,
  otherText: string,
  minShared: number,
): [ModelInput[], ModelInput[]] {
  const length = examplesOf(task);
  const otherLength = examplesOf(other);
  if (length !== otherLength) {
    throw new AnalysisInputError(
      `family ${name}: the task has ${length} examples and ${otherText} ${otherLength}; paired slices must have as many examples, example i of one matching example i of the other`,
    );
  }
  const shared = sharedIndices([...task, ...other], length);
  if (shared.length < minShared) {
    throw new AnalysisInputError(
      `family ${name}: only ${shared.length} example${shared.length === 1 ? " has" : "s have"} a value for every model in both the task and ${otherText}; a paired slope difference needs at least ${minShared}`,
    );
  }
  const keep = (models: readonly ModelInput[]): ModelInput[] =>
    models.map((model) => {
      const values = new Float64Array(length).fill(Number.NaN);
      // biome-ignore lint/style/noNonNullAssertion: every shared index has a finite value in every model's column.
      for (const i of shared) values[i] = model.values[i]!;
      return { ...model, values };
    });
  return [keep(task), keep(other)];
}

/** Unpaired slices as they are, once each is known to have enough shared examples of its own. */
function unpairedCheck(
  task: ModelInput[],
  other: ModelInput[],
  name: string,
  otherText: string,
  minShared: number,
): [ModelInput[], ModelInput[]] {
  for (const [models, which] of [
    [task, "the task"],
    [other, otherText],
  ] as const) {
    const shared = sharedIndices(models, examplesOf(models)).length;
    if (shared < minShared) {
      throw new AnalysisInputError(
        `family ${name}: in ${which} only ${shared} example${shared === 1 ? " has" : "s have"} a value for every compared model; a slope difference needs at least ${minShared}`,
      );
    }
  }
  return [task, other];
}

/** A slice's slope contrast per example and its estimate, in the slice's scaled units (times `unit` for metric units). */
function sliceContrast(family: PreparedFamily, weights: Contrast, which: string): SliceContrast {
  const count = family.models.length;
  const magnitude = largestMagnitude(family.values);
  const slope = estimateContrast(family.values, count, columnMeans(family.values, count), weights, magnitude);
  return {
    examples: family.shared,
    perExample: contrastPerExample(family.values, count, weights),
    slope: slope.estimate * family.unit,
    standardError: slope.standardError * family.unit,
    tolerance: slope.tolerance * family.unit,
    unit: family.unit,
    warnings: family.warnings.map((warning) => `${which}: ${warning}`),
  };
}

/** The difference's estimate, its test interval and its bootstrap interval, in the metric's units. */
interface TestedDifference {
  estimate: number;
  standardError: number;
  degreesOfFreedom: number;
  interval: Interval;
  samples: number;
  ci95: Interval;
}

/**
 * Both slices' per-example contrasts on one scale, the larger of their units: each is multiplied by a power of two
 * (exact), so equal slices give equal values bit for bit, and sums of squares stay clear of overflow.
 */
function onCommonScale(
  task: SliceContrast,
  other: SliceContrast,
): { unit: number; task: Float64Array; other: Float64Array } {
  const unit = Math.max(task.unit, other.unit);
  const scaled = (slice: SliceContrast): Float64Array => slice.perExample.map((value) => value * (slice.unit / unit));
  return { unit, task: scaled(task), other: scaled(other) };
}

/** Mean and standard error of the mean of `values`. */
function meanAndError(values: Float64Array): { mean: number; standardError: number } {
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  const n = values.length;
  return { mean, standardError: n > 1 ? Math.sqrt(squares / (n - 1) / n) : 0 };
}

/** The t interval estimate ± t(level) × standard error. */
function tInterval(estimate: number, standardError: number, df: number, level: number): Interval {
  const half = tCritical((1 - level) / 2, df) * standardError;
  return [estimate - half, estimate + half];
}

/**
 * Paired: the per-example differences of the two slope contrasts over the shared examples. The estimate is the
 * difference of the slopes (from the means, so equal slices give exactly 0); the bootstrap draws the same
 * examples for both slices, which is resampling the differences.
 */
function pairedDifference(
  task: SliceContrast,
  other: SliceContrast,
  options: SlopeDifferenceOptions,
): TestedDifference {
  const common = onCommonScale(task, other);
  const differences = common.task.map((value, i) => value - at(common.other, i));
  const { standardError } = meanAndError(differences);
  const n = differences.length;
  const estimate = task.slope - other.slope;
  const samples = bootstrapSize(options.bootstrapSamples, n, 1);
  const resampled = bootstrapMeans(differences, 1, samples, options.seed);
  const degreesOfFreedom = n - 1;
  return {
    estimate,
    standardError: standardError * common.unit,
    degreesOfFreedom,
    interval: tInterval(estimate, standardError * common.unit, degreesOfFreedom, options.level),
    samples,
    ci95: scaleInterval(percentileInterval(resampled), common.unit),
  };
}

/**
 * Unpaired: the two slopes' standard errors combined, the Welch–Satterthwaite degrees of freedom rounded down
 * (never above either slice's, a slightly wider interval, and few distinct t quantiles to cache), and each slice's
 * examples resampled on its own.
 */
function unpairedDifference(
  task: SliceContrast,
  other: SliceContrast,
  options: SlopeDifferenceOptions,
): TestedDifference {
  const common = onCommonScale(task, other);
  const taskError = meanAndError(common.task).standardError;
  const otherError = meanAndError(common.other).standardError;
  const variance = taskError ** 2 + otherError ** 2;
  const welch = variance ** 2 / (taskError ** 4 / (task.examples - 1) + otherError ** 4 / (other.examples - 1));
  // Both errors 0 (every model equal in both slices): no spread to weigh, and the interval is a point anyway.
  const degreesOfFreedom = Number.isFinite(welch) ? Math.max(1, Math.floor(welch)) : task.examples + other.examples - 2;
  const standardError = Math.sqrt(variance) * common.unit;
  const estimate = task.slope - other.slope;
  const samples = bootstrapSize(options.bootstrapSamples, task.examples + other.examples, 1);
  const taskMeans = bootstrapMeans(common.task, 1, samples, options.seed);
  const otherMeans = bootstrapMeans(common.other, 1, samples, (options.seed ^ OTHER_STREAM) | 0);
  const resampled = taskMeans.map((value, b) => value - at(otherMeans, b));
  return {
    estimate,
    standardError,
    degreesOfFreedom,
    interval: tInterval(estimate, standardError, degreesOfFreedom, options.level),
    samples,
    ci95: scaleInterval(percentileInterval(resampled), common.unit),
  };
}

function scaleInterval([low, high]: Interval, unit: number): Interval {
  return [low * unit, high * unit];
}

type Claim = Pick<SlopeDifference, "claim" | "side" | "taskTrend">;

/**
 * excludes_zero only when the whole test interval lies beyond rounding noise on one side of 0. In performance
 * terms the task's trend is worse when task − other points the bad way: up for a lower-is-better metric.
 */
function claimOf([low, high]: Interval, tolerance: number, metric: SlopeDifference["metric"]): Claim {
  const side = low > tolerance ? "above" : high < -tolerance ? "below" : null;
  if (side === null) return { claim: "includes_zero", side: null, taskTrend: null };
  if (metric.orientation === "direction_only") return { claim: "excludes_zero", side, taskTrend: null };
  const badWay = metric.direction === "lower_is_better" ? "above" : "below";
  return { claim: "excludes_zero", side, taskTrend: side === badWay ? "worse" : "better" };
}

const fmt = (value: number): string => (value === 0 ? "0" : value.toPrecision(3));
const range = ([low, high]: Interval): string => `${fmt(low)} to ${fmt(high)}`;
const percent = (share: number): string => `${Number((share * 100).toPrecision(3))}%`;

/** The claim in words, with the numbers behind it and their unit. */
function statement(
  claim: Claim,
  tested: TestedDifference,
  options: SlopeDifferenceOptions,
  input: SlopeDifferenceInput,
  per: SlopeUnit,
): string {
  const others = `${otherName(input.other)}'s`;
  const slope = `the task − ${input.other.role} slope on ${input.metric.name} is ${fmt(tested.estimate)} per ${per}`;
  const test = `${percent(options.level)} t interval ${range(tested.interval)}`;
  const bootstrap = `${options.pairing} bootstrap 95% interval ${range(tested.ci95)}`;
  const size = `by ${fmt(Math.abs(tested.estimate))} per ${per} on ${input.metric.name}`;
  if (claim.claim === "includes_zero") {
    return `No difference shown between the task's trend and ${others}: ${slope}, and its ${test} includes 0 (${bootstrap}).`;
  }
  if (claim.taskTrend === null) {
    const higher = claim.side === "above" ? "higher" : "lower";
    return `The task's slope is ${higher} than ${others} ${size}: ${slope}, ${test} (${bootstrap}).`;
  }
  return `The task's trend is ${claim.taskTrend} than ${others} ${size}: ${slope}, ${test} (${bootstrap}).`;
}
