import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPlot } from "../../src/analysis/plot";
import { ROOT } from "./helpers";
import { twentyFoldApart } from "./plot-scenarios";

/**
 * The plot as a reader sees it: drawn by headless Chromium (Debian's package; .ci/run installs it and sets
 * ISV_REQUIRE_BROWSER so this cannot be skipped there), measured from the laid-out SVG. The screenshot is kept in
 * test-artifacts/ (git-ignored); docs/screenshots/ holds a copy for the README.
 */
const BROWSER = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveBrowser = existsSync(BROWSER);
if (!haveBrowser && process.env.ISV_REQUIRE_BROWSER)
  throw new Error(`ISV_REQUIRE_BROWSER is set but there is no browser at ${BROWSER}`);
if (!haveBrowser)
  console.warn(
    `plot-visual: no Chromium at ${BROWSER}; the plot is not checked in a browser (apt-get install chromium)`,
  );

/** A laid-out family: the box of the frame it is drawn in and the centres of its points, in page pixels. */
interface MeasuredPanel {
  family: string;
  frame: { top: number; bottom: number; left: number; right: number };
  points: { x: number; y: number }[];
}

describe.skipIf(!haveBrowser)("a two-family plot whose ranges differ 20-fold, in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let panels: MeasuredPanel[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: BROWSER,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    page = await browser.newPage({ viewport: { width: 760, height: 700 } });
    const svg = renderPlot(twentyFoldApart(), "A prize task: GPT-3 and the reference family");
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    // Per family, the frame its points are drawn in: its panel's, or (as before panels) the one chart frame.
    panels = await page.$$eval("g.family", (groups) =>
      groups.map((group) => {
        const frame =
          group.closest("g.panel")?.querySelector("rect.frame") ?? document.querySelector('rect[fill="none"]');
        const box = frame?.getBoundingClientRect();
        const points = Array.from(group.querySelectorAll("g.model"), (model) => {
          const rect = model.lastElementChild?.getBoundingClientRect();
          return {
            x: (rect?.left ?? NaN) + (rect?.width ?? NaN) / 2,
            y: (rect?.top ?? NaN) + (rect?.height ?? NaN) / 2,
          };
        });
        return {
          family: group.getAttribute("data-family") ?? "",
          frame: { top: box?.top ?? NaN, bottom: box?.bottom ?? NaN, left: box?.left ?? NaN, right: box?.right ?? NaN },
          points,
        };
      }),
    );
  });

  afterAll(async () => {
    if (page) {
      mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
      await page.locator("svg").screenshot({ path: join(ROOT, "test-artifacts", "plot-two-families.png") });
    }
    await browser?.close();
  });

  it("lays out one panel per family, each with its 4 points", async () => {
    expect(await page.$$eval("g.panel", (groups) => groups.map((group) => group.getAttribute("data-family")))).toEqual([
      "gpt3",
      "isv-reference",
    ]);
    expect(panels.map((panel) => [panel.family, panel.points.length])).toEqual([
      ["gpt3", 4],
      ["isv-reference", 4],
    ]);
  });

  it("draws each family's points over at least 60% of its panel's height", () => {
    expect(panels).toHaveLength(2);
    for (const panel of panels) {
      const ys = panel.points.map((point) => point.y);
      const share = (Math.max(...ys) - Math.min(...ys)) / (panel.frame.bottom - panel.frame.top);
      expect(share, panel.family).toBeGreaterThanOrEqual(0.6);
    }
  });

  it("keeps every point inside its own panel's frame", () => {
    for (const panel of panels)
      for (const point of panel.points) {
        expect(point.y, panel.family).toBeGreaterThan(panel.frame.top);
        expect(point.y, panel.family).toBeLessThan(panel.frame.bottom);
        expect(point.x, panel.family).toBeGreaterThan(panel.frame.left);
        expect(point.x, panel.family).toBeLessThan(panel.frame.right);
      }
  });

  it("spreads each family's points across most of its panel's width", () => {
    for (const panel of panels) {
      const xs = panel.points.map((point) => point.x);
      expect(
        (Math.max(...xs) - Math.min(...xs)) / (panel.frame.right - panel.frame.left),
        panel.family,
      ).toBeGreaterThan(0.8);
    }
  });

  it("keeps each panel's title lines within its own panel, clear of the next one's value ticks", async () => {
    const crossing = await page.$$eval("g.panel", (groups) =>
      groups.flatMap((group) => {
        const frame = group.querySelector("rect.frame")?.getBoundingClientRect();
        // The panel's right gutter is 14 px; the next panel's tick labels start about 40 px further on.
        const limit = (frame?.right ?? 0) + 14;
        return Array.from(group.querySelectorAll("text.panel-title"))
          .filter((text) => text.getBoundingClientRect().right > limit)
          .map((text) => text.textContent);
      }),
    );
    expect(crossing).toEqual([]);
  });

  it("keeps every text inside the image: nothing wrapped too late runs off the right edge", async () => {
    const overflowing = await page.$$eval("svg text", (texts) => {
      const width = Number(document.querySelector("svg")?.getAttribute("width"));
      return texts.filter((text) => text.getBoundingClientRect().right > width).map((text) => text.textContent);
    });
    expect(overflowing).toEqual([]);
  });
});
