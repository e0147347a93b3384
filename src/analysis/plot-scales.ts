/**
 * The numbers behind a plot's axes: value ranges fitted to intervals, whether panels may share one, and round ticks
 * (d3-array's, so small ranges get useful steps) on value axes, log scale axes and linear scale axes. Pure.
 */
import { tickStep, ticks } from "d3-array";

export interface Range {
  low: number;
  high: number;
}

/** Room left above and below the data, as a share of its span, so no bar end sits on the frame. */
const VALUE_PAD = 0.06;

/**
 * Panels share one value axis only when each one's data would still fill this share of the shared range: then
 * they overlap (two ranges each over 60% of their union overlap by at least 20% of it) and none is squashed.
 */
export const SHARE_FILL = 0.6;

/** The finite values' extent, unpadded; null when none is finite (an analysis with no resamples has NaN bars). */
export function dataRange(values: readonly number[]): Range | null {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return null;
  return { low: Math.min(...finite), high: Math.max(...finite) };
}

/** A data range with room above and below; a single value gets a tenth of its size (or 0.5) each side. */
export function padded(range: Range): Range {
  const span = range.high - range.low;
  const pad = span > 0 ? span * VALUE_PAD : Math.abs(range.high) * 0.1 || 0.5;
  return { low: range.low - pad, high: range.high + pad };
}

/** The smallest range holding all of them. */
export function union(ranges: readonly Range[]): Range {
  return { low: Math.min(...ranges.map((r) => r.low)), high: Math.max(...ranges.map((r) => r.high)) };
}

/** Whether panels with these data ranges can be drawn on one value axis and each still be read (SHARE_FILL). */
export function canShareValueAxis(ranges: readonly Range[]): boolean {
  if (ranges.length < 2) return false;
  const whole = union(ranges);
  const span = whole.high - whole.low;
  return span > 0 && ranges.every((range) => range.high - range.low >= SHARE_FILL * span);
}

/** A value axis: round ticks inside the range, and the step they were chosen at (for as many decimals as it needs). */
export function valueTicks(range: Range, count: number): { ticks: number[]; step: number } {
  return { ticks: ticks(range.low, range.high, count), step: Math.abs(tickStep(range.low, range.high, count)) };
}

/** A tick value written with the decimals its step needs: 0.65, 0.7, 0.75 at a step of 0.05; 12, 13 at 1. */
export function formatValueTick(value: number, step: number): string {
  if (value === 0) return "0";
  if (Math.abs(value) >= 1e5 || step < 1e-4) return value.toExponential(Math.max(0, exponentDigits(value, step)));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals);
}

/** Significant digits after the point that an exponential form needs to tell ticks `step` apart. */
function exponentDigits(value: number, step: number): number {
  return Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(step) + 1e-9);
}

/** Room left and right of the models on a scale axis, as a share of their span, with a floor for close scales. */
const SCALE_PAD = 0.06;

/** A log axis's range (in decades, log10 of the scale) around the models' places. */
export function logScaleRange(zs: readonly number[]): Range {
  const low = Math.min(...zs);
  const high = Math.max(...zs);
  const pad = Math.max((high - low) * SCALE_PAD, 0.1);
  return { low: low - pad, high: high + pad };
}

/** A linear axis's range around the scales (RLHF steps from 0): 5% of the span beyond each end. */
export function linearScaleRange(xs: readonly number[]): Range {
  const low = Math.min(...xs);
  const high = Math.max(...xs);
  const pad = (high - low) * 0.05 || 1;
  return { low: low - pad, high: high + pad };
}

/** Round values within a range of a linear axis. */
export function linearTicks(range: Range, count: number): number[] {
  return ticks(range.low, range.high, count);
}

/** Mantissas tried on a log axis, fewest first: decades, then 1-3, 1-2-5, every integer. */
const MANTISSAS = [[1], [1, 3], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]] as const;

/**
 * Ticks on a log axis (range in decades), as scale values: the first set of round mantissas giving at least 60%
 * of `count` ticks (and 2) without passing it; over many decades every k-th decade; over less than a factor of
 * about 2, round values of the scale itself.
 */
export function logTicks(range: Range, count: number): number[] {
  const sets = MANTISSAS.map((mantissas) => roundValuesIn(range, mantissas));
  const fitting = sets.filter((set) => set.length <= count);
  const enough = Math.max(2, Math.ceil(count * 0.6));
  const readable = fitting.find((set) => set.length >= enough) ?? fitting.at(-1);
  // Even whole decades are too many: every k-th.
  if (readable === undefined) return everyKthDecade(range, count);
  if (readable.length >= 2) return readable;
  // Too narrow for round mantissas: round values of the scale, which on so short a span are nearly evenly spaced.
  // d3 computes them as multiples of the step, so at 1e24 they carry float noise (1.1999999999999999e24): round.
  return ticks(10 ** range.low, 10 ** range.high, Math.min(count, 4)).map((value) => Number(value.toPrecision(12)));
}

function roundValuesIn(range: Range, mantissas: readonly number[]): number[] {
  const values: number[] = [];
  for (let decade = Math.floor(range.low); decade <= Math.ceil(range.high); decade++)
    for (const mantissa of mantissas) {
      const z = decade + Math.log10(mantissa);
      if (z >= range.low && z <= range.high) values.push(Number((mantissa * 10 ** decade).toPrecision(12)));
    }
  return values;
}

function everyKthDecade(range: Range, count: number): number[] {
  const decades: number[] = [];
  for (let decade = Math.ceil(range.low); decade <= Math.floor(range.high); decade++) decades.push(decade);
  const stride = Math.ceil(decades.length / count);
  return decades.filter((_, i) => i % stride === 0).map((decade) => 10 ** decade);
}
