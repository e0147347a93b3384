import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/openapi";
import { STYLESHEET } from "../../src/pages/assets";
import { renderDocsPage } from "../../src/pages/docs-page";
import { auditRendered, BROWSER, haveBrowser } from "./pages-helpers";

/**
 * The API reference page (/docs) as served, in Chromium without wrangler: the markup rendered from the OpenAPI
 * document, with the pages' stylesheet, audited by axe-core on a large screen and at 320 px.
 */
const html = renderDocsPage(openApiDocument);

describe("the API reference page", () => {
  it("has the site's navigation, with the API reference as the current section", () => {
    expect(html).toMatch(/<nav aria-label="Site">.*<a href="\/docs" aria-current="page">API<\/a><\/nav>/);
  });

  it("has one main landmark, after a link that skips to it", () => {
    expect(html.match(/<main /g)).toHaveLength(1);
    expect(html).toContain('<a class="skip" href="#main">');
  });
});

describe.skipIf(!haveBrowser)("the API reference page in Chromium", () => {
  const URL = "http://isv.test/docs";
  let browser: Browser;
  const seen = new Map<number, { violations: string[]; scrollWidth: number }>();

  /** The page at this width with the pages' stylesheet: its audit and how wide it scrolls. */
  async function visit(width: number): Promise<void> {
    const stylesheet = { url: "http://isv.test/assets/pages.css", css: STYLESHEET };
    seen.set(width, await auditRendered(browser, { url: URL, html, width, stylesheet }));
  }

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: BROWSER, args: ["--no-sandbox", "--disable-gpu"] });
    await visit(1280);
    await visit(320);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("has no serious or critical accessibility issue on a large screen", () => {
    expect(seen.get(1280)?.violations).toEqual([]);
  });

  it("has no serious or critical accessibility issue at 320 px", () => {
    expect(seen.get(320)?.violations).toEqual([]);
  });

  it("fits 320 px without scrolling sideways", () => {
    expect(seen.get(320)?.scrollWidth).toBe(320);
  });
});
