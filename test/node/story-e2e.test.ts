import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFERENCE_CONFIG, startDevServer } from "../../scripts/dev-server.mjs";
import { validateLeaderboard } from "../../src/generated/validators";
import { defined } from "../defined";
import { ROOT, freePort, createTokenWithCli } from "./helpers";

/**
 * The whole story over HTTP, as people would live it: submit, evaluate on the reference family, review, accept,
 * and appear on the leaderboard JSON and page (and the reverse for a rejected task). The page is checked in
 * headless Chromium (Debian's package; .ci/run installs it and sets ISV_REQUIRE_BROWSER so it cannot be skipped).
 */
const BROWSER = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveBrowser = existsSync(BROWSER);
if (!haveBrowser && process.env.ISV_REQUIRE_BROWSER)
  throw new Error(`ISV_REQUIRE_BROWSER is set but there is no browser at ${BROWSER}`);
if (!haveBrowser)
  console.warn(
    `story-e2e: no Chromium at ${BROWSER}; the page checks are skipped (apt-get install chromium to run them)`,
  );

const HOSTILE_TITLE = `<script>window.pwned = 1</script> Memo trap "quoted" & <b>bold</b>`;

describe.skipIf(!haveBrowser)("the whole story: submit, evaluate, review, accept, publish", () => {
  let reference: { url: string; stop: () => Promise<void> };
  let service: { url: string; stop: () => Promise<void> };
  const state = mkdtempSync(join(tmpdir(), "isv-story-"));
  let token = "";

  beforeAll(async () => {
    token = (await createTokenWithCli("organiser", state)).stdout.trim();
    reference = await startDevServer({ config: REFERENCE_CONFIG, port: await freePort() });
    service = await startDevServer({
      port: await freePort(),
      persistTo: state,
      vars: { DEFAULT_FAMILIES: "isv-reference", REFERENCE_BASE_URL: `${reference.url}/v1` },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await reference?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  const organiser = (path: string, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });

  async function submitAndEvaluate(task: string, title: string): Promise<string> {
    const metadata = {
      ...JSON.parse(readFileSync(join(ROOT, "fixtures/metadata/classification.json"), "utf8")),
      title,
      authors: [{ name: "Ada <i>Researcher</i>", agreesToBeNamed: true }],
    };
    const form = new FormData();
    form.append("metadata", JSON.stringify(metadata));
    form.append("file", new Blob([readFileSync(join(ROOT, "fixtures/tasks/reference", task))]), task);
    const created = (await (await fetch(`${service.url}/v1/submissions`, { method: "POST", body: form })).json()) as {
      id: string;
      evaluations: { id: string }[];
    };
    const evaluation = defined(created.evaluations[0], `an evaluation queued at upload of ${task}`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const summary = (await (await organiser(`/v1/review/evaluations/${evaluation.id}`)).json()) as {
        state: string;
      };
      if (summary.state === "evaluated") return created.id; // analysed before it is marked ended
      if (["failed", "partially_evaluated"].includes(summary.state) || Date.now() > deadline)
        throw new Error(`evaluation ended ${summary.state}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  describe("once one task is accepted and another rejected", () => {
    let accepted: string;
    let rejected: string;
    let board: { tasks: { id: string; title: string; families: { family: string; verdict: string }[] }[] };

    beforeAll(async () => {
      accepted = await submitAndEvaluate("memo-trap-inverse.csv", HOSTILE_TITLE);
      rejected = await submitAndEvaluate("facts-standard.csv", "Facts that larger models know better");
      expect(
        (
          await organiser(`/v1/review/submissions/${accepted}/decision`, {
            method: "POST",
            body: JSON.stringify({ decision: "accept", note: "Clear inverse scaling." }),
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await organiser(`/v1/review/submissions/${rejected}/decision`, {
            method: "POST",
            body: JSON.stringify({ decision: "reject", note: "Standard scaling." }),
          })
        ).status,
      ).toBe(200);
      board = (await (await fetch(`${service.url}/v1/leaderboard`)).json()) as typeof board;
    }, 180_000);

    it("the leaderboard JSON matches its schema", () => {
      expect(validateLeaderboard(board)).toBe(true);
    });

    it("the leaderboard JSON lists the accepted task and not the rejected one", () => {
      expect(board.tasks.map((task) => task.id)).toEqual([accepted]);
    });

    it("the leaderboard JSON gives the title exactly as submitted, with the verdict", () => {
      expect(board.tasks[0]).toMatchObject({
        title: HOSTILE_TITLE,
        families: [{ family: "isv-reference", verdict: "inverse" }],
      });
    });

    describe("the leaderboard page, in a browser", () => {
      let browser: Browser;
      let page: Page;
      let status: number | undefined;

      beforeAll(async () => {
        browser = await chromium.launch({
          executablePath: BROWSER,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        });
        page = await browser.newPage({ javaScriptEnabled: true });
        status = (await page.goto(`${service.url}/`))?.status();
      });
      afterAll(async () => {
        if (page) {
          mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
          await page.screenshot({ path: join(ROOT, "test-artifacts", "leaderboard.png"), fullPage: true });
        }
        await browser?.close();
      });

      it("is served", () => {
        expect(status).toBe(200);
      });

      it("shows the accepted task's title as text, ranked first", async () => {
        expect(await page.locator(`#task-${accepted} h2`).textContent()).toBe(`#1 ${HOSTILE_TITLE}`);
      });

      it("runs no script from the title", async () => {
        expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
      });

      it("shows the authors' names as text", async () => {
        expect(await page.locator(`#task-${accepted} .meta`).textContent()).toContain("Ada <i>Researcher</i>");
      });

      it("shows the verdict", async () => {
        expect(await page.locator(`#task-${accepted} .verdict`).textContent()).toBe("inverse");
      });

      it("leaves out the rejected task", async () => {
        expect(await page.locator(`#task-${rejected}`).count()).toBe(0);
      });

      it("loads the plot", async () => {
        const plotWidth = await page
          .locator(`#task-${accepted} img`)
          .evaluate((image: HTMLImageElement) => image.decode().then(() => image.naturalWidth));
        expect(plotWidth).toBe(720);
      });
    });
  });
});
