/**
 * The two-lines test for U-shaped and inverted-U trends (Simonsohn's "two lines", on paired contrasts). Pure.
 *
 * Every interior model with a spread of scales on both sides is a candidate turning point. A shape is significant
 * when at some candidate both arms exclude 0 in its direction, each one-sided at the shape's level divided by the
 * number of candidates, so choosing the turning point from the data is paid for (Bonferroni).
 */
import { at } from "./checked";
import { estimateContrast, hasSpread, slopeContrast, type ContrastEstimate } from "./contrasts";

export interface ArmEstimate extends ContrastEstimate {
  /** Decades of scale the arm covers. */
  span: number;
}

export interface ShapeTest {
  /** Index of the reported turning model: the candidate with the strongest evidence for the shape. */
  turning: number;
  left: ArmEstimate;
  right: ArmEstimate;
  significant: boolean;
}

export interface ShapeTests {
  candidates: number;
  /** One-sided level of each arm's test. */
  armLevel: number;
  critical: number;
  uShaped: ShapeTest;
  invertedU: ShapeTest;
}

export interface ShapeInput {
  values: Float64Array;
  count: number;
  means: Float64Array;
  z: readonly number[];
  magnitude: number;
  /** +1 when higher values are better, -1 when lower are. */
  sign: number;
  /** The critical t for a one-sided test at `level`. */
  critical: (level: number) => number;
}

/** Null with fewer than 3 distinct scales: no interior model has a spread on both sides. */
export function shapeTests(input: ShapeInput, shapeLevel: number): ShapeTests | null {
  const { values, count, means, z, magnitude } = input;
  const turningPoints: number[] = [];
  for (let t = 1; t < count - 1; t++) if (hasSpread(z, 0, t) && hasSpread(z, t, count - 1)) turningPoints.push(t);
  if (turningPoints.length === 0) return null;
  const armLevel = shapeLevel / turningPoints.length;
  const critical = input.critical(armLevel);
  const arm = (from: number, to: number): ArmEstimate => ({
    ...estimateContrast(values, count, means, slopeContrast(z, from, to), magnitude),
    span: at(z, to) - at(z, from),
  });
  const candidates = turningPoints.map((turning) => ({
    turning,
    left: arm(0, turning),
    right: arm(turning, count - 1),
  }));
  // A slope's t statistic in performance terms: positive when performance improves; 0 within rounding.
  const statistic = (slope: ContrastEstimate): number => {
    const value = input.sign * slope.estimate;
    if (Math.abs(value) <= slope.tolerance) return 0;
    return slope.standardError === 0 ? Math.sign(value) * Infinity : value / slope.standardError;
  };
  const pick = (worseFirst: boolean): ShapeTest => {
    let best = at(candidates, 0);
    let bestEvidence = -Infinity;
    for (const candidate of candidates) {
      const left = statistic(candidate.left);
      const right = statistic(candidate.right);
      const evidence = worseFirst ? Math.min(-left, right) : Math.min(left, -right);
      if (evidence > bestEvidence) [best, bestEvidence] = [candidate, evidence];
    }
    return { ...best, significant: bestEvidence > critical };
  };
  return { candidates: turningPoints.length, armLevel, critical, uShaped: pick(true), invertedU: pick(false) };
}
