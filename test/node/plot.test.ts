import { describe, expect, it } from "vitest";
import { analyse } from "../../src/analysis/analyse";
import { METRICS } from "../../src/analysis/metrics";
import { formatScale, renderPlot } from "../../src/analysis/plot";
import { escapeXml } from "../../src/util/escape";

function results(means: number[], examples = 200) {
  return means.map((mean, m) => ({
    id: `model-${m}`,
    scale: 10 ** (8 + m),
    results: {
      rows: examples,
      columns: {
        loss: Float64Array.from({ length: examples }, (_, i) => mean + ((i * 7919 + m * 104729) % 97) / 97 - 0.5),
      },
    },
  }));
}

const analysis = analyse(
  "classification",
  METRICS.loss,
  [
    { family: "alpha", axis: "params", models: results([1.0, 1.2, 1.4]) },
    { family: `<script>alert("x")</script> & co`, axis: "params", models: results([1.4, 1.2, 1.0]) },
  ],
  { seed: 3, bootstrapSamples: 300, equivalenceMargin: 0.05, minSharedExamples: 30 },
  [2, 2, 4],
);

describe("the SVG plot", () => {
  const svg = renderPlot(analysis, 'Task with <tags> & "quotes"');

  it("is the same bytes for the same analysis", () => {
    expect(renderPlot(analysis, 'Task with <tags> & "quotes"')).toBe(svg);
  });

  it("has a title and a description for screen readers", () => {
    expect(svg).toMatch(/<svg [^>]*role="img" aria-labelledby="plot-title plot-desc"/);
    expect(svg).toContain(
      '<title id="plot-title">Task with &lt;tags&gt; &amp; &quot;quotes&quot;: Loss (nats) against scale</title>',
    );
    expect(svg).toMatch(/<desc id="plot-desc">[^<]*alpha: model-0 \(100M\) [^<]*verdict inverse/);
  });

  it("escapes every user string", () => {
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;script&gt;");
  });

  it("draws one line per family and an interval bar per model", () => {
    expect(svg.match(/<g class="family"/g)).toHaveLength(2);
    expect(svg.match(/<g class="model">/g)).toHaveLength(6);
  });

  it("says where the chance level lies when it is outside the panels' range, and draws no chance line there", () => {
    expect(svg.match(/>Chance level 0\.924 is below this range\.<\/text>/g)).toHaveLength(2);
    expect(svg).not.toContain(">chance</text>");
  });

  it("labels each panel's scale axis", () => {
    expect(svg.match(/>Parameters \(log scale\)<\/text>/g)).toHaveLength(2);
  });

  it("states the verdicts", () => {
    expect(svg).toMatch(/Verdict: alpha: inverse; &lt;script&gt;[^<]*: standard\./);
  });

  it("formats scales the way model sizes are written, and escapes XML", () => {
    expect([572, 1.3e9, 175e9, 6.7e9, 125e6, 1.5e12].map(formatScale)).toEqual([
      "572",
      "1.3B",
      "175B",
      "6.7B",
      "125M",
      "1.5T",
    ]);
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});
