import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyse, type FamilyResults } from "../../src/analysis/analyse";
import { METRICS } from "../../src/analysis/metrics";
import { parseResultsCsv } from "../../src/analysis/results-csv";
import { DEFAULT_OPTIONS, analyseFamily, slopePer, type FamilyAnalysis } from "../../src/analysis/statistics";
import { defined } from "../defined";
import { ROOT, seededDraws } from "./helpers";

const REAL_RESULTS = join(ROOT, "..", "shared", "samples", "real", "results", "lambada-1k_gpt3");
const GPT3 = [
  ["ada", 350e6],
  ["babbage", 1.3e9],
  ["curie", 6.7e9],
  ["davinci", 175e9],
] as const;
const options = { ...DEFAULT_OPTIONS, bootstrapSamples: 2000 };

function lambadaFamily(): FamilyResults {
  return {
    family: "gpt3",
    axis: "params",
    models: GPT3.map(([id, scale]) => {
      const parsed = parseResultsCsv(readFileSync(join(REAL_RESULTS, `${id}.csv`), "utf8"), "sequence_prob", 1000);
      if (!parsed.ok) throw new Error(parsed.problems.join("; "));
      return { id, scale, results: parsed.results };
    }),
  };
}

describe("real GPT-3 results on lambada-1k", () => {
  const analysis = analyse("sequence_prob", METRICS.loss, [lambadaFamily()], options);
  const family = defined(analysis.families[0], "the gpt3 family's analysis");

  it("comes out standard on loss", () => {
    expect(family.verdict).toBe("standard");
    expect(family.slope.ci95[1]).toBeLessThan(0);
    expect(analysis.summary.text).toBe("standard in 1 of 1 family");
  });

  it("reports the means and the slope a direct computation gives (within 1e-9)", () => {
    const direct = GPT3.map(([id]) => {
      const losses = readFileSync(join(REAL_RESULTS, `${id}.csv`), "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => Number(line.split(",")[1]));
      return losses.reduce((a, b) => a + b, 0) / losses.length;
    });
    family.models.forEach((model, m) => {
      expect(model.mean).toBeCloseTo(defined(direct[m], `${GPT3[m]?.[0]}'s direct mean`), 9);
    });
    const z = GPT3.map(([, scale]) => Math.log10(scale));
    const zMean = z.reduce((a, b) => a + b, 0) / 4;
    const yMean = direct.reduce((a, b) => a + b, 0) / 4;
    const slope =
      z.reduce((s, zi, i) => s + (zi - zMean) * (defined(direct[i], `model ${i}'s direct mean`) - yMean), 0) /
      z.reduce((s, zi) => s + (zi - zMean) ** 2, 0);
    expect(Math.abs(slopePer(family.slope).value - slope)).toBeLessThan(1e-12);
    expect(family.endpointContrast.value).toBeCloseTo(
      defined(direct[3], "davinci's direct mean") - defined(direct[0], "ada's direct mean"),
      9,
    );
    expect(family.kendallTau).toBe(1);
  });

  it("keeps the slope the first analysis code gave, to 1e-12", () => {
    expect(slopePer(family.slope).unit).toBe("decade");
    expect(Math.abs(slopePer(family.slope).value - -0.61778155970305648)).toBeLessThan(1e-12);
  });

  it("is identical for the same seed and differs in its intervals for another", () => {
    expect(analyse("sequence_prob", METRICS.loss, [lambadaFamily()], options)).toEqual(analysis);
    const other = analyse("sequence_prob", METRICS.loss, [lambadaFamily()], { ...options, seed: 1 });
    const otherFamily = defined(other.families[0], "the gpt3 family's analysis with seed 1");
    expect(otherFamily.models.map((m) => m.mean)).toEqual(family.models.map((m) => m.mean));
    expect(otherFamily.slope.ci95).not.toEqual(family.slope.ci95);
  });
});

/** Synthetic per-example values with known true means: a shared per-example difficulty plus model noise. */
function synthetic(trueMeans: number[], examples: number, noise: number, seed = 7): Float64Array[] {
  const { gaussian } = seededDraws(seed);
  const difficulty = Array.from({ length: examples }, () => gaussian());
  return trueMeans.map((mean) => Float64Array.from(difficulty, (d) => mean + d * noise + gaussian() * noise));
}

function verdictOf(
  trueMeans: number[],
  examples: number,
  noise: number,
  direction: "lower_is_better" | "higher_is_better" = "lower_is_better",
): FamilyAnalysis {
  const values = synthetic(trueMeans, examples, noise);
  return analyseFamily(
    {
      family: "synthetic",
      axis: "params",
      models: values.map((v, m) => ({ id: `m${m}`, scale: 10 ** (8 + m * 0.75), values: v })),
    },
    { ...options, direction },
  );
}

describe("results files", () => {
  it("reads files whose rows mix CRLF and LF endings (a row appended by hand)", () => {
    const parsed = parseResultsCsv("index,loss\r\n0,1.5\r\n1,2.5\n2,3.5\n", "sequence_prob", 3);
    expect(parsed.ok && Array.from(defined(parsed.results.columns.loss, "a loss column"))).toEqual([1.5, 2.5, 3.5]);
  });
});

describe("verdicts on synthetic data with known truth", () => {
  it.each([
    ["inverse: loss rises with scale", [1.0, 1.2, 1.4, 1.6], 1000, 0.5, "lower_is_better", "inverse"],
    ["standard: loss falls with scale", [1.6, 1.4, 1.2, 1.0], 1000, 0.5, "lower_is_better", "standard"],
    ["standard: accuracy rises with scale", [0.5, 0.6, 0.7, 0.8], 1000, 0.3, "higher_is_better", "standard"],
    ["u_shaped: loss rises, then falls", [1.0, 1.4, 1.8, 1.4, 1.0], 1000, 0.5, "lower_is_better", "u_shaped"],
    ["inverted_u: loss falls, then rises", [1.8, 1.4, 1.0, 1.4, 1.8], 1000, 0.5, "lower_is_better", "inverted_u"],
    ["flat: no change, many examples", [1.0, 1.0, 1.0, 1.0], 5000, 0.5, "lower_is_better", "flat"],
    ["inconclusive: a small, noisy task", [1.0, 1.1, 1.0, 1.1], 30, 1.0, "lower_is_better", "inconclusive"],
  ] as const)("%s", (_label, means, examples, noise, direction, expected) => {
    const analysis = verdictOf([...means], examples, noise, direction);
    expect(analysis.verdict, analysis.reason).toBe(expected);
  });

  it("names the turning model of a U and gives both arms' intervals", () => {
    const analysis = verdictOf([1.0, 1.4, 1.8, 1.4, 1.0], 1000, 0.5);
    const { uShaped } = defined(analysis.twoLines, "a two-line fit");
    expect(uShaped).toMatchObject({ turningModel: "m2", significant: true });
    expect(uShaped.left.interval[0]).toBeGreaterThan(0);
    expect(uShaped.right.interval[1]).toBeLessThan(0);
  });

  it("uses only examples every model has, and says how many", () => {
    const values = synthetic([1, 1.2], 100, 0.5);
    const a = defined(values[0], "model a's values");
    const b = defined(values[1], "model b's values");
    a[3] = NaN;
    b[50] = NaN;
    const analysis = analyseFamily(
      {
        family: "f",
        axis: "params",
        models: [
          { id: "a", scale: 1e8, values: a },
          { id: "b", scale: 1e9, values: b },
        ],
      },
      { ...options, direction: "lower_is_better" },
    );
    expect(analysis.sharedExamples).toBe(98);
    expect(analysis.models.map((m) => m.examples)).toEqual([99, 99]);
    expect(analysis.twoLines).toBeNull();
  });
});
