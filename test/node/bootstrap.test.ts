import { describe, expect, it } from "vitest";
import { analyse, analyseMetrics, type FamilyResults } from "../../src/analysis/analyse";
import { bootstrapMeans, bootstrapMeansTogether, mulberry32 } from "../../src/analysis/contrasts";
import { METRICS } from "../../src/analysis/metrics";
import { DEFAULT_OPTIONS } from "../../src/analysis/statistics";
import { seededDraws } from "./helpers";

/** The paired bootstrap as first written: every model summed per draw, into memory. The reference for the bits. */
function bootstrapAsFirstWritten(values: Float64Array, models: number, samples: number, seed: number): Float64Array {
  const examples = values.length / models;
  const means = new Float64Array(samples * models);
  const sums = new Float64Array(models);
  const random = mulberry32(seed);
  for (let b = 0; b < samples; b++) {
    sums.fill(0);
    for (let i = 0; i < examples; i++) {
      const base = Math.floor(random() * examples) * models;
      for (let m = 0; m < models; m++) sums[m] = (sums[m] ?? NaN) + (values[base + m] ?? NaN);
    }
    for (const [m, sum] of sums.entries()) means[b * models + m] = sum / examples;
  }
  return means;
}

function matrix(examples: number, models: number, seed: number): Float64Array {
  const { gaussian } = seededDraws(seed);
  return Float64Array.from({ length: examples * models }, () => gaussian() * 1e3);
}

const sameBits = (a: Float64Array, b: Float64Array): boolean =>
  a.length === b.length && a.every((value, i) => Object.is(value, b[i]));

describe("the paired bootstrap", () => {
  it.each([1, 2, 3, 4, 5, 7, 8, 9])("gives the first version's means bit for bit with %i models", (models) => {
    const values = matrix(257, models, models);
    expect(
      sameBits(bootstrapMeans(values, models, 300, 20221010), bootstrapAsFirstWritten(values, models, 300, 20221010)),
    ).toBe(true);
  });

  it("gives each of several matrices exactly the means it gets alone", () => {
    const matrices = [3, 4, 6].map((models, k) => ({ values: matrix(101, models, 10 + k), models }));
    const together = bootstrapMeansTogether(matrices, 200, 7);
    expect(
      together.map((means, k) =>
        sameBits(means, bootstrapMeans(matrices[k]?.values ?? new Float64Array(), matrices[k]?.models ?? 0, 200, 7)),
      ),
    ).toEqual([true, true, true]);
  });

  it("refuses matrices over different numbers of examples", () => {
    const matrices = [
      { values: matrix(50, 2, 1), models: 2 },
      { values: matrix(51, 2, 2), models: 2 },
    ];
    expect(() => bootstrapMeansTogether(matrices, 10, 1)).toThrow(RangeError);
  });
});

/**
 * A family of three models whose loss lacks other examples than its accuracy and one of whose models has no
 * coverage column, and a family too small to fit.
 */
function families(): FamilyResults[] {
  const { uniform } = seededDraws(5);
  const models = [1e8, 1e9, 1e10].map((scale, k) => {
    const loss = Float64Array.from({ length: 400 }, (_, i) => (i % 50 === k ? NaN : uniform() * 3 + k / 10));
    const correct = Float64Array.from({ length: 400 }, () => (uniform() < 0.6 ? 1 : 0));
    const total_logprob = Float64Array.from({ length: 400 }, () => -uniform());
    // The middle model has no total_logprob, so coverage cannot be analysed on the family of three.
    const columns = k === 1 ? { loss, correct } : { loss, correct, total_logprob };
    return { id: `m${k}`, scale, results: { rows: 400, columns } };
  });
  return [
    { family: "three", axis: "params", models },
    { family: "one", axis: "params", models: models.slice(0, 1) },
  ];
}

describe("several metrics analysed together", () => {
  const metrics = [
    { metric: METRICS.loss, role: "headline" as const },
    { metric: METRICS.accuracy, role: "secondary" as const },
    { metric: METRICS.coverage, role: "secondary" as const },
  ];
  const options = { ...DEFAULT_OPTIONS, bootstrapSamples: 500 };

  it("give exactly the analyses each metric gets alone, refusals included", () => {
    const together = analyseMetrics("classification", metrics, families(), options, [2, 2]);
    const alone = metrics.map(({ metric, role }) =>
      analyse("classification", metric, families(), options, [2, 2], role),
    );
    expect(JSON.stringify(together)).toBe(JSON.stringify(alone));
  });

  it("say per metric which families could not be analysed and why", () => {
    const together = analyseMetrics("classification", metrics, families(), options, [2, 2]);
    expect(together.map((analysis) => analysis.unanalysed)).toEqual([
      [{ family: "one", reason: "family one needs at least 2 models to show a trend" }],
      [{ family: "one", reason: "family one needs at least 2 models to show a trend" }],
      [
        { family: "three", reason: 'the results have no "total_logprob" column, which metric "coverage" needs' },
        { family: "one", reason: "family one needs at least 2 models to show a trend" },
      ],
    ]);
  });
});
