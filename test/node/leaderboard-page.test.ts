import { describe, expect, it } from "vitest";
import type { Analysis } from "../../src/analysis/analyse";
import { validateLeaderboard } from "../../src/generated/validators";
import { type AcceptedTask, buildLeaderboard, type Leaderboard } from "../../src/leaderboard/build";
import { renderLeaderboardPage } from "../../src/leaderboard/page";
import { defined } from "../defined";
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
      "<strong>Inverse-scaling strength</strong> (robust SD per decade) is how much worse a task's headline metric gets each time models grow tenfold, in robust standard deviations of the metric over the task's examples, read at the cautious end of its 97% interval: above 0 means larger models are reliably worse.",
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
      'alt="Plot of loss against scale for Task sub_both, one panel per family: gpt3: inverted-u; isv-reference: inverse" width="720" loading="lazy">',
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
      '<p class="filtered">There is no verdict "&lt;sideways&gt;"; tasks are shown whatever their verdict.</p>',
    );
    expect([...page.matchAll(/id="task-/g)]).toHaveLength(3);
  });

  it("escapes a family asked for", () => {
    const page = renderLeaderboardPage(board, undefined, { family: "<script>x</script>" });
    expect(page).not.toContain("<script>");
    expect(page).toContain("those with a line on &lt;script&gt;x&lt;/script&gt;.");
  });
});
