import { describe, expect, it } from "vitest";
import {
  CLAIMS,
  FAMILIES,
  SCENARIOS,
  calibrationCells,
  cellTrueMeans,
  generateFamily,
  mulberry32,
  runReplicates,
  summariseCell,
  wilson,
  type Cell,
} from "../../bench/calibrate";
import { defined } from "../defined";

const gpt3 = defined(
  FAMILIES.find((family) => family.models.length === 4),
  "a family of four models",
);
const scenario = (id: string) =>
  defined(
    SCENARIOS.find((s) => s.id === id),
    `scenario ${id}`,
  );

describe("the Wilson score interval", () => {
  // Reference values found independently, as the roots of (p̂ − p)² = z² p(1 − p) / n (scipy brentq).
  it.each([
    [0, 10, 0, 0.2775327999],
    [5, 10, 0.2365930905, 0.7634069095],
    [50, 1000, 0.0381302624, 0.0653138202],
    [75, 1000, 0.060251805, 0.0930009397],
    [10, 10, 0.7224672001, 1],
  ])("%i of %i", (count, trials, low, high) => {
    const [lo, hi] = wilson(count, trials);
    expect(Math.abs(lo - low)).toBeLessThan(1e-6);
    expect(Math.abs(hi - high)).toBeLessThan(1e-6);
  });

  it("refuses impossible counts", () => {
    expect(() => wilson(11, 10)).toThrow(RangeError);
    expect(() => wilson(0, 0)).toThrow(RangeError);
  });
});

describe("the simulated data", () => {
  it("has the scenario's true means, a shared difficulty and each model's own noise", () => {
    const cell: Cell = { scenario: scenario("strong-inverse"), family: gpt3, examples: 20_000 };
    const input = generateFamily(cell, mulberry32(7));
    const columns = input.models.map((model) => model.values);
    const mean = (values: Float64Array): number => values.reduce((a, b) => a + b, 0) / values.length;
    const variance = (values: Float64Array): number => {
      const m = mean(values);
      return values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1);
    };
    cellTrueMeans(cell).forEach((truth, m) => {
      expect(mean(defined(columns[m], `model ${m}'s values`))).toBeCloseTo(truth, 1);
    });
    // Each model: variance 1 + 0.25; a difference between two models: 2 × 0.25 (the difficulty cancels).
    const first = defined(columns[0], "model 0's values");
    const second = defined(columns[1], "model 1's values");
    expect(variance(first)).toBeCloseTo(1.25, 1);
    expect(variance(second.map((value, i) => value - defined(first[i], `model 0's value ${i}`)))).toBeCloseTo(0.5, 1);
  });

  it("gives each model of the accuracy null its stated accuracy, with correlated examples", () => {
    const cell: Cell = { scenario: scenario("null-accuracy"), family: gpt3, examples: 20_000 };
    const input = generateFamily(cell, mulberry32(11));
    for (const model of input.models) {
      expect(model.values.every((value) => value === 0 || value === 1)).toBe(true);
      expect(model.values.reduce((a, b) => a + b, 0) / model.values.length).toBeCloseTo(0.7, 1);
    }
    const a = defined(input.models[0], "model 0").values;
    const b = defined(input.models[1], "model 1").values;
    const agree = a.reduce((sum, value, i) => sum + (value === b[i] ? 1 : 0), 0) / a.length;
    expect(agree).toBeGreaterThan(0.7 * 0.7 + 0.3 * 0.3 + 0.05);
  });

  it("is the same for the same seed, whatever the split of replicates", () => {
    const cell = defined(
      calibrationCells().find((c) => c.scenario.id === "small-inverse" && c.examples === 300 && c.family === gpt3),
      "the small-inverse cell of 300 examples on the four-model family",
    );
    const settings = { seed: 5, bootstrapSamples: 20 };
    const whole = runReplicates(cell, 0, 20, settings);
    const first = runReplicates(cell, 0, 8, settings);
    const rest = runReplicates(cell, 8, 20, settings);
    for (const verdict of Object.keys(whole) as (keyof typeof whole)[])
      expect(first[verdict] + rest[verdict]).toBe(whole[verdict]);
    expect(runReplicates(cell, 0, 20, settings)).toEqual(whole);
  });
});

describe("the verdict's error rate with no true trend (DESIGN.md section 4: at most 5%)", () => {
  it("claims a trend or a shape for at most 7% of null families (upper 95% Wilson bound), loss, n = 300, 4 models", () => {
    const cell: Cell = { scenario: scenario("null-loss"), family: gpt3, examples: 300 };
    const replicates = 2000;
    const summary = summariseCell(cell, runReplicates(cell, 0, replicates, { seed: 20221010, bootstrapSamples: 100 }));
    const claims = CLAIMS.map((verdict) => `${verdict} ${summary.verdicts[verdict].count}`).join(", ");
    const [low, high] = summary.falseClaims.ci95;
    const text = `${summary.falseClaims.count} of ${replicates} false claims (${claims}); 95% CI ${low.toFixed(4)} to ${high.toFixed(4)}`;
    expect(high, text).toBeLessThanOrEqual(0.07);
  });
});
