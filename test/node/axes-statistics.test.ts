import { describe, expect, it } from "vitest";
import { analyse, analyseMetrics, type FamilyResults } from "../../src/analysis/analyse";
import { familyLines, type FamilyDefinition } from "../../src/analysis/family";
import { METRICS } from "../../src/analysis/metrics";
import type { ModelResults } from "../../src/analysis/results-csv";
import { AnalysisInputError, analyseFamily, slopePer } from "../../src/analysis/statistics";
import { validateAnalysis } from "../../src/generated/validators";
import { defined } from "../defined";

const options = { seed: 7, bootstrapSamples: 500, equivalenceMargin: 0.05, minSharedExamples: 30 };
const EXAMPLES = 64;

/**
 * Loss exactly linear in RLHF steps: example i's difficulty (i mod 8) / 8, plus 0.25 nats per 1000 steps, plus
 * ±1/16 alternating over examples (so each model's noise sums to 0 over the 64 examples). Every value is a
 * multiple of 1/16, so each model's mean is exact: 7/16 + 0.25 × steps / 1000.
 */
function linearInSteps(steps: number): ModelResults {
  const loss = Float64Array.from(
    { length: EXAMPLES },
    (_, i) => (i % 8) / 8 + (0.25 * steps) / 1000 + ((i + steps / 500) % 2 === 0 ? 1 : -1) / 16,
  );
  return { rows: EXAMPLES, columns: { loss } };
}

const STEPS = [0, 500, 1000, 2000];
const line = (family = "tuned"): FamilyResults => ({
  family,
  axis: "rlhf_steps",
  models: STEPS.map((steps) => ({ id: `m-${steps}`, scale: steps, results: linearInSteps(steps) })),
});

describe("a line along RLHF steps with a pretrained (0-step) model", () => {
  const analysis = analyse("classification", METRICS.loss, [line()], options);
  const family = defined(analysis.families[0], "the line's analysis");

  it("is analysed on a linear axis, in thousands of steps", () => {
    expect(family.axisScale).toBe("linear");
    expect(family.models.map((model) => [model.scale, "log10Scale" in model])).toEqual([
      [0, false],
      [500, false],
      [1000, false],
      [2000, false],
    ]);
  });

  it("gives each model its exact mean", () => {
    expect(family.models.map((model) => model.mean)).toEqual([7 / 16, 7 / 16 + 0.125, 7 / 16 + 0.25, 7 / 16 + 0.5]);
  });

  it("gives the slope per 1000 RLHF steps, and no slope per decade", () => {
    // Least squares on means 7/16 + 0.25 z at z = 0, 0.5, 1, 2 (thousands of steps): slope 0.25 per 1000 steps.
    expect(family.slope).not.toHaveProperty("perDecade");
    expect("per1000Steps" in family.slope && family.slope.per1000Steps).toBeCloseTo(0.25, 14);
    expect(slopePer(family.slope)).toEqual({ value: expect.closeTo(0.25, 14), unit: "1000 RLHF steps" });
    expect(family.endpointContrast.value).toBe(0.5);
  });

  it("says in its reason what the slope is per and what performance changes with", () => {
    expect(family.verdict).toBe("inverse");
    expect(family.reason).toMatch(/^Performance falls with RLHF steps: slope 0\.250 per 1000 RLHF steps \(97% CI /);
    expect(family.kendallTau).toBe(-1);
  });

  it("is a valid analysis object, and so is one made before (a slope per decade, log10 scales)", () => {
    expect(validateAnalysis(JSON.parse(JSON.stringify(analysis)))).toBe(true);
    const logLine: FamilyResults = {
      ...line(),
      models: line().models.map((model) => ({ ...model, scale: model.scale + 1000 })),
    };
    const before = analyse("classification", METRICS.loss, [logLine], options);
    expect(before.families[0]).not.toHaveProperty("axisScale");
    expect(before.families[0]?.slope).toHaveProperty("perDecade");
    expect(validateAnalysis(JSON.parse(JSON.stringify(before)))).toBe(true);
  });

  it("refuses negative steps with the reason", () => {
    const input = {
      family: "tuned",
      axis: "rlhf_steps" as const,
      models: [
        { id: "a", scale: 0, values: new Float64Array(40) },
        { id: "b", scale: -5, values: new Float64Array(40) },
      ],
    };
    expect(() => analyseFamily(input, { ...options, direction: "lower_is_better" })).toThrow(
      new AnalysisInputError('family tuned: model "b" has -5 RLHF steps; steps must be 0 or more'),
    );
  });
});

describe("a grid family analysed line by line", () => {
  // 3 sizes × steps 0, 500, 1000, 2000; a 4th size has only its pretrained model.
  const definition: FamilyDefinition = {
    name: "grid",
    axis: "rlhf_steps",
    models: [
      ...[1e8, 1e9, 1e10].flatMap((parameters) =>
        STEPS.map((rlhfSteps) => ({ id: `g-${parameters}-${rlhfSteps}`, parameters, rlhfSteps })),
      ),
      { id: "g-big-0", parameters: 1e11, rlhfSteps: 0 },
    ],
  };
  const results = new Map(definition.models.map((model) => [model.id, linearInSteps(model.rlhfSteps ?? NaN)]));
  const lines = familyLines(definition, results);
  if (!lines.ok) throw new Error(lines.message);
  const [analysis] = analyseMetrics(
    "classification",
    [{ metric: METRICS.loss, role: "headline" }],
    lines.lines,
    options,
    undefined,
    lines.unfit,
  );
  const analysed = defined(analysis, "the analysis");

  it("gives one verdict per size, each line saying what it holds fixed", () => {
    expect(analysed.families.map((family) => [family.family, family.axis, family.fixed, family.verdict])).toEqual([
      ["grid", "rlhf_steps", { parameters: 1e8 }, "inverse"],
      ["grid", "rlhf_steps", { parameters: 1e9 }, "inverse"],
      ["grid", "rlhf_steps", { parameters: 1e10 }, "inverse"],
    ]);
  });

  it("lists the size with one model among the unanalysed, and counts lines in the summary", () => {
    expect(analysed.unanalysed).toEqual([
      {
        family: "grid",
        reason: "only 1 model on this line has results; a trend needs 2 RLHF step counts",
        axis: "rlhf_steps",
        fixed: { parameters: 1e11 },
      },
    ]);
    expect(analysed.summary.text).toBe("inverse in 3 of 4 lines; not analysed in 1 of 4");
    expect(validateAnalysis(JSON.parse(JSON.stringify(analysed)))).toBe(true);
  });

  it("names the line in a refusal from the statistics", () => {
    const short: FamilyResults = {
      family: "grid",
      axis: "rlhf_steps",
      fixed: { parameters: 1e9 },
      models: [{ id: "only", scale: 0, results: linearInSteps(0) }],
    };
    const refused = analyse("classification", METRICS.loss, [short], options);
    expect(refused.unanalysed).toEqual([
      {
        family: "grid",
        reason: "family grid (1B params) needs at least 2 models to show a trend",
        axis: "rlhf_steps",
        fixed: { parameters: 1e9 },
      },
    ]);
  });
});

describe("a family analysed as one line, as before", () => {
  it("through familyLines is the same object as through its scales", () => {
    const definition: FamilyDefinition = {
      name: "sizes",
      models: [
        { id: "s", parameters: 1e8 },
        { id: "m", parameters: 1e9 },
        { id: "l", parameters: 1e10 },
      ],
    };
    const results = new Map(definition.models.map((model, m) => [model.id, linearInSteps(500 * m)]));
    const lines = familyLines(definition, results);
    if (!lines.ok) throw new Error(lines.message);
    const direct: FamilyResults = {
      family: "sizes",
      axis: "params",
      models: definition.models.map((model) => ({
        id: model.id,
        scale: model.parameters,
        results: defined(results.get(model.id), model.id),
      })),
    };
    const viaLines = analyse("classification", METRICS.loss, lines.lines, options);
    expect(JSON.stringify(viaLines)).toBe(JSON.stringify(analyse("classification", METRICS.loss, [direct], options)));
    expect(viaLines.families[0]?.slope).toHaveProperty("perDecade");
    expect(viaLines.summary.text).toBe("inverse in 1 of 1 family");
  });
});
