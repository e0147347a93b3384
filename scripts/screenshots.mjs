#!/usr/bin/env node
// Crops the README's screenshots (docs/screenshots/pages-*.png) from the whole-page photographs the story test takes
// (test-artifacts/pages-story-*-js.png). Run `npx vitest run test/node/pages-story.test.ts` first, then
// `npm run screenshots`. There is no image library here: Chromium (found as the browser tests find it) shows the
// regions cut from each photograph, stacked, and photographs that.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const ARTIFACTS = join(ROOT, "test-artifacts");
const SCREENSHOTS = join(ROOT, "docs", "screenshots");
const BROWSER = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Between two regions cut from one photograph, so no one reads them as continuous. */
const SEAM = "4px dashed #bbb";
const SEAM_PX = 4;

/**
 * Each screenshot: the photograph it is cut from, and the regions kept, [top, height] in pixels, top to bottom.
 * The regions follow the pages' layout: when a page changes, look at the photograph and move them.
 */
const SCREENSHOTS_TO_CUT = [
  { output: "pages-submit-errors.png", source: "pages-story-errors-js.png", regions: [[0, 760]] },
  { output: "pages-status.png", source: "pages-story-status-js.png", regions: [[0, 1330]] },
  {
    output: "pages-review-task.png",
    source: "pages-story-desk-task-js.png",
    regions: [
      [0, 320],
      [800, 960],
      [2990, 560],
      [4630, 580],
    ],
  },
  { output: "pages-leaderboard.png", source: "pages-story-leaderboard-js.png", regions: [[0, 1330]] },
];

/** A PNG's size, from its IHDR chunk (always first: width and height at bytes 16 to 23). */
function pngSize(path) {
  const header = readFileSync(path).subarray(0, 24);
  if (header.toString("latin1", 12, 16) !== "IHDR") throw new Error(`${path} is not a PNG`);
  return { width: header.readUInt32BE(16), height: header.readUInt32BE(20) };
}

/** Stops with what is missing and how to make it, before starting a browser. */
function checkInputs() {
  const problems = [];
  if (!existsSync(BROWSER)) problems.push(`no Chromium at ${BROWSER} (set CHROMIUM_PATH, or apt-get install chromium)`);
  for (const { source, regions } of SCREENSHOTS_TO_CUT) {
    const path = join(ARTIFACTS, source);
    if (!existsSync(path)) {
      problems.push(`missing test-artifacts/${source}`);
      continue;
    }
    const { height } = pngSize(path);
    for (const [top, size] of regions)
      if (top + size > height)
        problems.push(`test-artifacts/${source} is ${height} px tall: the region [${top}, ${size}] runs past it`);
  }
  if (problems.length === 0) return;
  console.error(
    `screenshots: cannot cut the screenshots:\n  ${problems.join("\n  ")}\n` +
      "Run `npx vitest run test/node/pages-story.test.ts` first (it photographs every page into test-artifacts/).",
  );
  process.exit(1);
}

/** A page showing the regions of one photograph stacked, each a window onto the image moved up by its top. */
function stackedRegions(source, regions, width) {
  const image = pathToFileURL(join(ARTIFACTS, source)).href;
  const parts = regions.map(
    ([top, height], index) =>
      `<div style="width:${width}px;height:${height}px;overflow:hidden;${index < regions.length - 1 ? `border-bottom:${SEAM}` : ""}">` +
      `<img src="${image}" style="display:block;margin-top:-${top}px" alt=""></div>`,
  );
  return `<!doctype html><body style="margin:0">${parts.join("")}</body>`;
}

async function main() {
  checkInputs();
  const scratch = mkdtempSync(join(tmpdir(), "isv-screenshots-"));
  const browser = await chromium.launch({ executablePath: BROWSER, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    for (const { output, source, regions } of SCREENSHOTS_TO_CUT) {
      const { width } = pngSize(join(ARTIFACTS, source));
      const page = await browser.newPage({ viewport: { width, height: 800 } });
      const html = join(scratch, `${output}.html`);
      writeFileSync(html, stackedRegions(source, regions, width));
      await page.goto(pathToFileURL(html).href);
      // Every region's image decoded before the photograph (decode() rejects on a broken image).
      await page.evaluate(() => Promise.all([...document.images].map((image) => image.decode())));
      const height = regions.reduce((sum, [, size]) => sum + size, 0) + SEAM_PX * (regions.length - 1);
      await page.screenshot({ path: join(SCREENSHOTS, output), clip: { x: 0, y: 0, width, height }, fullPage: true });
      await page.close();
      console.log(`docs/screenshots/${output}: ${width} × ${height} from test-artifacts/${source}`);
    }
  } finally {
    await browser.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
