/**
 * The metric's spread over examples, which sets the scale of "a change that matters" (the flat margin). Pure.
 *
 * A standard deviation lets one extreme row (a loss of 1e4 shared by every model) widen the margin until any task
 * looks flat, so each model's spread is 1.4826 × its median absolute deviation (the SD for normal data, and
 * unmoved by a few extreme rows). A metric with at most two values (accuracy) cannot have outliers, and its MAD
 * is 0 whenever most examples agree, so there, and wherever the MAD is 0, the SD is used. Models are pooled as
 * the root mean square of their spreads.
 */
import { modelColumn } from "./contrasts";

const MAD_TO_SD = 1.4826;

export function robustSpread(values: Float64Array, count: number): number {
  let pooled = 0;
  for (let m = 0; m < count; m++) pooled += modelSpread(modelColumn(values, count, m)) ** 2;
  return Math.sqrt(pooled / count);
}

function modelSpread(values: Float64Array): number {
  const sd = standardDeviation(values);
  if (values.length < 3 || atMostTwoValues(values)) return sd;
  const center = median(Float64Array.from(values).sort());
  const deviations = values.map((value) => Math.abs(value - center)).sort();
  const mad = median(deviations);
  return mad > 0 ? MAD_TO_SD * mad : sd;
}

function standardDeviation(values: Float64Array): number {
  if (values.length < 2) return 0;
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

function atMostTwoValues(values: Float64Array): boolean {
  const first = values[0];
  if (first === undefined) return true;
  let second: number | undefined;
  for (const value of values) {
    if (value === first || value === second) continue;
    if (second !== undefined) return false;
    second = value;
  }
  return true;
}

/** The median of sorted values. */
function median(sorted: Float64Array): number {
  const middle = sorted.length >> 1;
  const upper = sorted[middle];
  const lower = sorted.length % 2 === 1 ? upper : sorted[middle - 1];
  if (upper === undefined || lower === undefined) throw new RangeError("the median of no values");
  return sorted.length % 2 === 1 ? upper : (lower + upper) / 2;
}
