import { describe, expect, it } from "vitest";
import { validateLeaderboard } from "../../src/generated/validators";
import { type AcceptedTask, buildLeaderboard } from "../../src/leaderboard/build";
import { renderLeaderboardPage } from "../../src/leaderboard/page";
import { defined } from "../defined";
import { slices } from "./slices-scenarios";

/**
 * An accepted task with a control and a variant on the leaderboard: its public contrasts in the JSON and on the
 * page, with the figure; a task without them listed exactly as before.
 */
const withSlices = slices();
// The same contrasts again on a family marked private: never listed.
withSlices.contrasts = [
  ...withSlices.contrasts,
  ...withSlices.contrasts.map((contrast) => ({ ...contrast, family: "hidden" })),
];

const task = (id: string, changes: Partial<AcceptedTask> = {}): AcceptedTask => ({
  id,
  title: "Memo trap",
  taskType: "classification",
  headlineMetric: "loss",
  examples: 1320,
  acceptedAt: "2026-11-30T10:00:00.000Z",
  metadata: {},
  analyses: { loss: defined(withSlices.slices[0]?.analysis, "the task's analysis") },
  privateFamilies: new Set(["hidden"]),
  ...changes,
});

const board = buildLeaderboard([task("sub_plain"), task("sub_slices", { slices: withSlices })], "2026-11-30T12:00:00Z");
const entry = (id: string) =>
  defined(
    board.tasks.find((candidate) => candidate.id === id),
    id,
  );

describe("a task with a control and a variant on the leaderboard", () => {
  it("lists its contrasts on public family lines only, with the figure's URL", () => {
    const listed = entry("sub_slices");
    expect(listed.contrasts?.map(({ family, other, claim }) => [family, other.label, claim])).toEqual([
      ["isv-reference", 'facts <b onload="x()">&.csv', "excludes_zero"],
      ["isv-reference", "few-shot", "excludes_zero"],
    ]);
    expect(listed.slicesPlotUrl).toBe("/v1/submissions/sub_slices/slices.svg");
  });

  it("gives each contrast's difference, interval, unit, pairing, claim and statement", () => {
    const [first] = withSlices.contrasts;
    expect(entry("sub_slices").contrasts?.[0]).toEqual({
      family: "isv-reference",
      axis: "params",
      other: { role: "control", label: 'facts <b onload="x()">&.csv' },
      pairing: "unpaired",
      per: "decade",
      estimate: first?.difference.estimate,
      interval: first?.difference.test.interval,
      level: 0.95,
      claim: "excludes_zero",
      taskTrend: "worse",
      side: "above",
      statement: first?.statement,
    });
  });

  it("is valid against the leaderboard's schema", () => {
    expect(validateLeaderboard(JSON.parse(JSON.stringify(board)))).toBe(true);
  });

  it("lists a task without controls or variants with exactly the keys it had before", () => {
    expect(Object.keys(entry("sub_plain"))).toEqual([
      "rank",
      "id",
      "title",
      "examples",
      "authors",
      "dataLicence",
      "acceptedAt",
      "taskType",
      "inverseStrength",
      "rankedBy",
      "metric",
      "families",
      "plotUrl",
    ]);
  });

  it("says each contrast under the task on the page, escaped, with the figure", () => {
    const html = renderLeaderboardPage(board);
    const article = defined(html.split('<article class="task" id="task-sub_slices">')[1], "the task's article");
    expect(article).toContain(
      "<li>On isv-reference, task − control &quot;facts &lt;b onload=&quot;x()&quot;&gt;&amp;.csv&quot;: +0.4 per decade",
    );
    expect(article).toContain('<img src="/v1/submissions/sub_slices/slices.svg" alt="Memo trap: the task beside');
    expect(html).not.toContain("On hidden,");
    const plain = defined(html.split('<article class="task" id="task-sub_plain">')[1], "the plain task's article");
    expect(plain.split("</article>")[0]).not.toContain("contrasts");
  });
});
