/**
 * What the browser tests of the pages share (pages-browser.test.ts, pages-story.test.ts): Debian's Chromium, the
 * axe-core audit, where screenshots go, the memo-trap task and the submit form's text fields.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
import { REFERENCE_CONFIG, startDevServer } from "../../scripts/dev-server.mjs";
import { ROOT, freePort } from "./helpers";

export const BROWSER = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveBrowser = existsSync(BROWSER);
if (!haveBrowser && process.env.ISV_REQUIRE_BROWSER)
  throw new Error(`ISV_REQUIRE_BROWSER is set but there is no browser at ${BROWSER}`);

export const ARTIFACTS = join(ROOT, "test-artifacts");
const AXE_SOURCE = readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
const MEMO_TRAP = readFileSync(join(ROOT, "fixtures", "tasks", "reference", "memo-trap-inverse.csv"), "utf8");

/** The memo-trap task plus one record of the caller's, on line 602: a unique file, valid or not. */
export const memoTrapTask = (lastRecord: string): Buffer => Buffer.from(`${MEMO_TRAP}${lastRecord}\n`);

/** The submit form's text fields, by selector, with the caller's title. */
export const submitFields = (title: string): Record<string, string> => ({
  "#title": title,
  "#description": "Asks for a famous quote's ending where the prompt wants a different one.",
  "#whyItMatters": "Models that repeat memorised text ignore instructions.",
  "#expectedInverseScaling": "Larger models memorise more and follow the memorised ending.",
  "#correctBehaviour": "Follow the instruction.",
  "#dataGeneration": "Templated from a list of quotes.",
  "#dataLicence": "CC-BY-4.0",
  "#author_name_0": "Ada Researcher",
  "#contactEmail": "ada@example.org",
});

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/**
 * axe-core's serious and critical violations on a page, each as "rule: targets". axe runs in a page with script on,
 * fed the exact markup the browser under test was served (at the same address, so its stylesheet applies): with
 * script off, axe's own timers would never fire. `disabled` names rules a test leaves to a test of its own, and
 * says why where it calls this.
 */
export async function seriousViolations(
  auditor: BrowserContext,
  url: string,
  html: string,
  disabled: readonly string[] = [],
): Promise<string[]> {
  const page = await auditor.newPage();
  try {
    await page.route(url, (route) => route.fulfill({ status: 200, contentType: "text/html", body: html }));
    await page.goto(url);
    await page.evaluate(AXE_SOURCE);
    const rules = Object.fromEntries(disabled.map((rule) => [rule, { enabled: false }]));
    const violations: AxeViolation[] = await page.evaluate(
      `axe.run({ rules: ${JSON.stringify(rules)} }).then((results) => results.violations)`,
    );
    return violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
  } finally {
    await page.close();
  }
}

/** A rendered page as Chromium shows it at one width: its serious or critical issues, and how wide it scrolls. */
export interface RenderedAudit {
  violations: string[];
  scrollWidth: number;
}

/**
 * Serves `html` at `url` with the pages' stylesheet (and whatever `routes` add, e.g. stand-in plots) to Chromium
 * at `width` px, without the Worker, and audits it: the check the pages' static tests share.
 */
export async function auditRendered(
  browser: Browser,
  {
    url,
    html,
    width,
    stylesheet,
    routes = {},
  }: {
    url: string;
    html: string;
    width: number;
    stylesheet: { url: string; css: string };
    routes?: Record<string, { contentType: string; body: string }>;
  },
): Promise<RenderedAudit> {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  try {
    await context.route(stylesheet.url, (route) =>
      route.fulfill({ status: 200, contentType: "text/css", body: stylesheet.css }),
    );
    for (const [pattern, answer] of Object.entries(routes))
      await context.route(pattern, (route) => route.fulfill({ status: 200, ...answer }));
    const page = await context.newPage();
    await page.route(url, (route) => route.fulfill({ status: 200, contentType: "text/html", body: html }));
    await page.goto(url);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    return { violations: await seriousViolations(context, url, html), scrollWidth };
  } finally {
    await context.close();
  }
}

/** The service under wrangler dev on `state`, the reference family's Worker it evaluates on, and Chromium. */
export interface PagesStack {
  service: { url: string };
  browser: Browser;
  stop: () => Promise<void>;
}

/** Starts the stack the browser tests drive (the reference family as the public family), and the artifacts folder. */
export async function startPagesStack(state: string): Promise<PagesStack> {
  const [referencePort, servicePort] = [await freePort(), await freePort()];
  const [reference, browser] = await Promise.all([
    startDevServer({ config: REFERENCE_CONFIG, port: referencePort }),
    chromium.launch({
      executablePath: BROWSER,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    }),
  ]);
  const service = await startDevServer({
    port: servicePort,
    persistTo: state,
    vars: { DEFAULT_FAMILIES: "isv-reference", REFERENCE_BASE_URL: `${reference.url}/v1` },
  }).catch(async (error: unknown) => {
    await Promise.all([browser.close(), reference.stop()]);
    throw error;
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    service,
    browser,
    stop: async () => {
      await browser.close();
      await service.stop();
      await reference.stop();
    },
  };
}
