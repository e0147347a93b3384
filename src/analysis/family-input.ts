/**
 * What a family's results must be before a trend can be fitted to them, and the one order models are taken in.
 * Pure. A refusal is an `AnalysisInputError` whose message says what to change; the CLI exits 2 on it and the
 * results upload answers 422 `invalid_results`.
 */
import type { AnalysisFixed } from "../generated/types";
import { at } from "./checked";
import { fixedLabel } from "./labels";

export interface ModelInput {
  id: string;
  scale: number;
  /** The metric for each example, by example index; NaN where the model has no value (e.g. excluded). */
  values: Float64Array;
}

export type Axis = "params" | "flops" | "rlhf_steps";

/**
 * How models are placed on the axis: at log10(scale), or, for an axis that contains 0 (RLHF steps with the
 * pretrained model, which log10 cannot place), at scale / LINEAR_UNIT.
 */
export type AxisScale = "log10" | "linear";

/**
 * A linear axis is in thousands of RLHF steps, so slopes read as "per 1000 steps" (runs are a few hundred to a few
 * thousand steps) and the flat margin stays the same size per unit as a decade's on a log axis: a change across a
 * typical run, as a decade is a change across part of a size family.
 */
export const LINEAR_UNIT = 1000;

export interface FamilyInput {
  family: string;
  axis: Axis;
  /** Absent: axisScaleOf(axis, the models' scales). A grid family's lines all get their family's. */
  axisScale?: AxisScale;
  /** What a line of a grid family holds fixed (family.ts familyLines); absent for a family that is one line. */
  fixed?: LineFixed;
  models: ModelInput[];
}

/** `{ parameters: 1.3e9 }` for a line along RLHF steps, `{ rlhfSteps: 0 }` for one along size. */
export type LineFixed = AnalysisFixed;

/** Linear only for RLHF steps that include 0: parameters and FLOPs are always positive, and log is the default. */
export function axisScaleOf(axis: Axis, scales: Iterable<number>): AxisScale {
  if (axis !== "rlhf_steps") return "log10";
  for (const scale of scales) if (scale === 0) return "linear";
  return "log10";
}

/** Where the analysis places a model: log10(scale), or scale in thousands of steps on a linear axis. */
export function position(scale: number, axisScale: AxisScale): number {
  return axisScale === "linear" ? scale / LINEAR_UNIT : Math.log10(scale);
}

/** Fewer examples than this cannot support a verdict: a t-based test needs a spread to estimate. */
export const DEFAULT_MIN_SHARED_EXAMPLES = 30;

export class AnalysisInputError extends RangeError {
  override name = "AnalysisInputError";
}

/** Models ordered by scale, ties by id, so a file order never changes an analysis. */
export function orderModels(models: readonly ModelInput[]): ModelInput[] {
  return [...models].sort((a, b) => a.scale - b.scale || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface PreparedFamily {
  models: ModelInput[];
  axisScale: AxisScale;
  /** Examples with a value, per model (in `models` order). */
  examples: number[];
  /** How many examples every model has a value for. */
  shared: number;
  /**
   * Example-major matrix of the shared examples, values[i * models + m], divided by `unit`: a power of two near
   * their largest magnitude, so squares neither overflow nor underflow whatever the metric's units, and equal
   * values stay equal bit for bit (dividing by a power of two is exact).
   */
  values: Float64Array;
  unit: number;
  warnings: string[];
}

/** Checks a family's results and gathers the examples every model shares; throws AnalysisInputError. */
export function prepareFamily(input: FamilyInput, minSharedExamples: number): PreparedFamily {
  // A line of a grid family is named by what it holds fixed, so a refusal says which line it is.
  const name = input.fixed ? `${input.family} (${fixedLabel(input.fixed)})` : input.family;
  if (input.models.length < 2) throw new AnalysisInputError(`family ${name} needs at least 2 models to show a trend`);
  const axisScale =
    input.axisScale ??
    axisScaleOf(
      input.axis,
      input.models.map((model) => model.scale),
    );
  const seen = new Set<string>();
  for (const model of input.models) {
    if (seen.has(model.id)) {
      throw new AnalysisInputError(
        `family ${name}: model "${model.id}" is given twice (the same results file twice, or two files with one name)`,
      );
    }
    seen.add(model.id);
    if (axisScale === "linear" && !(model.scale >= 0 && Number.isFinite(model.scale))) {
      throw new AnalysisInputError(
        `family ${name}: model "${model.id}" has ${model.scale} RLHF steps; steps must be 0 or more`,
      );
    }
    if (axisScale === "log10" && !(model.scale > 0 && Number.isFinite(model.scale))) {
      throw new AnalysisInputError(
        `family ${name}: model "${model.id}" has scale ${model.scale}; scales must be positive numbers`,
      );
    }
  }
  const models = orderModels(input.models);
  const smallest = at(models, 0).scale;
  if (smallest === at(models, models.length - 1).scale) {
    throw new AnalysisInputError(
      `family ${name}: every model has the same scale (${smallest}); a trend needs at least 2 different scales`,
    );
  }
  const count = models.length;
  const exampleCount = Math.max(...models.map((model) => model.values.length));
  const shared: number[] = [];
  for (let i = 0; i < exampleCount; i++) if (models.every((model) => Number.isFinite(model.values[i]))) shared.push(i);
  if (shared.length < minSharedExamples) {
    throw new AnalysisInputError(
      `family ${name}: only ${shared.length} example${shared.length === 1 ? " has" : "s have"} a value for every model; a verdict needs at least ${minSharedExamples}`,
    );
  }
  let largest = 0;
  for (const model of models) {
    // biome-ignore lint/style/noNonNullAssertion: every shared index is one where each model has a finite value.
    for (const i of shared) largest = Math.max(largest, Math.abs(model.values[i]!));
  }
  const unit = largest > 0 ? 2 ** Math.round(Math.log2(largest)) : 1;
  const values = new Float64Array(shared.length * count);
  for (const [m, { values: column }] of models.entries()) {
    // biome-ignore lint/style/noNonNullAssertion: i < shared.length, and every shared index has a value in every column.
    for (let i = 0; i < shared.length; i++) values[i * count + m] = column[shared[i]!]! / unit;
  }
  const examples = models.map((model) =>
    model.values.reduce((total, value) => total + (Number.isFinite(value) ? 1 : 0), 0),
  );
  const warnings: string[] = [];
  models.forEach((model, m) => {
    const has = at(examples, m);
    if (has > shared.length) {
      warnings.push(`${model.id} has ${has} examples but only the ${shared.length} every model shares are compared`);
    }
  });
  return { models, axisScale, examples, shared: shared.length, values, unit, warnings };
}
