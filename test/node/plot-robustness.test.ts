import { describe, expect, it } from "vitest";
import { renderPlot } from "../../src/analysis/plot";
import { escapeXml } from "../../src/util/escape";
import { twentyFoldApart } from "./plot-scenarios";

/** Characters XML 1.0 forbids outright: C0 controls but tab, LF and CR, and U+FFFE and U+FFFF. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching those characters is the point.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

describe("escapeXml", () => {
  it("escapes markup and both quotes", () => {
    expect(escapeXml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("replaces characters XML cannot hold, even escaped, with U+FFFD, and keeps tab, LF and CR", () => {
    expect(escapeXml("a\u0000b\u0001c\u001Fd\uFFFFe\tf\ng\rh")).toBe("a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\tf\ng\rh");
  });

  it("keeps a plot titled with a control character well-formed", () => {
    const svg = renderPlot(twentyFoldApart(), "Title with a bell \u0007 in it");
    expect([NOT_XML.test(svg), svg.includes("Title with a bell \uFFFD in it")]).toEqual([false, true]);
  });
});

describe("a plot of an analysis drawn with no resamples (isv analyse --samples 0)", () => {
  it("writes no NaN: no interval bars, and says there is no interval", () => {
    const analysis = twentyFoldApart();
    const noIntervals = {
      ...analysis,
      families: analysis.families.map((family) => ({
        ...family,
        slope: { ...family.slope, ci95: [Number.NaN, Number.NaN] as [number, number] },
        models: family.models.map((model) => ({ ...model, ci95: [Number.NaN, Number.NaN] as [number, number] })),
      })),
    };
    const svg = renderPlot(noIntervals, "No resamples");
    expect([svg.includes("NaN"), svg.includes("no interval")]).toEqual([false, true]);
  });
});
