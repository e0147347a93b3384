import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { familyAxes, familyLines, type FamilyDefinition } from "../../src/analysis/family";
import {
  AnalysisInputError,
  DEFAULT_OPTIONS,
  analyseFamily,
  slopePer,
  type Direction,
  type FamilyAnalysis,
  type ModelInput,
} from "../../src/analysis/statistics";
import { ROOT, seededDraws } from "./helpers";

const options = { ...DEFAULT_OPTIONS, bootstrapSamples: 1000 };

function lossColumn(examples: number, seed: number): Float64Array {
  const { gaussian } = seededDraws(seed);
  return Float64Array.from({ length: examples }, () => Math.exp(gaussian()));
}

function familyOf(models: ModelInput[], direction: Direction = "lower_is_better"): FamilyAnalysis {
  return analyseFamily({ family: "f", axis: "params", models }, { ...options, direction });
}

const FAMILIES_DIR = join(ROOT, "fixtures", "families");
const builtIn: FamilyDefinition[] = readdirSync(FAMILIES_DIR).map(
  (file) => JSON.parse(readFileSync(join(FAMILIES_DIR, file), "utf8")) as FamilyDefinition,
);

describe("identical results give exactly no change", () => {
  const shared = lossColumn(500, 11);

  it.each(builtIn.map((family) => [family.name, family] as const))(
    "%s with the same losses for every model is flat on every line",
    (_name, family) => {
      // A family of sizes x RLHF steps is analysed along both axes, one line per value held fixed.
      const results = new Map(family.models.map((model) => [model.id, shared]));
      const verdicts = familyAxes(family).flatMap((axis) => {
        const expanded = familyLines(family, results, axis);
        if (!expanded.ok) throw new Error(expanded.message);
        return expanded.lines.map((line) => {
          const models = line.models.map(({ id, scale, results: values }) => ({ id, scale, values }));
          const analysis = analyseFamily({ ...line, models }, { ...options, direction: "lower_is_better" });
          return analysis.verdict;
        });
      });
      expect(new Set(verdicts)).toEqual(new Set(["flat"]));
    },
  );

  describe("on four models with the same losses", () => {
    const analysis = familyOf(["a", "b", "c", "d"].map((id, m) => ({ id, scale: 10 ** (8 + m), values: shared })));

    it("gives a slope of exactly 0, with zero-width intervals", () => {
      expect(slopePer(analysis.slope)).toEqual({ value: 0, unit: "decade" });
      expect(analysis.slope.ci95).toEqual([0, 0]);
      expect(analysis.slope.test.interval).toEqual([0, 0]);
    });

    it("gives an endpoint contrast of exactly 0, with a zero-width interval", () => {
      expect(analysis.endpointContrast).toEqual({ value: 0, standardError: 0, ci95: [0, 0] });
    });

    it("gives the two-line arms zero-width intervals", () => {
      expect(analysis.twoLines?.uShaped.left.interval).toEqual([0, 0]);
      expect(analysis.twoLines?.invertedU.right.interval).toEqual([0, 0]);
    });
  });

  it("gives Kendall's tau 0 when every mean ties", () => {
    const analysis = familyOf(["a", "b", "c", "d"].map((id, m) => ({ id, scale: 10 ** (8 + m), values: shared })));
    expect(analysis.kendallTau).toBe(0);
  });

  it("says so in the reason", () => {
    const analysis = familyOf(["a", "b", "c"].map((id, m) => ({ id, scale: 10 ** (8 + m), values: shared })));
    expect(analysis.reason).toBe("Every model gives the same value on every shared example: no change with scale.");
  });

  it("is flat for a constant metric (accuracy 1.0 everywhere)", () => {
    const ones = new Float64Array(300).fill(1);
    const analysis = familyOf(
      ["a", "b", "c", "d"].map((id, m) => ({ id, scale: 10 ** (8 + m), values: ones })),
      "higher_is_better",
    );
    expect(analysis.verdict).toBe("flat");
  });

  it("treats differences at rounding level (1e-15 relative) as none", () => {
    const nudged = shared.map((value, i) => (i % 2 === 0 ? value * (1 + 1e-15) : value));
    const analysis = familyOf([
      { id: "a", scale: 1e8, values: shared },
      { id: "b", scale: 1e9, values: nudged },
      { id: "c", scale: 1e10, values: shared },
    ]);
    expect(analysis.verdict).toBe("flat");
  });
});

describe("partly identical models", () => {
  // GPT-2's three smaller sizes identical; gpt2-xl right on 150 more of 1,000 examples.
  const { uniform } = seededDraws(5);
  const small = Float64Array.from({ length: 1000 }, () => (uniform() < 0.5 ? 1 : 0));
  let flipped = 0;
  const xl = small.map((value) => {
    if (value !== 0 || flipped >= 150) return value;
    flipped++;
    return 1;
  });
  const analysis = familyOf(
    [
      { id: "gpt2", scale: 124e6, values: small },
      { id: "gpt2-medium", scale: 355e6, values: small },
      { id: "gpt2-large", scale: 774e6, values: small },
      { id: "gpt2-xl", scale: 1.5e9, values: xl },
    ],
    "higher_is_better",
  );

  it("are standard on accuracy when only the largest is better", () => {
    expect(analysis.verdict, analysis.reason).toBe("standard");
  });

  it("give the identical models' arm exactly 0", () => {
    expect(analysis.twoLines?.uShaped.turningModel).toBe("gpt2-medium");
    expect(analysis.twoLines?.uShaped.left).toEqual({ slope: 0, standardError: 0, interval: [0, 0] });
  });

  it("rank the tied means as ties in Kendall's tau", () => {
    // 3 of 6 pairs are concordant (each smaller model with gpt2-xl), 3 tied in performance: tau-b = 3 / sqrt(6 * 3).
    expect(analysis.kendallTau).toBeCloseTo(3 / Math.sqrt(18), 12);
  });
});

describe("inputs that cannot support a verdict", () => {
  const column = lossColumn(300, 3);

  it("refuses fewer shared examples than the minimum, and says how many", () => {
    const tiny = lossColumn(2, 4);
    expect(() =>
      familyOf([
        { id: "a", scale: 1e8, values: tiny },
        { id: "b", scale: 1e9, values: tiny },
      ]),
    ).toThrow(
      new AnalysisInputError("family f: only 2 examples have a value for every model; a verdict needs at least 30"),
    );
  });

  it("refuses a family whose models all have the same scale", () => {
    expect(() =>
      familyOf([
        { id: "a", scale: 1e9, values: column },
        { id: "b", scale: 1e9, values: column },
      ]),
    ).toThrow(
      new AnalysisInputError(
        "family f: every model has the same scale (1000000000); a trend needs at least 2 different scales",
      ),
    );
  });

  it("refuses the same model twice", () => {
    expect(() =>
      familyOf([
        { id: "a", scale: 1e8, values: column },
        { id: "a", scale: 1e9, values: column },
      ]),
    ).toThrow(
      new AnalysisInputError(
        'family f: model "a" is given twice (the same results file twice, or two files with one name)',
      ),
    );
  });

  it("orders tied scales by model id, whatever the input order", () => {
    const models = ["d", "b", "c", "a"].map((id, m) => ({
      id,
      scale: m < 2 ? 1e8 : 1e9,
      values: lossColumn(300, 20 + m),
    }));
    const forward = familyOf(models);
    const backward = familyOf([...models].reverse());
    expect(forward.models.map((model) => model.id)).toEqual(["b", "d", "a", "c"]);
    expect(backward).toEqual(forward);
  });

  it("warns when models share fewer examples than each has", () => {
    const a = lossColumn(100, 30);
    const b = lossColumn(100, 31);
    b[7] = NaN;
    const analysis = familyOf([
      { id: "a", scale: 1e8, values: a },
      { id: "b", scale: 1e9, values: b },
    ]);
    expect(analysis.warnings).toEqual(["a has 100 examples but only the 99 every model shares are compared"]);
  });
});

describe("the flat margin", () => {
  // A small noisy task: the data cannot tell.
  const base = lossColumn(60, 40);
  const noisy = (seed: number, shift: number): Float64Array => {
    const { gaussian } = seededDraws(seed);
    return base.map((value) => value + shift + gaussian());
  };
  const models = [0, 0.1, 0, 0.1].map((shift, m) => ({
    id: `m${m}`,
    scale: 10 ** (8 + m),
    values: noisy(50 + m, shift),
  }));

  it("leaves a small noisy task inconclusive", () => {
    expect(familyOf(models).verdict).toBe("inconclusive");
  });

  it("is not widened into 'flat' by one extreme row shared by every model", () => {
    const withOutlier = models.map((model) => ({ ...model, values: Float64Array.from([...model.values, 1e4]) }));
    const analysis = familyOf(withOutlier);
    expect(analysis.verdict, analysis.reason).toBe("inconclusive");
  });

  it("uses the SD for a two-valued metric such as accuracy", () => {
    const { uniform } = seededDraws(9);
    const correct = Float64Array.from({ length: 400 }, () => (uniform() < 0.8 ? 1 : 0));
    const analysis = familyOf(
      ["a", "b"].map((id, m) => ({ id, scale: 10 ** (8 + m), values: correct })),
      "higher_is_better",
    );
    const mean = correct.reduce((sum, value) => sum + value, 0) / correct.length;
    const sd = Math.sqrt(correct.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (correct.length - 1));
    expect(analysis.spread).toBeCloseTo(sd, 12);
  });
});

describe("what a result can show", () => {
  const { gaussian } = seededDraws(70);
  const difficulty = Float64Array.from({ length: 400 }, () => gaussian());
  const models = [0, 1, 2, 3].map((m) => ({
    id: `m${m}`,
    scale: 10 ** (8 + m),
    values: difficulty.map((d) => 2 + d + 0.5 * gaussian()),
  }));
  const analysis = familyOf(models);

  it("reports the slope detectable at 80% power from the paired standard error", () => {
    // (t at 1 - 0.03/2 with 399 df + z at 0.8) x SE.
    expect(analysis.power.detectableSlope / analysis.slope.standardError).toBeCloseTo(2.1779 + 0.8416, 3);
  });

  it("reports how many examples would detect the margin", () => {
    expect(analysis.power.examplesForMargin).toBe(
      Math.ceil(400 * (analysis.power.detectableSlope / analysis.flatMargin) ** 2),
    );
  });

  it("says both in a flat or inconclusive verdict's reason", () => {
    expect(["flat", "inconclusive"]).toContain(analysis.verdict);
    expect(analysis.reason).toContain(
      `could detect a change of ${analysis.power.detectableSlope.toPrecision(3)} per decade with 80% power`,
    );
  });
});

describe("the metric's units", () => {
  const { gaussian } = seededDraws(80);
  const difficulty = Float64Array.from({ length: 300 }, () => gaussian());
  const base = [0, 1, 2, 3].map((m) => ({
    id: `m${m}`,
    scale: 10 ** (8 + m),
    values: difficulty.map((d) => 3 + d + 0.5 * gaussian()),
  }));
  const scaled = (factor: number) =>
    familyOf(base.map((model) => ({ ...model, values: model.values.map((value) => value * factor) })));
  const reference = scaled(1);

  it.each([1e-170, 1e-160, 1e155, 1e300])("do not change the verdict (values times %s)", (factor) => {
    expect(scaled(factor).verdict).toBe(reference.verdict);
  });

  it("scale every reported number with the values, and keep them finite", () => {
    const big = scaled(2 ** 500);
    expect(slopePer(big.slope).value).toBe(slopePer(reference.slope).value * 2 ** 500);
    expect(big.power.detectableSlope).toBe(reference.power.detectableSlope * 2 ** 500);
    expect(Number.isFinite(scaled(1e300).slope.standardError)).toBe(true);
  });
});

describe("an inconclusive verdict's reason", () => {
  const { gaussian } = seededDraws(90);
  const difficulty = Float64Array.from({ length: 300 }, () => gaussian());
  const analysis = familyOf(
    [0, 1, 2, 3].map((m) => ({
      id: `m${m}`,
      scale: 10 ** (8 + m),
      values: difficulty.map((d) => 3 + d + 0.5 * gaussian()),
    })),
  );

  it("is inconclusive on this null family of 300 examples", () => {
    expect(analysis.verdict).toBe("inconclusive");
  });

  it("names each test that kept it from being flat, with its interval and margin", () => {
    expect(analysis.reason).toMatch(
      /no change larger than the margin is shown either: the arm (left|right) of m[12]'s 90% interval \(.+\) is not within ±/,
    );
  });

  it("gives the examples that would show a family with no change to be flat, and only if more than it has", () => {
    expect(analysis.power.examplesForFlat).toBeGreaterThan(300);
    expect(analysis.reason).toContain(
      `about ${analysis.power.examplesForFlat} would show a family with no change to be flat`,
    );
  });
});
