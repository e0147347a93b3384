import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenWithCli } from "./helpers";
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
 * The whole story through the pages only, in Chromium against the real Worker under wrangler dev, once with
 * JavaScript off and once on: a bad file and its errors, the fixed file, the status page followed to the end of its
 * evaluation on the reference family, the organiser's sign-in on the review desk, the task in the list, its page
 * (plots, the examples that drive the verdict), the decision, and the task on the leaderboard page. axe-core audits
 * the replace page and the desk's pages; screenshots of every page go to test-artifacts/pages-story-*.png.
 */
/** The reference family evaluates the 301-example task in seconds; the status page reloads every 10 s. */
const EVALUATION_TIMEOUT_MS = 60_000;

/* axe runs with no rule disabled here: the replace page and the desk's pages never reload themselves
   (pages-browser.test.ts says why `meta-refresh` is left out there, for the status page). */

describe.skipIf(!haveBrowser)("the whole story through the pages, in Chromium", () => {
  let stack: PagesStack | undefined;
  let service: { url: string };
  let browser: Browser;
  let organiserToken = "";
  const state = mkdtempSync(join(tmpdir(), "isv-pages-story-"));

  beforeAll(async () => {
    // The token is made as an organiser makes one, before the service starts on the same local state.
    organiserToken = (await createTokenWithCli("organiser", state, "pages story")).stdout.trim();
    stack = await startPagesStack(state);
    ({ service, browser } = stack);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  for (const javaScriptEnabled of [false, true]) {
    const mode = javaScriptEnabled ? "js" : "no-js";
    describe(`with JavaScript ${javaScriptEnabled ? "on" : "off"}`, () => {
      const title = `Memo trap <b>story</b> & "${mode}"`;
      let context: BrowserContext;
      let auditor: BrowserContext;
      let page: Page;
      const audits = new Map<string, string[]>();
      const seen = {
        badStatus: 0,
        firstError: "",
        goodStatus: 0,
        id: "",
        finalCaption: "",
        reloadsWhenEnded: -1,
        replaceFileInputs: 0,
        statusTitle: "",
        listState: "",
        verdicts: [] as string[],
        plotWidths: [] as number[],
        driverCount: 0,
        firstDriver: "",
        decisionNotice: "",
        deskState: "",
        boardTitle: "",
        boardVerdict: "",
      };

      /** Photographs the page the browser shows now as `name`, and audits it when asked. */
      const record = async (name: string, audit = false) => {
        if (audit) audits.set(name, await seriousViolations(auditor, page.url(), await page.content()));
        await page.screenshot({ path: join(ARTIFACTS, `pages-story-${name}-${mode}.png`), fullPage: true });
      };
      /** Clicks a submit button and waits for the page the form's answer shows (after any redirect). */
      const submitWith = async (name: string) => {
        const [response] = await Promise.all([
          page.waitForEvent("response", (answer) => answer.request().method() === "POST"),
          page.getByRole("button", { name, exact: true }).click(),
        ]);
        await page.waitForLoadState("load");
        return response;
      };
      const upload = (lastRecord: string) =>
        page.setInputFiles("#file", { name: "task.csv", mimeType: "text/csv", buffer: memoTrapTask(lastRecord) });

      /** Submit a bad file, then the fixed one; the status page's link gives the submission's id. */
      async function submit(): Promise<void> {
        await page.goto(`${service.url}/submit`);
        for (const [selector, value] of Object.entries(submitFields(title))) await page.fill(selector, value);
        await page.selectOption("#taskType", "classification");
        const tag = `${mode}-${crypto.randomUUID()}`;
        await upload(`"Ada asks: say ${tag}","[' a', ' b']",7`);
        seen.badStatus = (await submitWith("Check and submit")).status();
        seen.firstError = (await page.locator(".report .where").first().textContent()) ?? "";
        await record("errors");
        await upload(`"Ada asks: say ${tag}","[' a', ' b']",0`);
        seen.goodStatus = (await submitWith("Check and submit")).status();
        await record("token");
        const token = await page.inputValue("#token");
        await page.getByRole("link", { name: "the task's status page" }).click();
        await page.waitForLoadState("load");
        seen.id = new URL(page.url()).pathname.split("/").at(-1) ?? "";
        await page.fill("#token", token);
        await submitWith("Sign in");
      }

      /** The status page reloads itself (a meta refresh, no script) until the evaluation ends. */
      async function followEvaluation(): Promise<void> {
        await record("status-evaluating");
        const ended = page.locator("caption", { hasText: /^isv-reference: (evaluated|partially_evaluated|failed)/ });
        await ended.waitFor({ timeout: EVALUATION_TIMEOUT_MS });
        await page.waitForLoadState("load");
        seen.finalCaption = (await ended.textContent()) ?? "";
        seen.reloadsWhenEnded = await page.locator('meta[http-equiv="refresh"]').count();
        seen.statusTitle = (await page.locator("h1").textContent()) ?? "";
        await record("status");
        // The file is replaced on a page of its own (the status page's reloads would clear a chosen file).
        await page.getByRole("link", { name: "Replace the task file" }).click();
        await page.waitForLoadState("load");
        seen.replaceFileInputs = await page.locator('input[type="file"]').count();
        await record("replace-file", true);
      }

      /** Sign in on the desk, find the task in the list, read its page and accept it. */
      async function review(): Promise<void> {
        await page.goto(`${service.url}/review`);
        await record("desk-sign-in", true);
        await page.fill("#token", organiserToken);
        await submitWith("Sign in");
        await record("desk-list", true);
        const row = page.locator("tbody tr", { has: page.getByRole("link", { name: title, exact: true }) });
        seen.listState = (await row.locator("td").first().textContent()) ?? "";
        await row.getByRole("link", { name: title, exact: true }).click();
        await page.waitForLoadState("load");
        const verdicts = page.locator('section[aria-labelledby="verdicts-heading"]');
        seen.verdicts = await verdicts.locator("li").allTextContents();
        // Every plot: a lazy image below the fold never loads by itself, so each is made eager first; decode()
        // then waits for it and fails on a broken one (0 here).
        seen.plotWidths = await verdicts.locator("img").evaluateAll((images: HTMLImageElement[]) =>
          Promise.all(
            images.map((image) => {
              image.loading = "eager";
              return image.decode().then(
                () => image.naturalWidth,
                () => 0,
              );
            }),
          ),
        );
        const drivers = page.locator(".drivers > li");
        seen.driverCount = await drivers.count();
        seen.firstDriver = (await drivers.first().locator("p").first().textContent()) ?? "";
        await record("desk-task", true);
        await page.check("#decision-accept");
        await page.fill("#note", "Clear inverse scaling, and the driving examples are the phenomenon.");
        await submitWith("Decide");
        seen.decisionNotice = (await page.getByRole("status").textContent()) ?? "";
        seen.deskState = (await page.locator("#state").textContent()) ?? "";
        await record("desk-decided");
      }

      async function findOnLeaderboard(): Promise<void> {
        await page.goto(`${service.url}/`);
        // Read without waiting: a task missing from the page fails its own test, not the whole story.
        seen.boardTitle = (await page.locator(`#task-${seen.id} h2`).allTextContents()).join(" | ");
        seen.boardVerdict = (await page.locator(`#task-${seen.id} .verdict`).allTextContents()).join(" | ");
        await record("leaderboard");
      }

      beforeAll(async () => {
        const viewport = { width: 1280, height: 900 };
        context = await browser.newContext({ javaScriptEnabled, viewport });
        auditor = await browser.newContext({ viewport });
        page = await context.newPage();
        await submit();
        await followEvaluation();
        await review();
        await findOnLeaderboard();
      }, 90_000);
      afterAll(async () => {
        await context?.close();
        await auditor?.close();
      });

      it("shows the bad file's errors with their line numbers", () => {
        expect([seen.badStatus, seen.firstError]).toEqual([422, "Line 602, column answer_index"]);
      });

      it("accepts the fixed file", () => {
        expect(seen.goodStatus).toBe(201);
        expect(seen.id).toMatch(/^[0-9A-Za-z_-]+$/);
      });

      it("follows the evaluation on the status page to its end, then stops reloading", () => {
        expect([seen.statusTitle, seen.finalCaption, seen.reloadsWhenEnded]).toEqual([
          title,
          "isv-reference: evaluated",
          0,
        ]);
      });

      it("links the replace page from the status page, with the file input there", () => {
        expect(seen.replaceFileInputs).toBe(1);
      });

      it("lists the task on the review desk, awaiting review", () => {
        expect(seen.listState).toBe("valid");
      });

      it("shows each metric's verdict and plot on the desk's task page, the headline first", () => {
        expect(seen.verdicts).toEqual(["isv-reference: inverse", "isv-reference: inverse", "isv-reference: standard"]);
        expect(seen.plotWidths).toEqual([720, 720, 720]);
      });

      it("shows the ten examples that drive the verdict, each with its line", () => {
        expect(seen.driverCount).toBe(10);
        expect(seen.firstDriver).toMatch(
          /^Example \d+ \(line \d+\): -?\d+\.\d{3} → -?\d+\.\d{3} \(worse by \d+\.\d{3}\)$/,
        );
      });

      it("accepts the task with the decision form", () => {
        expect([seen.decisionNotice, seen.deskState]).toEqual(["Decided: the submission is now accepted.", "accepted"]);
      });

      it("shows the accepted task on the leaderboard page, its title as text", () => {
        expect(seen.boardTitle).toMatch(/^#\d+ /);
        expect(seen.boardTitle.replace(/^#\d+ /, "")).toBe(title);
        expect(seen.boardVerdict).toBe("inverse");
      });

      it("finds no serious or critical accessibility issue on the replace page and the desk's pages", () => {
        expect(Object.fromEntries(audits)).toEqual({
          "replace-file": [],
          "desk-sign-in": [],
          "desk-list": [],
          "desk-task": [],
        });
      });
    });
  }
});
