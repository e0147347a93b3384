import { describe, expect, it } from "vitest";
import { contrastFacts, contrastWords, renderSlicesPlot } from "../../src/analysis/slices-plot";
import { escapeXml } from "../../src/util/escape";
import { defined } from "../defined";
import { drawnPanels, drawnText } from "./plot-scenarios";
import { slices } from "./slices-scenarios";

describe("the figure of the task, its control and its variant", () => {
  const svg = defined(renderSlicesPlot(slices(), "Memo <trap>"), "the figure");

  it("draws one panel per family line with the task's, the control's and the variant's lines", () => {
    const panels = drawnPanels(svg);
    expect(panels.map((panel) => [panel.family, panel.lines.length])).toEqual([["isv-reference", 3]]);
    expect([...svg.matchAll(/data-slice="([^"]*)"/g)].map((match) => match[1])).toEqual([
      "task",
      "control &quot;facts &lt;b onload=&quot;x()&quot;&gt;&amp;.csv&quot;",
      "variant &quot;few-shot&quot;",
    ]);
  });

  it("names each line in the key with its role, label, verdict and slope, in its own colour and marker", () => {
    const keys = [...svg.matchAll(/<g class="legend" stroke="([^"]+)"[^>]*>.*?class="point"/g)].map((m) => m[1]);
    expect(keys).toEqual(["#0072B2", "#D55E00", "#009E73"]);
    const text = drawnText(svg);
    expect(text).toContain("task: inverse, slope +");
    expect(text).toContain("control &quot;facts &lt;b onload=&quot;x()&quot;&gt;&amp;.csv&quot;: standard, slope -");
    expect(text).toContain("variant &quot;few-shot&quot;: ");
  });

  it("titles the panel with each slope difference, its interval and its claim", () => {
    const [panel] = drawnPanels(svg);
    const title = defined(panel, "the panel").titles.join(" ");
    const [toControl, toVariant] = slices().contrasts.map(contrastFacts);
    expect(title).toBe(
      ["isv-reference", contrastWords(defined(toControl, "c")), contrastWords(defined(toVariant, "v"))]
        .join(" ")
        .replace(/.+/, escapeXml),
    );
    expect(title).toMatch(
      /task − control .*: \+[\d.]+ per decade \(95% interval \+[\d.]+ to \+[\d.]+, unpaired\), excludes 0: the task&#39;s trend is worse/,
    );
  });

  it("escapes the label everywhere: no element or attribute comes from it", () => {
    expect(svg).not.toContain("<b");
    expect(svg).not.toContain('onload="');
    expect(svg).not.toMatch(/<script|<style|href=|<a[ >]|<foreignObject/i);
  });

  it("has a <title> naming the task and a <desc> with every line and every statement", () => {
    expect(svg).toContain(
      '<title id="plot-title">Memo &lt;trap&gt;: Loss (nats), the task beside its controls and variants</title>',
    );
    const desc = defined(svg.match(/<desc id="plot-desc">([^<]*)<\/desc>/)?.[1], "the desc");
    expect(desc.match(/ on isv-reference: /g)).toHaveLength(3);
    expect(desc).toContain("isv-reference: The task&#39;s trend is worse than the control");
  });

  it("is the same bytes for the same analysis", () => {
    expect(renderSlicesPlot(slices(), "Memo <trap>")).toBe(svg);
  });

  it("draws nothing without a control or variant to compare", () => {
    const alone = slices();
    alone.slices = alone.slices.filter((slice) => slice.kind === "task" || slice.kind === "part");
    expect(renderSlicesPlot(alone, "Alone")).toBeUndefined();
  });
});
