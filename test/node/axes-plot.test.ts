import { describe, expect, it } from "vitest";
import { analyse, type Analysis } from "../../src/analysis/analyse";
import { familyLines, type FamilyDefinition } from "../../src/analysis/family";
import { METRICS } from "../../src/analysis/metrics";
import { renderPlot } from "../../src/analysis/plot";
import type { ModelResults } from "../../src/analysis/results-csv";
import { defined } from "../defined";
import { drawnPanels, drawnText } from "./plot-scenarios";

const options = { seed: 7, bootstrapSamples: 300, equivalenceMargin: 0.05, minSharedExamples: 30 };

/** Loss rising 0.25 nats per 1000 RLHF steps and falling 0.1 per decade of size, with alternating noise. */
function results(parameters: number, steps: number): ModelResults {
  const shift = (0.25 * steps) / 1000 - 0.1 * Math.log10(parameters);
  const loss = Float64Array.from({ length: 64 }, (_, i) => 2 + (i % 8) / 8 + shift + (i % 2 === 0 ? 1 : -1) / 16);
  return { rows: 64, columns: { loss } };
}

// 3 sizes × steps 0, 500, 1000, 2000.
const definition: FamilyDefinition = {
  name: "grid",
  axis: "rlhf_steps",
  models: [1e8, 1e9, 1e10].flatMap((parameters) =>
    [0, 500, 1000, 2000].map((rlhfSteps) => ({ id: `g-${parameters}-${rlhfSteps}`, parameters, rlhfSteps })),
  ),
};
const modelResults = new Map(
  definition.models.map((model) => [model.id, results(model.parameters, model.rlhfSteps ?? NaN)]),
);

function alongAxis(axis: "rlhf_steps" | "params"): Analysis {
  const lines = familyLines(definition, modelResults, axis);
  if (!lines.ok) throw new Error(lines.message);
  return analyse("classification", METRICS.loss, lines.lines, options);
}

describe("the plot of an analysis along RLHF steps with a pretrained model", () => {
  const svg = renderPlot(alongAxis("rlhf_steps"), "Sycophancy");

  const panel = defined(drawnPanels(svg)[0], "the family's panel");

  it("has a linear x axis, labelled so, with round step ticks from 0", () => {
    expect(svg).toContain(">RLHF steps (linear scale)</text>");
    expect(svg).not.toContain("log scale");
    expect(panel.scaleTicks).toEqual(["0", "500", "1K", "1.5K", "2K"]);
  });

  it("places the 0-step model at 0: 5% of the 0 to 2000 span inside the frame", () => {
    // The axis runs from -100 to 2100 steps over the frame's width: 0 steps at 100 / 2200 of it, 500 at 600 / 2200
    // and 2000 at 2100 / 2200.
    const { x, width } = panel.frame;
    expect(defined(panel.lines[0], "the first line").map((point) => point.x)).toEqual(
      [100, 600, 1100, 2100].map((steps) => Math.round((x + (width * steps) / 2200) * 100) / 100),
    );
  });

  it("draws one line per size, each labelled with the size it holds fixed, in one panel", () => {
    expect([...svg.matchAll(/<g class="family" data-family="grid" data-fixed="([^"]+)"/g)].map((m) => m[1])).toEqual([
      "100M params",
      "1B params",
      "10B params",
    ]);
    expect(panel.titles).toEqual(["grid: one line per size"]);
    expect(svg).toContain(">100M params: inverse, slope +0.25 per 1000 RLHF steps</text>");
    expect(drawnText(svg)).toContain(
      "Verdict: grid, 100M params: inverse; grid, 1B params: inverse; grid, 10B params: inverse.",
    );
  });

  it("says in its title what the metric is plotted against, and in its description how many lines", () => {
    expect(svg).toContain('<title id="plot-title">Sycophancy: Loss (nats) against RLHF steps</title>');
    expect(svg).toContain(
      '<desc id="plot-desc">Loss (nats) (lower is better) for 3 lines of 1 model family. grid, 100M params: g-100000000-0 (0) 1.638,',
    );
  });
});

describe("the plot of the same family along size", () => {
  const svg = renderPlot(alongAxis("params"), "Sycophancy");

  it("has a log axis and one line per RLHF step count", () => {
    expect(svg).toContain(">Parameters (log scale)</text>");
    expect([...svg.matchAll(/data-fixed="([^"]+)"/g)].map((m) => m[1])).toEqual([
      "0 RLHF steps",
      "500 RLHF steps",
      "1K RLHF steps",
      "2K RLHF steps",
    ]);
    expect(svg).toContain(">0 RLHF steps: standard, slope -0.1 per decade</text>");
  });
});

describe("an analysis holding lines along both axes", () => {
  const rlhf = alongAxis("rlhf_steps");
  const both: Analysis = { ...rlhf, families: [...rlhf.families, ...alongAxis("params").families] };

  it("never draws the two axes in one chart: each plot shows the lines of one axis", () => {
    const steps = renderPlot(both, "T", "rlhf_steps");
    const sizes = renderPlot(both, "T", "params");
    const fixed = (svg: string) => [...svg.matchAll(/data-fixed="([^"]+)"/g)].map((m) => m[1]);
    expect(fixed(steps)).toEqual(["100M params", "1B params", "10B params"]);
    expect(steps).toContain(">RLHF steps (linear scale)</text>");
    expect(fixed(sizes)).toEqual(["0 RLHF steps", "500 RLHF steps", "1K RLHF steps", "2K RLHF steps"]);
    expect(sizes).toContain(">Parameters (log scale)</text>");
    expect(renderPlot(both, "T")).toBe(steps);
  });
});

describe("two grid families along RLHF steps", () => {
  const twin: FamilyDefinition = {
    ...definition,
    name: "twin",
    models: definition.models.map((model) => ({ ...model, id: `twin-${model.id}` })),
  };
  const twinResults = new Map(
    twin.models.map((model) => [model.id, results(model.parameters, model.rlhfSteps ?? NaN)]),
  );
  const twinLines = familyLines(twin, twinResults, "rlhf_steps");
  if (!twinLines.ok) throw new Error(twinLines.message);
  const own = alongAxis("rlhf_steps");
  const svg = renderPlot(
    {
      ...own,
      families: [...own.families, ...analyse("classification", METRICS.loss, twinLines.lines, options).families],
    },
    "T",
  );

  it("draw a panel each", () => {
    expect(drawnPanels(svg).map((panel) => panel.family)).toEqual(["grid", "twin"]);
  });

  it("give a size the same colour and marker in every panel, so a size is found at a glance", () => {
    const looks = [
      ...svg.matchAll(
        /<g class="family" data-family="(\w+)" data-fixed="([^"]+)" stroke="([^"]+)"[^>]*>\n<path[^>]*>\n<g class="model"><title>[^<]*<\/title>(?:<line[^>]*>){3}<(\w+)/g,
      ),
    ].map((match) => `${match[2]} ${match[3]} ${match[4]}`);
    expect(looks).toEqual([
      "100M params #0072B2 circle",
      "1B params #D55E00 path",
      "10B params #009E73 path",
      "100M params #0072B2 circle",
      "1B params #D55E00 path",
      "10B params #009E73 path",
    ]);
  });
});
