import { describe, expect, it } from "vitest";
import type { Analysis } from "../../src/analysis/analyse";
import { renderPlot } from "../../src/analysis/plot";
import { lineStyle } from "../../src/analysis/plot-marks";
import { defined } from "../defined";
import { analyseLoss, drawnPanels, drawnText, heightShare, lossFamily, twentyFoldApart } from "./plot-scenarios";

const GPT3_SIZES = [350e6, 1.3e9, 6.7e9, 175e9];

describe("a plot of two families whose losses differ 20-fold (GPT-3 0.67-0.82 nats, the reference 12-15)", () => {
  const analysis = twentyFoldApart();
  const svg = renderPlot(analysis, "A real prize task");
  const [gpt3, reference] = drawnPanels(svg);

  it("is of the shapes the issue saw flattened: an inverted U (in performance) and inverse scaling", () => {
    expect(analysis.families.map((family) => [family.family, family.verdict])).toEqual([
      ["gpt3", "inverted_u"],
      ["isv-reference", "inverse"],
    ]);
  });

  it("draws one panel per family", () => {
    expect(drawnPanels(svg).map((panel) => panel.family)).toEqual(["gpt3", "isv-reference"]);
  });

  it("fits each panel's value axis to its own family, so both curves fill most of their panel's height", () => {
    expect(heightShare(defined(gpt3, "gpt3's panel"))).toBeGreaterThan(0.6);
    expect(heightShare(defined(reference, "the reference panel"))).toBeGreaterThan(0.6);
  });

  it("gives each panel round value ticks of its own range", () => {
    expect([gpt3?.valueTicks, reference?.valueTicks]).toEqual([
      ["0.65", "0.70", "0.75", "0.80", "0.85"],
      ["12", "13", "14", "15"],
    ]);
  });

  it("gives each panel a scale axis over its own models only", () => {
    expect([gpt3?.scaleTicks, reference?.scaleTicks]).toEqual([
      ["1B", "10B", "100B"],
      ["1K", "10K", "100K"],
    ]);
  });

  it("says in the caption that the panels' value axes differ", () => {
    expect(drawnText(svg)).toContain(
      "Each panel has its own value and scale axes, fitted to its family: compare panels by their tick labels, not by height.",
    );
  });

  it("titles each panel with its family, verdict and slope per decade with its interval", () => {
    expect(defined(gpt3, "gpt3's panel").titles.join(" ")).toMatch(
      /^gpt3 inverted-U scaling; slope \+0\.00\d+ per decade \(95% CI \+0\.00\d+ to \+0\.00\d+\); turns at gpt3-2 \(6\.7B\)$/,
    );
    expect(defined(reference, "the reference panel").titles.slice(0, -1).join(" ")).toMatch(
      /^isv-reference inverse scaling; slope \+[\d.]+ per decade \(95% CI \+[\d.]+ to \+[\d.]+\)$/,
    );
  });

  it("marks the turning model of the inverted U at that model's point", () => {
    const panel = defined(gpt3, "gpt3's panel");
    expect(panel.turning).toEqual([{ model: "gpt3-2", x: panel.lines[0]?.[2]?.x }]);
    expect(reference?.turning).toEqual([]);
  });

  it("draws the chance level where it falls inside a panel's range, and says where it lies otherwise", () => {
    expect([gpt3?.chance, reference?.chance]).toEqual([true, false]);
    expect(reference?.titles.at(-1)).toBe("Chance level 0.693 is below this range.");
  });

  it("states the metric and which way is better, the examples all models share and the interval method", () => {
    const text = drawnText(svg);
    expect(text).toContain("Loss (nats), lower is better. One panel per model family.");
    expect(text).toContain(
      "Points are means over the 1,320 examples shared by all models; bars are 95% paired-bootstrap intervals (B = 1,000, seed 1).",
    );
  });

  it("keeps a <title> per point with the model, its scale, mean and interval", () => {
    const titles = [...svg.matchAll(/<g class="model"><title>([^<]*)<\/title>/g)].map((match) => match[1]);
    expect(titles).toHaveLength(8);
    const model = defined(analysis.families[0]?.models[2], "gpt3-2");
    expect(titles[2]).toBe(
      `gpt3 gpt3-2 (6.7B): ${model.mean.toFixed(3)}, 95% CI ${model.ci95[0].toFixed(3)} to ${model.ci95[1].toFixed(3)}`,
    );
  });

  it("summarises every verdict and the turn for screen readers", () => {
    const desc = svg.match(/<desc id="plot-desc">([^<]*)<\/desc>/)?.[1] ?? "";
    expect(desc).toContain("verdict inverted_u, turns at gpt3-2 (6.7B).");
    expect(desc).toContain("verdict inverse.");
  });

  it("has nothing a strict CSP would block or a browser would run: no script, style, link or external reference", () => {
    expect(svg).not.toMatch(/<script|<style|<a |href|url\(|<image|<foreignObject|\bon\w+=/i);
  });
});

describe("a plot of families whose ranges overlap", () => {
  const overlapping = analyseLoss([
    lossFamily("gpt3", GPT3_SIZES, [0.9, 0.8, 0.75, 0.7], { seed: 5 }),
    lossFamily("opt", [125e6, 1.3e9, 13e9, 66e9], [0.92, 0.82, 0.76, 0.72], { seed: 6 }),
  ]);
  const svg = renderPlot(overlapping, "Overlapping");
  const [first, second] = drawnPanels(svg);

  it("shares one value axis between the panels", () => {
    expect(first?.valueTicks).toEqual(second?.valueTicks);
  });

  it("says so in the caption", () => {
    expect(drawnText(svg)).toContain(
      "The panels share one value axis: their ranges overlap enough to be compared on one scale.",
    );
  });
});

describe("a plot of one family", () => {
  const svg = renderPlot(analyseLoss([lossFamily("gpt3", GPT3_SIZES, [0.9, 0.8, 0.75, 0.7])]), "Alone");

  it("draws it as one wide panel with round ticks between decades", () => {
    const [panel] = drawnPanels(svg);
    expect([panel?.frame.width, panel?.scaleTicks]).toEqual([616, ["300M", "1B", "3B", "10B", "30B", "100B"]]);
  });

  it("says nothing about panels", () => {
    expect(drawnText(svg)).not.toMatch(/panel/i);
  });
});

describe("the lines of a chart", () => {
  it("each differ by marker as well as colour, for the first 6", () => {
    const styles = [0, 1, 2, 3, 4, 5].map(lineStyle);
    expect(new Set(styles.map((style) => style.marker)).size).toBe(6);
    expect(new Set(styles.map((style) => style.colour)).size).toBe(6);
  });

  it("use Okabe-Ito colours, without its yellow", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => lineStyle(i).colour)).toEqual([
      "#0072B2",
      "#D55E00",
      "#009E73",
      "#CC79A7",
      "#E69F00",
      "#56B4E9",
      "#000000",
    ]);
  });
});

describe("an analysis with no finite interval (no resamples)", () => {
  const analysis = twentyFoldApart();
  const broken: Analysis = {
    ...analysis,
    families: analysis.families.map((family) => ({
      ...family,
      models: family.models.map((model) => ({ ...model, mean: NaN, ci95: [NaN, NaN] })),
    })),
  };

  it("is still drawn, with a panel per family", () => {
    expect(drawnPanels(renderPlot(broken, "Broken")).map((panel) => panel.family)).toEqual(["gpt3", "isv-reference"]);
  });
});
