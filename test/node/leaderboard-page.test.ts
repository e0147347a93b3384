import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Analysis } from "../../src/analysis/analyse";
import type { LeaderboardBehaviour } from "../../src/generated/types";
import { validateLeaderboard } from "../../src/generated/validators";
import { type AcceptedTask, buildLeaderboard, type Leaderboard } from "../../src/leaderboard/build";
import { renderLeaderboardPage } from "../../src/leaderboard/page";
import { STYLESHEET } from "../../src/pages/assets";
import { defined } from "../defined";
import { BROWSER, haveBrowser, auditRendered } from "./pages-helpers";
import { twentyFoldApart } from "./plot-scenarios";

const AT = "2026-12-01T00:00:00.000Z";
/** GPT-3 an inverted U (in performance), the reference family inverse scaling (plot-scenarios.ts). */
const BOTH = twentyFoldApart();

function prizeTask(id: string, analysis: Analysis, acceptedAt = "2026-11-30T10:00:00.000Z"): AcceptedTask {
  return {
    id,
    title: `Task ${id}`,
    taskType: "classification",
    headlineMetric: "loss",
    examples: 1320,
    acceptedAt,
    metadata: {},
    analyses: { loss: analysis },
    privateFamilies: new Set(),
  };
}

const onlyFamily = (name: string): Analysis => ({
  ...BOTH,
  families: BOTH.families.filter((family) => family.family === name),
});

const board = buildLeaderboard(
  [
    prizeTask("sub_both", BOTH),
    prizeTask("sub_gpt3", onlyFamily("gpt3")),
    prizeTask("sub_<b>", { ...BOTH, families: [] }, "2026-11-30T11:00:00.000Z"),
  ],
  AT,
);
const article = (page: string, id: string): string => {
  const start = page.indexOf(`<article class="task" id="task-${id}">`);
  return start < 0 ? "" : page.slice(start, page.indexOf("</article>", start));
};

describe("which line a rank comes from, on the leaderboard JSON", () => {
  it("names the family, axis and verdict of the line with the strongest inverse scaling", () => {
    expect(board.tasks.map((task) => [task.id, task.rankedBy])).toEqual([
      ["sub_both", { family: "isv-reference", axis: "params", verdict: "inverse" }],
      ["sub_gpt3", { family: "gpt3", axis: "params", verdict: "inverted_u" }],
      ["sub_<b>", null],
    ]);
  });

  it("matches the leaderboard schema", () => {
    expect(validateLeaderboard(board), JSON.stringify(validateLeaderboard.errors)).toBe(true);
  });

  it("keeps boards built before it valid: it is optional", () => {
    const old: Leaderboard = { ...board, tasks: board.tasks.map(({ rankedBy: _none, ...task }) => task) };
    expect(validateLeaderboard(old)).toBe(true);
  });
});

describe("the leaderboard page", () => {
  const page = renderLeaderboardPage(board);

  it("says what inverse-scaling strength means, with its unit, in one sentence", () => {
    expect(page).toContain(
      "<strong>Inverse-scaling strength</strong> (robust SD per decade) is how much worse a task&#39;s headline metric gets each time models grow tenfold, in robust standard deviations of the metric over the task&#39;s examples, read at the cautious end of its 97% interval: above 0 means larger models are reliably worse.",
    );
  });

  it("says which family and metric each rank comes from", () => {
    const strength = defined(board.tasks[0]?.inverseStrength, "the strength").toFixed(3);
    expect(article(page, "sub_both")).toContain(
      `<p class="ranked">Inverse-scaling strength <strong>${strength}</strong> robust SD per decade on isv-reference (along parameters), loss (the headline metric).</p>`,
    );
  });

  it("says next to the rank when the strongest line's verdict is not inverse", () => {
    expect(article(page, "sub_gpt3")).toContain(
      '<h2><span class="rank">#2</span> <span class="not-inverse">not inverse scaling: its strongest line is inverted-u</span> Task sub_gpt3</h2>',
    );
  });

  it("adds nothing next to the rank of a task whose strongest line is inverse", () => {
    expect(article(page, "sub_both")).toContain('<h2><span class="rank">#1</span> Task sub_both</h2>');
  });

  it("says why a task without a line to measure on has no strength", () => {
    expect(article(page, "sub_&lt;b&gt;")).toContain('<p class="ranked">Not ranked by strength: no analysis yet.</p>');
  });

  it("describes each plot by its panels' verdicts, and leaves its height to the plot", () => {
    expect(article(page, "sub_both")).toContain(
      'alt="Plot of loss against scale for Task sub_both, one panel per family: gpt3: inverted-u; isv-reference: inverse" width="720" loading="lazy"/>',
    );
  });

  it("offers a filter by family and by verdict as plain links", () => {
    expect(page).toContain(
      '<p>Family: <strong aria-current="true">any</strong> · <a href="/?family=gpt3">gpt3</a> · <a href="/?family=isv-reference">isv-reference</a></p>',
    );
    expect(page).toContain('<a href="/?verdict=inverted_u">inverted-u</a>');
  });

  it("needs no script and no form for the filter", () => {
    expect(page).not.toMatch(/<script|<form|onclick=|onchange=/i);
  });
});

describe("the leaderboard page, filtered", () => {
  it("by family shows only tasks with a line on it, with their board ranks", () => {
    const page = renderLeaderboardPage(board, undefined, { family: "isv-reference" });
    expect([...page.matchAll(/<span class="rank">#(\d+)<\/span>/g)].map((match) => match[1])).toEqual(["1"]);
    expect(page).toContain(
      '<p class="filtered">Showing 1 of 3 ranked tasks: those with a line on isv-reference. Ranks are those of the whole board.</p>',
    );
  });

  it("by verdict shows only tasks with a line of that verdict", () => {
    const page = renderLeaderboardPage(board, undefined, { verdict: "inverted_u" });
    expect([...page.matchAll(/id="task-([^"]+)"/g)].map((match) => match[1])).toEqual(["sub_both", "sub_gpt3"]);
  });

  it("by both asks them of the same line", () => {
    const page = renderLeaderboardPage(board, undefined, { family: "isv-reference", verdict: "inverted_u" });
    expect(page).not.toContain('id="task-');
    expect(page).toContain("<p>No ranked task matches.</p>");
  });

  it("keeps the other choice in each link", () => {
    const page = renderLeaderboardPage(board, undefined, { family: "gpt3" });
    expect(page).toContain('<a href="/?family=gpt3&amp;verdict=inverse">inverse</a>');
    expect(page).toContain('<strong aria-current="true">gpt3</strong>');
  });

  it("says a verdict it does not know is not applied", () => {
    const page = renderLeaderboardPage(board, undefined, { verdict: "<sideways>" });
    expect(page).toContain(
      '<p class="filtered">There is no verdict &quot;&lt;sideways&gt;&quot;; tasks are shown whatever their verdict.</p>',
    );
    expect([...page.matchAll(/id="task-/g)]).toHaveLength(3);
  });

  it("escapes a family asked for", () => {
    const page = renderLeaderboardPage(board, undefined, { family: "<script>x</script>" });
    expect(page).not.toContain("<script>");
    expect(page).toContain("those with a line on &lt;script&gt;x&lt;/script&gt;.");
  });
});

describe("the leaderboard page in the site's layout", () => {
  const page = renderLeaderboardPage(board);

  it("links the submit page from the site's navigation", () => {
    expect(page).toMatch(/<nav aria-label="Site">.*<a href="\/submit">Submit a task<\/a>.*<\/nav>/);
  });

  it("marks the leaderboard as the section the navigation is on", () => {
    expect(page).toContain('<a href="/" aria-current="page">Leaderboard</a>');
  });

  it("styles itself with the pages' stylesheet, nothing inline", () => {
    expect([page.includes('<link rel="stylesheet" href="/assets/pages.css"/>'), /<style|style=/.test(page)]).toEqual([
      true,
      false,
    ]);
  });

  it("links the submit page from the line saying a round is open", () => {
    const round = { name: "Round 1", opensAt: "2026-11-01T00:00:00Z", closesAt: "2026-12-31T00:00:00Z" };
    expect(renderLeaderboardPage(board, { open: true, round })).toContain(
      '<p class="status">Submissions for Round 1 are open until 2026-12-31T00:00:00Z. <a href="/submit">Submit a task</a>.</p>',
    );
  });

  it("keeps the board's data links in the footer", () => {
    expect(page).toContain(
      '<footer class="site"><p>Generated 2026-12-01T00:00:00.000Z. Data: <a href="/v1/leaderboard">JSON</a>',
    );
  });
});

describe("a task's submitted text on the page", () => {
  const HOSTILE = `<img src=x onerror=alert(1)> & "Ada's"`;
  const ESCAPED = "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Ada&#39;s&quot;";
  const hostile = buildLeaderboard(
    [
      {
        ...prizeTask("sub_h", BOTH),
        title: HOSTILE,
        metadata: { authors: [{ name: "<i>Ada</i>", agreesToBeNamed: true }] },
      },
    ],
    AT,
  );
  const page = renderLeaderboardPage(hostile);

  it("shows a title with markup as text", () => {
    expect(article(page, "sub_h")).toContain(`<h2><span class="rank">#1</span> ${ESCAPED}</h2>`);
  });

  it("escapes the title in the plot's description", () => {
    expect(article(page, "sub_h")).toContain(`for ${ESCAPED}, one panel per family`);
  });

  it("shows an author's name with markup as text", () => {
    expect(article(page, "sub_h")).toContain('<p class="meta">&lt;i&gt;Ada&lt;/i&gt; · classification');
  });

  it("carries none of the markup", () => {
    expect(page).not.toMatch(/<img src=x|<i>Ada/);
  });
});

/** A behaviour dataset with both metrics, one line each, so the audit sees the side-by-side metrics too. */
const BEHAVIOUR: LeaderboardBehaviour = {
  id: "sub_beh",
  title: "Sycophancy on political questions",
  examples: 400,
  authors: [{ name: "Ada Researcher", affiliation: "Example University" }],
  dataLicence: "CC-BY-4.0",
  acceptedAt: AT,
  matchingBehaviour: "neither",
  disagreements: ["On grid at 100M parameters the two matching metrics point different ways."],
  metrics: (["matching_probability", "matching_win_rate"] as const).map((name) => ({
    name,
    label: name === "matching_probability" ? "Mean probability of the matching answer" : "Share of examples",
    direction: "higher_is_better",
    orientation: "direction_only",
    families: [
      {
        family: "grid",
        axis: "rlhf_steps",
        fixed: { parameters: 1e8 },
        verdict: "inverse",
        verdictWords: "rises with RLHF steps",
        slopePer1000Steps: 0.2,
        slopeCi95: [0.1, 0.3],
        models: [0, 500, 1000].map((steps, i) => ({
          id: `grid-100m-${steps}`,
          scale: steps,
          mean: 0.41 + i / 10,
          standardError: 0.01,
        })),
      },
    ],
    plots: [{ axis: "rlhf_steps", url: `/v1/submissions/sub_beh/plot.svg?metric=${name}&axis=rlhf_steps` }],
  })),
};

describe.skipIf(!haveBrowser)("the leaderboard page in Chromium", () => {
  const URL = "http://isv.test/";
  const round = { name: "Round 1", opensAt: "2026-11-01T00:00:00Z", closesAt: "2026-12-31T00:00:00Z" };
  const html = renderLeaderboardPage({ ...board, behaviours: [BEHAVIOUR] }, { open: true, round });
  /** A stand-in plot as wide as the real ones (720 px), so the narrow layout has to shrink it. */
  const PLOT =
    '<svg xmlns="http://www.w3.org/2000/svg" width="720" height="400"><rect width="720" height="400" fill="#eee"/></svg>';
  let browser: Browser;
  const seen = new Map<number, { violations: string[]; scrollWidth: number }>();

  /** The page at this width, as served, with the pages' stylesheet and the plots: its audit and its scroll width. */
  async function visit(width: number): Promise<void> {
    const stylesheet = { url: `${URL}assets/pages.css`, css: STYLESHEET };
    const routes = { "**/plot.svg*": { contentType: "image/svg+xml", body: PLOT } };
    seen.set(width, await auditRendered(browser, { url: URL, html, width, stylesheet, routes }));
  }

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: BROWSER, args: ["--no-sandbox", "--disable-gpu"] });
    await visit(1280);
    await visit(320);
  }, 60_000);
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
