import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STYLESHEET, STYLESHEET_PATH } from "../../src/pages/assets";
import { Layout, renderToString } from "../../src/pages/layout";
import { SlicesSection } from "../../src/pages/review-slices";
import { BROWSER, haveBrowser, seriousViolations } from "./pages-helpers";
import { slices } from "./slices-scenarios";

/**
 * The review desk's section on a task's files, slices and contrasts, audited by axe-core in Chromium as the desk's
 * pages are in pages-story (whose task has one file, so this section is not on its page): tables with headers,
 * headings in order, the figure's alternative text.
 */
const ORIGIN = "http://desk.test";

const FILES = [
  { name: "part-1.csv", role: "part", paired: false, sha256: "a", bytes: 10, firstExample: 0, examples: 660 },
  { name: "part-2.csv", role: "part", paired: false, sha256: "b", bytes: 10, firstExample: 660, examples: 660 },
  {
    name: "few.csv",
    role: "variant",
    label: "few-shot",
    paired: true,
    sha256: "c",
    bytes: 10,
    firstExample: 1320,
    examples: 1320,
  },
] as const;

describe.skipIf(!haveBrowser)("the desk's section on files, slices and contrasts", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: BROWSER });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("has no serious or critical axe violation", async () => {
    const section = SlicesSection({
      figureUrl: "/review/submissions/sub_1/slices.svg",
      files: [...FILES],
      slices: slices(),
    });
    const html = renderToString(Layout({ title: "Memo trap", children: section }));
    expect(html).toContain('<h2 id="slices-heading">');
    const auditor = await browser.newContext();
    await auditor.route(`${ORIGIN}${STYLESHEET_PATH}`, (route) =>
      route.fulfill({ status: 200, contentType: "text/css", body: STYLESHEET }),
    );
    await auditor.route(`${ORIGIN}/review/**`, (route) => route.fulfill({ status: 404 }));
    expect(await seriousViolations(auditor, `${ORIGIN}/review/submissions/sub_1`, html)).toEqual([]);
    await auditor.close();
  });
});
