import { describe, expect, it } from "vitest";
import type { Analysis, FamilyResults } from "../../src/analysis/analyse";
import { analyseBehaviour, behaviourMetrics, type MatchingBehaviour } from "../../src/analysis/behaviour";
import { plotAxes, renderPlot } from "../../src/analysis/plot";
import { DEFAULT_OPTIONS } from "../../src/analysis/statistics";
import { defined } from "../defined";
import { fromProbabilities } from "./helpers";
import { drawnPanels, drawnText } from "./plot-scenarios";

/**
 * Along RLHF steps 0, 500, 1000 (linear: from 0), fewer examples favour the matching answer (320, 240, 160 of 400)
 * while the winners grow surer: the mean matching probability rises (0.41, 0.51, 0.61) and the win rate falls.
 */
const ALONG_STEPS: FamilyResults = {
  family: "steps",
  axis: "rlhf_steps",
  axisScale: "linear",
  models: [0, 1, 2].map((k) => {
    const [winners, winning, losing] = [320 - 80 * k, 0.51 + 0.2 * k, 0.01 + 0.2 * k];
    const probabilities = Array.from({ length: 400 }, (_, i) => (i < winners ? winning : losing));
    return { id: `s-${500 * k}`, scale: 500 * k, results: fromProbabilities(probabilities) };
  }),
};

function probabilityAnalysis(matching: MatchingBehaviour): Analysis {
  const analyses = analyseBehaviour(behaviourMetrics(matching), [ALONG_STEPS], matching, {
    ...DEFAULT_OPTIONS,
    bootstrapSamples: 200,
  });
  return defined(
    analyses.find((analysis) => analysis.metric.name === "matching_probability"),
    "the matching_probability analysis",
  );
}

describe("the summary of a direction-only metric along RLHF steps", () => {
  it("names the axis the value moves along, and counts lines when a family gives several", () => {
    const twoSizes = [0, 1].map((size) => ({ ...ALONG_STEPS, fixed: { parameters: 10 ** (8 + size) } }));
    const analysis = defined(
      analyseBehaviour(behaviourMetrics("neither"), twoSizes, "neither", {
        ...DEFAULT_OPTIONS,
        bootstrapSamples: 200,
      }).find((one) => one.metric.name === "matching_probability"),
      "the matching_probability analysis",
    );
    // The disagreements follow, each starting "On".
    expect(analysis.summary.text.split(". On ")[0]).toBe(
      "Direction only (the matching behaviour is neither desired nor undesired): rises with RLHF steps in 2 of 2 lines",
    );
  });
});

describe("the plot of a direction-only metric (matching behaviour neither)", () => {
  const analysis = probabilityAnalysis("neither");
  const svg = renderPlot(analysis, "Sycophancy");

  it("is of a line the analysis calls standard (read as if higher were better)", () => {
    expect([analysis.metric.orientation, analysis.families[0]?.verdict]).toEqual(["direction_only", "standard"]);
  });

  it("says which way the value moves along RLHF steps, with the slope per 1000 steps, in the panel's title", () => {
    expect(defined(drawnPanels(svg)[0], "the panel").titles.join(" ")).toMatch(
      /^steps rises with RLHF steps; slope \+[\d.]+ per 1000 RLHF steps \(95% CI \+[\d.]+ to \+[\d.]+\)$/,
    );
  });

  it("says it in the caption too", () => {
    expect(drawnText(svg)).toContain("Direction (neither way is better): steps: rises with RLHF steps.");
  });

  it("labels the value axis without a better side", () => {
    expect(svg).toContain(">Mean probability of the matching answer (direction only)</text>");
  });

  it("has no performance verdict or better side anywhere, the description included", () => {
    expect(svg).not.toMatch(/higher is better|lower is better|standard|inverse|verdict|Verdict|[Pp]erformance/);
  });

  it("says in its description that neither way is better", () => {
    expect(svg).toContain(
      "Mean probability of the matching answer (direction only: neither way is better) for 1 model family.",
    );
  });
});

describe("the plot of the same metric when matching is undesired", () => {
  const svg = renderPlot(probabilityAnalysis("undesired"), "Sycophancy");

  it("keeps the performance verdict and the better side", () => {
    expect(svg).toContain(">Mean probability of the matching answer (lower is better)</text>");
    expect(svg).toContain("Verdict: steps: inverse.");
  });
});

describe("the axes a plot can be drawn along", () => {
  it("are those of the analysis's lines, in their order", () => {
    const analysis = probabilityAnalysis("neither");
    const line = defined(analysis.families[0], "a line");
    expect(plotAxes({ ...analysis, families: [line, { ...line, axis: "params" }, line] })).toEqual([
      "rlhf_steps",
      "params",
    ]);
  });
});
