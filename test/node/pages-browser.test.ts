import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACTS,
  type PagesStack,
  haveBrowser,
  memoTrapTask,
  seriousViolations,
  startPagesStack,
  submitFields,
} from "./pages-helpers";

/**
 * The submitter's pages in Chromium against the real Worker under wrangler dev, once with JavaScript off (at
 * 320 px wide) and once on (on a large screen): a bad file and its errors, the fixed file and the token, sign-in
 * and the evaluation's progress. axe-core audits each page; screenshots go to test-artifacts/.
 */
const TEXT_FIELDS = submitFields("Memo trap <b>in a browser</b>");

/**
 * One axe rule is left to a test of its own: `meta-refresh` flags any page that reloads itself, since axe cannot see
 * whether the user can stop it. The status page reloads itself while evaluating, as asked, and offers "Stop
 * reloading" first thing on the page (WCAG 2.2.1 allows a time limit the user can turn off); the test of that page
 * checks the link is there whenever the page reloads itself.
 */
const LEFT_TO_ITS_OWN_TEST = ["meta-refresh"];

describe.skipIf(!haveBrowser)("the submitter's pages in Chromium", () => {
  let stack: PagesStack | undefined;
  let service: { url: string };
  let browser: Browser;
  const state = mkdtempSync(join(tmpdir(), "isv-pages-"));

  beforeAll(async () => {
    stack = await startPagesStack(state);
    ({ service, browser } = stack);
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  for (const javaScriptEnabled of [false, true]) {
    const mode = javaScriptEnabled ? "js" : "no-js";
    describe(`with JavaScript ${javaScriptEnabled ? "on, on a large screen" : "off, 320 px wide"}`, () => {
      let context: BrowserContext;
      let page: Page;
      const audits = new Map<string, string[]>();
      const viewport = javaScriptEnabled ? { width: 1280, height: 900 } : { width: 320, height: 800 };
      /** Where axe runs, at the same size as the page under test (the narrow layout is audited too). */
      let auditor: BrowserContext;
      /** Audits and photographs the page the browser shows now, under `name`. */
      const record = async (name: string) => {
        audits.set(name, await seriousViolations(auditor, page.url(), await page.content(), LEFT_TO_ITS_OWN_TEST));
        await page.screenshot({ path: join(ARTIFACTS, `pages-${name}-${mode}.png`), fullPage: true });
      };
      /** Clicks a submit button and waits for the page the form's answer shows. */
      const submitWith = async (name: string) => {
        const [response] = await Promise.all([
          page.waitForEvent("response"),
          page.getByRole("button", { name }).click(),
        ]);
        await page.waitForLoadState("load");
        return response;
      };
      let badStatus = 0;
      let goodStatus = 0;
      let token = "";

      beforeAll(async () => {
        context = await browser.newContext({
          javaScriptEnabled,
          viewport,
        });
        auditor = await browser.newContext({ viewport });
        if (javaScriptEnabled) await context.grantPermissions(["clipboard-read", "clipboard-write"]);
        page = await context.newPage();
        await page.goto(`${service.url}/submit`);
        await record("submit");
        for (const [selector, value] of Object.entries(TEXT_FIELDS)) await page.fill(selector, value);
        await page.selectOption("#taskType", "classification");
        const tag = `${mode}-${crypto.randomUUID()}`;
        await page.setInputFiles("#file", {
          name: "task.csv",
          mimeType: "text/csv",
          buffer: memoTrapTask(`"Ada asks: say ${tag}","[' a', ' b']",7`),
        });
        badStatus = (await submitWith("Check and submit")).status();
        await record("errors");
      }, 60_000);
      afterAll(async () => {
        await context?.close();
        await auditor?.close();
      });

      it("shows the bad file's errors with their line numbers", async () => {
        expect(badStatus).toBe(422);
        await expect(page.locator(".report .where").first().textContent()).resolves.toBe(
          "Line 602, column answer_index",
        );
      });

      it("keeps every field that was filled in", async () => {
        for (const [selector, value] of Object.entries(TEXT_FIELDS))
          await expect(page.inputValue(selector), selector).resolves.toBe(value);
        await expect(page.inputValue("#taskType")).resolves.toBe("classification");
      });

      it("fits the page in the window's width", async () => {
        const widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]");
        expect(widths).toEqual(javaScriptEnabled ? [1280, 1280] : [320, 320]);
      });

      describe("once the file is fixed and submitted", () => {
        beforeAll(async () => {
          await page.setInputFiles("#file", {
            name: "task.csv",
            mimeType: "text/csv",
            buffer: memoTrapTask(`"Ada asks: say ${mode}-${crypto.randomUUID()}","[' a', ' b']",0`),
          });
          goodStatus = (await submitWith("Check and submit")).status();
          token = await page.inputValue("#token");
          await record("token");
        }, 60_000);

        it("shows the token once, in a read-only field", async () => {
          expect(goodStatus).toBe(201);
          expect(token).toMatch(/^isv_st_[A-Za-z0-9_-]{43}$/);
          await expect(page.locator("#token").getAttribute("readonly")).resolves.toBe("");
        });

        it(
          javaScriptEnabled
            ? "copies the token with the copy button"
            : "leaves the copy button hidden, since it needs script",
          async () => {
            const button = page.getByRole("button", { name: "Copy the token" });
            if (!javaScriptEnabled) return expect(button.isVisible()).resolves.toBe(false);
            await button.click();
            await expect.poll(() => page.locator("#token-status").textContent()).toBe("Copied to the clipboard.");
            await expect(page.evaluate("navigator.clipboard.readText()")).resolves.toBe(token);
          },
        );

        describe("on the status page, signed in with the token", () => {
          let signInUrl = "";
          beforeAll(async () => {
            await page.getByRole("link", { name: "the task's status page" }).click();
            await page.waitForLoadState("load");
            signInUrl = page.url();
            await record("sign-in");
            await page.fill("#token", token);
            await submitWith("Sign in");
            await record("status");
          }, 60_000);

          it("shows the task, its state and its evaluation's progress", async () => {
            await expect(page.locator("h1").textContent()).resolves.toBe(TEXT_FIELDS["#title"]);
            await expect(page.locator("#state").textContent()).resolves.toBe(
              "Valid: being evaluated, then reviewed by the organisers",
            );
            await expect(page.locator("caption").first().textContent()).resolves.toMatch(
              /^isv-reference: (queued|evaluating|evaluated)$/,
            );
            await expect(page.locator("progress").count()).resolves.toBe(5);
          });

          it("offers to stop reloading whenever it reloads itself", async () => {
            const reloads = await page.locator('meta[http-equiv="refresh"]').count();
            const stop = await page.getByRole("link", { name: "Stop reloading" }).count();
            expect(stop).toBe(reloads);
          });

          it("never puts the token in a URL", () => {
            expect([signInUrl, page.url()].some((url) => url.includes(token))).toBe(false);
            expect(page.url()).toBe(signInUrl);
          });

          it("finds no serious or critical accessibility issue on any page", () => {
            expect(Object.fromEntries(audits)).toEqual({
              submit: [],
              errors: [],
              token: [],
              "sign-in": [],
              status: [],
            });
          });
        });
      });
    });
  }
});
