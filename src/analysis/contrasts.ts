/**
 * Linear contrasts of model means over paired examples. Pure.
 *
 * Every contrast is computed on differences from a reference model inside its own support, so models that give
 * the same value on every example contribute exactly 0 (not the rounding residue of weights that sum to about 0),
 * and its standard error comes from the per-example contrast values: a paired comparison, in which what the
 * models share (hard examples are hard for all) cancels out.
 */

import { at } from "./checked";

export type Interval = [number, number];

export interface Contrast {
  /** Weights over the models, zero outside the support. */
  weights: Float64Array;
  /** A model inside the support whose values are subtracted first. */
  reference: number;
}

export interface ContrastEstimate {
  estimate: number;
  standardError: number;
  /** Below this, in the contrast's units, a value is rounding noise: the metric's scale times 1e-9. */
  tolerance: number;
}

/** Relative size of rounding noise in the inputs: anything smaller counts as exactly equal. */
export const RELATIVE_TOLERANCE = 1e-9;

/** Weights w over models from..to (inclusive) such that sum(w * y) is the least-squares slope of y on z. */
export function slopeContrast(z: readonly number[], from: number, to: number): Contrast {
  const weights = new Float64Array(z.length);
  const arm = z.slice(from, to + 1);
  let mean = 0;
  for (const value of arm) mean += value;
  mean /= to - from + 1;
  let sumOfSquares = 0;
  for (const value of arm) sumOfSquares += (value - mean) ** 2;
  if (sumOfSquares > 0) for (const [k, value] of arm.entries()) weights[from + k] = (value - mean) / sumOfSquares;
  return { weights, reference: from };
}

/** The largest model's mean minus the smallest's. */
export function endpointContrast(models: number): Contrast {
  const weights = new Float64Array(models);
  weights[0] = -1;
  weights[models - 1] = 1;
  return { weights, reference: 0 };
}

/** Whether an arm's models span at least two scales (a slope over one scale is undefined). */
export function hasSpread(z: readonly number[], from: number, to: number): boolean {
  return z[from] !== z[to];
}

export function columnMeans(values: Float64Array, count: number): Float64Array {
  const examples = values.length / count;
  const sums = new Float64Array(count);
  for (let i = 0; i < examples; i++) {
    // biome-ignore lint/style/noNonNullAssertion: m < count = sums.length, and i * count + m < values.length.
    for (let m = 0; m < count; m++) sums[m]! += values[i * count + m]!;
  }
  return sums.map((sum) => sum / examples);
}

/** Model m's column of an example-major matrix (values[example * count + model]). */
export function modelColumn(values: Float64Array, count: number, m: number): Float64Array {
  const out = new Float64Array(values.length / count);
  // biome-ignore lint/style/noNonNullAssertion: i * count + m < out.length * count <= values.length, as m < count.
  for (let i = 0; i < out.length; i++) out[i] = values[i * count + m]!;
  return out;
}

export function largestMagnitude(values: Float64Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}

/** The models a contrast weighs, other than its reference, in model order. */
function supportOf({ weights, reference }: Contrast): number[] {
  const support: number[] = [];
  for (const [m, weight] of weights.entries()) if (weight !== 0 && m !== reference) support.push(m);
  return support;
}

/**
 * The contrast's value on each example (row) of an example-major matrix: the per-example values whose mean is the
 * contrast and whose spread gives its paired standard error (estimateContrast), and which a difference between two
 * paired slices subtracts example by example (slope-difference.ts).
 */
export function contrastPerExample(values: Float64Array, count: number, contrast: Contrast): Float64Array {
  const { weights, reference } = contrast;
  const support = supportOf(contrast);
  const perExample = new Float64Array(values.length / count);
  // Subtracting the reference model per example is what makes equal columns give exactly 0.
  for (let i = 0; i < perExample.length; i++) {
    const row = i * count;
    let value = 0;
    // biome-ignore lint/style/noNonNullAssertion: m < count = weights.length, and row + m < (i + 1) * count <= values.length.
    for (const m of support) value += weights[m]! * (values[row + m]! - values[row + reference]!);
    perExample[i] = value;
  }
  return perExample;
}

/** A contrast's estimate (from the model means, so equal columns give exactly 0) and its paired standard error. */
export function estimateContrast(
  values: Float64Array,
  count: number,
  means: Float64Array,
  contrast: Contrast,
  magnitude: number,
): ContrastEstimate {
  const { weights, reference } = contrast;
  const support = supportOf(contrast);
  let absoluteWeight = 0;
  for (const weight of weights) absoluteWeight += Math.abs(weight);
  let estimate = 0;
  for (const m of support) estimate += at(weights, m) * (at(means, m) - at(means, reference));
  const examples = values.length / count;
  const perExample = contrastPerExample(values, count, contrast);
  let sum = 0;
  let squares = 0;
  // biome-ignore lint/style/noNonNullAssertion: i < examples = perExample.length.
  for (let i = 0; i < examples; i++) sum += perExample[i]!;
  const mean = sum / examples;
  // biome-ignore lint/style/noNonNullAssertion: i < examples = perExample.length.
  for (let i = 0; i < examples; i++) squares += (perExample[i]! - mean) ** 2;
  const standardError = examples > 1 ? Math.sqrt(squares / (examples - 1) / examples) : 0;
  return { estimate, standardError, tolerance: RELATIVE_TOLERANCE * absoluteWeight * magnitude };
}

const MULBERRY32_STEP = 0x6d2b79f5;

/** mulberry32's number in [0, 1) for a state already stepped. */
function mulberry32Output(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** mulberry32: fast, seeded, and the same on every platform, so a seed reproduces an analysis exactly. */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + MULBERRY32_STEP) | 0;
    return mulberry32Output(state);
  };
}

/** An example-major matrix (values[example * models + model]) to resample. */
export interface ResampledMatrix {
  values: Float64Array;
  models: number;
}

/**
 * The paired bootstrap: for each resample, the mean of every model over the same drawn examples. Models with equal
 * columns get equal resampled means, bit for bit, because they sum the same draws in the same order.
 */
export function bootstrapMeans(values: Float64Array, models: number, samples: number, seed: number): Float64Array {
  return at(bootstrapMeansTogether([{ values, models }], samples, seed), 0);
}

/**
 * bootstrapMeans for several matrices over the same number of examples (one family's metrics), from one set of
 * draws: the draws depend only on the seed and the number of examples, so each matrix's means are exactly those
 * bootstrapMeans gives it alone, for a third of the cost when three metrics share them.
 */
export function bootstrapMeansTogether(
  matrices: readonly ResampledMatrix[],
  samples: number,
  seed: number,
): Float64Array[] {
  const first = matrices[0];
  if (!first) return [];
  const examples = first.values.length / first.models;
  if (matrices.some(({ values, models }) => values.length !== examples * models))
    throw new RangeError("bootstrapMeansTogether: every matrix must have the same number of examples");
  // Every model's column of every matrix, each contiguous, and where its resampled means go.
  const columns = matrices.flatMap(({ values, models }) =>
    Array.from({ length: models }, (_, m) => modelColumn(values, models, m)),
  );
  const sums = new Float64Array(samples * columns.length);
  const drawn = new Int32Array(examples);
  let state = seed | 0;
  for (let b = 0; b < samples; b++) {
    state = drawExamples(drawn, state);
    sumDrawn(columns, drawn, sums, b * columns.length);
  }
  const means: Float64Array[] = [];
  let offset = 0;
  for (const { models } of matrices) {
    const out = new Float64Array(samples * models);
    for (let b = 0; b < samples; b++)
      for (let m = 0; m < models; m++) out[b * models + m] = at(sums, b * columns.length + offset + m) / examples;
    means.push(out);
    offset += models;
  }
  return means;
}

/**
 * Fills `drawn` with example indices drawn with replacement by mulberry32 from `state`, and returns its state after.
 * The generator is stepped here rather than through its closure, which cost three times as much.
 */
function drawExamples(drawn: Int32Array, state: number): number {
  const examples = drawn.length;
  let next = state;
  for (let i = 0; i < examples; i++) {
    next = (next + MULBERRY32_STEP) | 0;
    drawn[i] = Math.floor(mulberry32Output(next) * examples);
  }
  return next;
}

/**
 * Each column's sum over the drawn examples, into sums[start + column]. Four columns at a time, each summed in draw
 * order in its own local: the same additions in the same order as one column at a time, bit for bit, but four
 * independent chains of additions run at once (about twice as fast as one, three times as fast as summing into
 * memory).
 */
function sumDrawn(columns: readonly Float64Array[], drawn: Int32Array, sums: Float64Array, start: number): void {
  let c = 0;
  for (; c + 4 <= columns.length; c += 4) {
    const [c0, c1, c2, c3] = [at(columns, c), at(columns, c + 1), at(columns, c + 2), at(columns, c + 3)];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < drawn.length; i++) {
      // biome-ignore-start lint/style/noNonNullAssertion: i < drawn.length, and d < examples, each column's length.
      const d = drawn[i]!;
      s0 += c0[d]!;
      s1 += c1[d]!;
      s2 += c2[d]!;
      s3 += c3[d]!;
      // biome-ignore-end lint/style/noNonNullAssertion: end
    }
    sums[start + c] = s0;
    sums[start + c + 1] = s1;
    sums[start + c + 2] = s2;
    sums[start + c + 3] = s3;
  }
  for (; c < columns.length; c++) {
    const column = at(columns, c);
    let sum = 0;
    // biome-ignore lint/style/noNonNullAssertion: i < drawn.length, and drawn[i] < examples, the column's length.
    for (let i = 0; i < drawn.length; i++) sum += column[drawn[i]!]!;
    sums[start + c] = sum;
  }
}

export function percentileInterval(samples: Float64Array, level = 0.95): Interval {
  const sorted = Float64Array.from(samples).sort();
  const quantile = (q: number): number => {
    const position = q * (sorted.length - 1);
    const low = Math.floor(position);
    const below = sorted[low];
    const above = sorted[Math.min(sorted.length - 1, low + 1)];
    // With no resamples (--samples 0) there is nothing to read: the interval is NaN.
    if (below === undefined || above === undefined) return NaN;
    return below + (above - below) * (position - low);
  };
  return [quantile((1 - level) / 2), quantile((1 + level) / 2)];
}

/** A contrast's 95% percentile interval over bootstrap resamples of the model means. */
export function bootstrapInterval(boot: Float64Array, count: number, contrast: Contrast): Interval {
  const samples = new Float64Array(boot.length / count);
  const support = supportOf(contrast);
  const { weights, reference } = contrast;
  for (let b = 0; b < samples.length; b++) {
    let total = 0;
    // biome-ignore lint/style/noNonNullAssertion: m < count = weights.length, and b * count + m < (b + 1) * count <= boot.length.
    for (const m of support) total += weights[m]! * (boot[b * count + m]! - boot[b * count + reference]!);
    samples[b] = total;
  }
  return percentileInterval(samples);
}
