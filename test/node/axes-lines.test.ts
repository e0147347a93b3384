import { describe, expect, it } from "vitest";
import gpt3 from "../../fixtures/families/gpt3.json";
import { familyAxes, familyLines, familyScales, isGrid, type FamilyDefinition } from "../../src/analysis/family";
import { validateModelFamily } from "../../src/generated/validators";

const SIZES = [1e8, 1e9, 1e10];
const STEPS = [0, 500, 1000];

/** 3 sizes × 3 RLHF step counts, listed steps-major so no test passes by relying on the file's order. */
function grid(extra: FamilyDefinition["models"] = []): FamilyDefinition {
  return {
    name: "grid",
    axis: "rlhf_steps",
    models: [
      ...STEPS.flatMap((steps) =>
        SIZES.map((parameters) => ({ id: `g-${parameters}-${steps}`, parameters, rlhfSteps: steps })),
      ),
      ...extra,
    ],
  };
}

/** Every model has a result: here just its id, which is all the lines carry through. */
const everyResult = (family: FamilyDefinition): Map<string, string> =>
  new Map(family.models.map((model) => [model.id, `results of ${model.id}`]));

const summary = (lines: ReturnType<typeof familyLines<string>>) => {
  if (!lines.ok) throw new Error(lines.message);
  return lines.lines.map((line) => ({
    fixed: line.fixed,
    axisScale: line.axisScale,
    models: line.models.map((model) => [model.id, model.scale]),
  }));
};

describe("a grid family's lines", () => {
  it("along RLHF steps: one line per size, holding it fixed, models at their step counts on a linear axis", () => {
    expect(summary(familyLines(grid(), everyResult(grid())))).toEqual(
      SIZES.map((parameters) => ({
        fixed: { parameters },
        axisScale: "linear",
        models: STEPS.map((steps) => [`g-${parameters}-${steps}`, steps]),
      })),
    );
  });

  it("along size: one line per step count, holding it fixed, models at their sizes on a log axis", () => {
    expect(summary(familyLines(grid(), everyResult(grid()), "params"))).toEqual(
      STEPS.map((rlhfSteps) => ({
        fixed: { rlhfSteps },
        axisScale: "log10",
        models: SIZES.map((parameters) => [`g-${parameters}-${rlhfSteps}`, parameters]),
      })),
    );
  });

  it("carries each model's results and names its family and axis on every line", () => {
    const lines = familyLines(grid(), everyResult(grid()));
    if (!lines.ok) throw new Error(lines.message);
    expect(lines.lines.map((line) => [line.family, line.axis])).toEqual([
      ["grid", "rlhf_steps"],
      ["grid", "rlhf_steps"],
      ["grid", "rlhf_steps"],
    ]);
    expect(lines.lines[0]?.models[0]?.results).toBe("results of g-100000000-0");
    expect(lines.unfit).toEqual([]);
    expect(lines.withoutResults).toEqual([]);
  });

  it("is analysable along both axes, its own first", () => {
    expect(isGrid(grid())).toBe(true);
    expect(familyAxes(grid())).toEqual(["rlhf_steps", "params"]);
    expect(familyAxes({ ...grid(), axis: "params" })).toEqual(["params", "rlhf_steps"]);
  });

  it("lists a size with one step count as an unfit line along RLHF steps, and uses it along size", () => {
    const family = grid([{ id: "g-big-0", parameters: 1e11, rlhfSteps: 0 }]);
    const along = familyLines(family, everyResult(family));
    if (!along.ok) throw new Error(along.message);
    expect(along.lines).toHaveLength(3);
    expect(along.unfit).toEqual([
      {
        family: "grid",
        axis: "rlhf_steps",
        fixed: { parameters: 1e11 },
        models: ["g-big-0"],
        reason: "only 1 model on this line has results; a trend needs 2 RLHF step counts",
      },
    ]);
    const across = familyLines(family, everyResult(family), "params");
    if (!across.ok) throw new Error(across.message);
    expect(across.lines[0]?.models.map((model) => model.id)).toEqual([
      "g-100000000-0",
      "g-1000000000-0",
      "g-10000000000-0",
      "g-big-0",
    ]);
  });

  it("lists models without results, and a line left with one model as unfit", () => {
    const family = grid();
    const results = everyResult(family);
    results.delete("g-1000000000-500");
    results.delete("g-1000000000-1000");
    const lines = familyLines(family, results);
    if (!lines.ok) throw new Error(lines.message);
    expect(lines.withoutResults).toEqual(["g-1000000000-500", "g-1000000000-1000"]);
    expect(lines.lines.map((line) => line.fixed)).toEqual([{ parameters: 1e8 }, { parameters: 1e10 }]);
    expect(lines.unfit.map((line) => [line.fixed, line.models])).toEqual([[{ parameters: 1e9 }, ["g-1000000000-0"]]]);
  });

  it("lists a line whose models share one position as unfit", () => {
    const family: FamilyDefinition = {
      name: "twins",
      models: [
        { id: "a-0", parameters: 1e8, rlhfSteps: 0 },
        { id: "b-0", parameters: 1e9, rlhfSteps: 0 },
        { id: "a-500", parameters: 1e8, rlhfSteps: 500 },
        { id: "a2-500", parameters: 1e8, rlhfSteps: 500 },
      ],
    };
    const lines = familyLines(family, everyResult(family));
    if (!lines.ok) throw new Error(lines.message);
    expect(lines.lines.map((line) => line.fixed)).toEqual([{ rlhfSteps: 0 }]);
    expect(lines.unfit).toEqual([
      {
        family: "twins",
        axis: "params",
        fixed: { rlhfSteps: 500 },
        models: ["a-500", "a2-500"],
        reason: "its 2 models with results are all at one position; a trend needs 2 sizes",
      },
    ]);
  });

  it("takes a family where only some models give RLHF steps as one line on its own axis, as before grids", () => {
    // Base models next to a tuned one, as families registered before grids were analysed may be.
    const family: FamilyDefinition = {
      name: "mixed",
      models: [
        { id: "base-s", parameters: 1e8 },
        { id: "base-l", parameters: 1e9 },
        { id: "tuned-l", parameters: 1e9, rlhfSteps: 100 },
      ],
    };
    const lines = familyLines(family, everyResult(family));
    if (!lines.ok) throw new Error(lines.message);
    expect([familyAxes(family), lines.lines.map((line) => [line.axis, line.fixed, line.models.length])]).toEqual([
      ["params"],
      [["params", undefined, 3]],
    ]);
  });

  it("refuses an RLHF axis where a model has no steps, as familyScales does", () => {
    const family: FamilyDefinition = { name: "gpt3", axis: "rlhf_steps", models: gpt3.models };
    expect(familyLines(family, everyResult(family))).toEqual({
      ok: false,
      message: 'model "ada" has no rlhfSteps, which the family\'s axis "rlhf_steps" needs',
    });
  });
});

describe("a family that is not a grid", () => {
  it("is one line with nothing fixed: familyScales' models and scales, in the family's order", () => {
    const family = gpt3 as FamilyDefinition;
    const lines = familyLines(family, everyResult(family));
    const scales = familyScales(family);
    if (!lines.ok || !scales.ok) throw new Error("gpt3 has every scale");
    expect(lines.lines).toHaveLength(1);
    expect(lines.lines[0]).not.toHaveProperty("fixed");
    expect(lines.lines[0]?.models.map((model) => [model.id, model.scale])).toEqual([...scales.scales]);
    expect(familyAxes(family)).toEqual(["params"]);
  });

  it("whose models share one step count is one line too", () => {
    const family: FamilyDefinition = {
      name: "tuned",
      models: gpt3.models.map((model) => ({ ...model, rlhfSteps: 1000 })),
    };
    const lines = familyLines(family, everyResult(family));
    if (!lines.ok) throw new Error(lines.message);
    expect(isGrid(family)).toBe(false);
    expect(lines.lines.map((line) => [line.fixed, line.models.length])).toEqual([[undefined, 4]]);
  });

  it("along RLHF steps at one size, with a pretrained model, is one linear line", () => {
    const family: FamilyDefinition = {
      name: "one-size",
      axis: "rlhf_steps",
      models: STEPS.map((steps) => ({ id: `s-${steps}`, parameters: 1e9, rlhfSteps: steps })),
    };
    const lines = summary(familyLines(family, everyResult(family)));
    expect(lines).toEqual([
      {
        fixed: undefined,
        axisScale: "linear",
        models: [
          ["s-0", 0],
          ["s-500", 500],
          ["s-1000", 1000],
        ],
      },
    ]);
  });
});

describe("the family schema", () => {
  const family = (rlhfSteps: number) => ({
    name: "steps",
    adapter: "external",
    models: [
      { id: "a", parameters: 1e9, rlhfSteps },
      { id: "b", parameters: 1e9, rlhfSteps: 1000 },
    ],
  });

  it("accepts 0 RLHF steps, the pretrained model", () => {
    expect(validateModelFamily(family(0))).toBe(true);
  });

  it("refuses negative RLHF steps", () => {
    expect(validateModelFamily(family(-1))).toBe(false);
  });
});
