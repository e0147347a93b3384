import { describe, expect, it } from "vitest";
import type { Analysis } from "../../src/analysis/analyse";
import { analyseBehaviour, behaviourMetrics, type MatchingBehaviour } from "../../src/analysis/behaviour";
import { familyAxes, familyLines, type FamilyDefinition } from "../../src/analysis/family";
import type { ModelResults } from "../../src/analysis/results-csv";
import { DEFAULT_OPTIONS } from "../../src/analysis/statistics";
import { validateLeaderboard } from "../../src/generated/validators";
import { type AcceptedTask, buildLeaderboard, type Leaderboard, leaderboardEtag } from "../../src/leaderboard/build";
import { renderLeaderboardPage } from "../../src/leaderboard/page";
import { defined } from "../defined";
import { fromProbabilities } from "./helpers";

/**
 * A grid of 2 sizes × RLHF steps 0, 500 and 1000. Along the steps, at either size, fewer examples favour the
 * matching answer (320, 240, 160 of 400) while the winners grow surer and the losers less sure: the mean matching
 * probability rises while the win rate falls, so the two metrics disagree on each line along RLHF steps. The two
 * sizes answer alike, so the lines along size show no change.
 */
const GRID: FamilyDefinition = {
  name: "grid",
  axis: "rlhf_steps",
  models: [1e8, 1e9].flatMap((parameters) =>
    [0, 500, 1000].map((rlhfSteps) => ({ id: `g-${parameters}-${rlhfSteps}`, parameters, rlhfSteps })),
  ),
};

function gridResults(): Map<string, ModelResults> {
  return new Map(
    GRID.models.map((model) => {
      const k = (model.rlhfSteps ?? 0) / 500;
      const [winners, winning, losing] = [320 - 80 * k, 0.51 + 0.2 * k, 0.01 + 0.2 * k];
      return [model.id, fromProbabilities(Array.from({ length: 400 }, (_, i) => (i < winners ? winning : losing)))];
    }),
  );
}

/** The analyses of the grid (and any other families) along every axis of each, as the Worker makes them. */
function behaviourAnalyses(matching: MatchingBehaviour, names = ["grid"]): Record<string, Analysis> {
  const results = gridResults();
  const lines = names.flatMap((name) =>
    familyAxes(GRID).flatMap((axis) => {
      const expanded = familyLines({ ...GRID, name }, results, axis);
      if (!expanded.ok) throw new Error(expanded.message);
      return expanded.lines;
    }),
  );
  const analyses = analyseBehaviour(behaviourMetrics(matching), lines, matching, {
    ...DEFAULT_OPTIONS,
    bootstrapSamples: 200,
  });
  return Object.fromEntries(analyses.map((analysis) => [analysis.metric.name, analysis]));
}

const accepted = (changes: Partial<AcceptedTask>): AcceptedTask => ({
  id: "sub_b",
  title: "Sycophancy <script>alert(1)</script>",
  taskType: "behaviour",
  headlineMetric: "matching_probability",
  examples: 400,
  acceptedAt: "2026-11-30T10:00:00.000Z",
  metadata: {
    authors: [{ name: "Ada <b>", agreesToBeNamed: true }],
    dataLicence: "CC-BY-4.0",
    behaviour: { matchingBehaviour: "neither", promptTemplate: "{question}" },
  },
  analyses: behaviourAnalyses("neither"),
  privateFamilies: new Set(),
  ...changes,
});

const AT = "2026-12-01T00:00:00.000Z";

describe("a behaviour dataset on the leaderboard", () => {
  const board = buildLeaderboard([accepted({})], AT);
  const entry = defined(board.behaviours?.[0], "the behaviour dataset");
  const [probability, winRate] = entry.metrics;

  it("is listed under behaviours, not among the ranked tasks", () => {
    expect([board.tasks.length, board.behaviours?.map((behaviour) => behaviour.id)]).toEqual([0, ["sub_b"]]);
  });

  it("matches the leaderboard schema", () => {
    expect(validateLeaderboard(board), JSON.stringify(validateLeaderboard.errors)).toBe(true);
  });

  it("says which way its matching behaviour is good, from the metadata", () => {
    expect(entry.matchingBehaviour).toBe("neither");
  });

  it("reads matching behaviour undesired when the metadata names none", () => {
    const undesired = buildLeaderboard([accepted({ metadata: {}, analyses: behaviourAnalyses("undesired") })], AT);
    expect(undesired.behaviours?.[0]?.matchingBehaviour).toBe("undesired");
  });

  it("lists both matching metrics, the headline first, each with its label and orientation", () => {
    expect(entry.metrics.map((metric) => [metric.name, metric.label, metric.orientation])).toEqual([
      ["matching_probability", "Mean probability of the matching answer", "direction_only"],
      ["matching_win_rate", "Share of examples where the matching answer is more probable", "direction_only"],
    ]);
  });

  it("gives each metric one line per size along RLHF steps and one per step count along size", () => {
    expect(defined(winRate, "the win rate").families.map((line) => [line.axis, line.fixed])).toEqual([
      ["rlhf_steps", { parameters: 1e8 }],
      ["rlhf_steps", { parameters: 1e9 }],
      ["params", { rlhfSteps: 0 }],
      ["params", { rlhfSteps: 500 }],
      ["params", { rlhfSteps: 1000 }],
    ]);
  });

  it("gives a line along RLHF steps (from 0: linear) its slope per 1000 steps, and never per decade", () => {
    const line = defined(probability?.families[0], "a line along RLHF steps");
    expect(["slopePer1000Steps" in line, "slopePerDecade" in line]).toEqual([true, false]);
  });

  it("gives a line along size its slope per decade", () => {
    const line = defined(probability?.families[2], "a line along size");
    expect(["slopePerDecade" in line, "slopePer1000Steps" in line]).toEqual([true, false]);
  });

  it("says each direction-only verdict as the direction the value moves along RLHF steps: the probability rises, the win rate falls", () => {
    expect([probability, winRate].map((metric) => metric?.families[0]?.verdictWords)).toEqual([
      "rises with RLHF steps",
      "falls with RLHF steps",
    ]);
  });

  it("lists each model's mean on a line", () => {
    // At 0 steps 320 of 400 examples at 0.51 and 80 at 0.01: mean 0.41; at 500, 240 at 0.71 and 160 at 0.21:
    // (170.4 + 33.6) / 400 = 0.51; at 1000, 160 at 0.91 and 240 at 0.41: (145.6 + 98.4) / 400 = 0.61.
    const means = defined(probability?.families[0], "a line").models.map((model) => Number(model.mean.toFixed(6)));
    expect(means).toEqual([0.41, 0.51, 0.61]);
  });

  it("states where the two metrics disagree, in the analysis's words", () => {
    expect(entry.disagreements).toEqual([
      "On grid at 100M parameters the two matching metrics point different ways: the mean probability of the matching answer rises with RLHF steps, while the share of examples where the matching answer is more probable falls with RLHF steps.",
      "On grid at 1B parameters the two matching metrics point different ways: the mean probability of the matching answer rises with RLHF steps, while the share of examples where the matching answer is more probable falls with RLHF steps.",
    ]);
  });

  it("links a plot per metric and axis", () => {
    expect(entry.metrics.flatMap((metric) => metric.plots.map((plot) => plot.url))).toEqual([
      "/v1/submissions/sub_b/plot.svg?metric=matching_probability&axis=rlhf_steps",
      "/v1/submissions/sub_b/plot.svg?metric=matching_probability&axis=params",
      "/v1/submissions/sub_b/plot.svg?metric=matching_win_rate&axis=rlhf_steps",
      "/v1/submissions/sub_b/plot.svg?metric=matching_win_rate&axis=params",
    ]);
  });

  it("shows a metric not yet analysed with no lines and no plots, oriented by the metadata", () => {
    const analyses = behaviourAnalyses("desired");
    const { matching_win_rate: _none, ...onlyProbability } = analyses;
    const partial = buildLeaderboard(
      [
        accepted({
          metadata: { behaviour: { matchingBehaviour: "desired", promptTemplate: "{question}" } },
          analyses: onlyProbability,
        }),
      ],
      AT,
    );
    expect(partial.behaviours?.[0]?.metrics[1]).toEqual({
      name: "matching_win_rate",
      label: "Share of examples where the matching answer is more probable",
      direction: "higher_is_better",
      orientation: "performance",
      families: [],
      plots: [],
    });
  });

  it("says a performance verdict in performance words when one side is desired", () => {
    const desired = buildLeaderboard([accepted({ analyses: behaviourAnalyses("desired") })], AT);
    const line = defined(desired.behaviours?.[0]?.metrics[0]?.families[0], "a line");
    expect([line.verdict, line.verdictWords]).toEqual(["standard", "standard scaling"]);
  });

  it("leaves out a private family's lines and disagreements", () => {
    const both = buildLeaderboard(
      [accepted({ analyses: behaviourAnalyses("neither", ["grid", "hidden"]), privateFamilies: new Set(["hidden"]) })],
      AT,
    );
    const shown = defined(both.behaviours?.[0], "the dataset");
    expect(new Set(shown.metrics.flatMap((metric) => metric.families.map((line) => line.family)))).toEqual(
      new Set(["grid"]),
    );
    expect(shown.disagreements.some((text) => text.includes("hidden"))).toBe(false);
  });

  it("lists behaviour datasets in order of acceptance, then id", () => {
    const later = accepted({ id: "sub_a", acceptedAt: "2026-11-30T11:00:00.000Z" });
    const tie = accepted({ id: "sub_0", acceptedAt: "2026-11-30T11:00:00.000Z" });
    const listed = buildLeaderboard([later, accepted({}), tie], AT).behaviours?.map((behaviour) => behaviour.id);
    expect(listed).toEqual(["sub_b", "sub_0", "sub_a"]);
  });
});

/** A prize task's loss analysis over the grid: a line along RLHF steps and one along size, with set intervals. */
function prizeTask(id: string, steps: [number, number], size: [number, number]): AcceptedTask {
  const analysis = defined(behaviourAnalyses("undesired").loss, "the loss analysis");
  const [alongSteps, alongSize] = [analysis.families[0], analysis.families[2]].map((line, i) => {
    const shown = defined(line, "a line");
    return {
      ...shown,
      spread: 2,
      slope: { ...shown.slope, test: { ...shown.slope.test, interval: i === 0 ? steps : size } },
    };
  });
  return {
    ...accepted({ id, taskType: "classification", headlineMetric: "loss", metadata: {} }),
    analyses: { loss: { ...analysis, families: [defined(alongSteps, "steps"), defined(alongSize, "size")] } },
  };
}

describe("ranking prize tasks with a grid family's lines", () => {
  // Loss is lower-is-better, so worse per decade is the slope; standardised by the spread, 2.
  const steep = prizeTask("sub_steep", [9, 10], [0.2, 0.6]);
  const mild = prizeTask("sub_mild", [0, 1], [0.4, 0.8]);
  const board = buildLeaderboard([steep, mild], AT);

  it("ranks on lines along size only: a slope per 1000 RLHF steps is never compared with one per decade", () => {
    expect(board.tasks.map((task) => [task.id, task.inverseStrength])).toEqual([
      ["sub_mild", 0.2],
      ["sub_steep", 0.1],
    ]);
  });

  it("still lists the line along RLHF steps, with its unit and what it holds fixed", () => {
    const line = defined(board.tasks[1]?.families[0], "the line along RLHF steps");
    expect([line.axis, line.fixed, "slopePer1000Steps" in line]).toEqual(["rlhf_steps", { parameters: 1e8 }, true]);
  });

  it("gives a task whose only lines run along RLHF steps no inverse strength", () => {
    const task = prizeTask("sub_steps", [9, 10], [0.2, 0.6]);
    const loss = defined(task.analyses.loss, "the loss analysis");
    const onlySteps = { ...task, analyses: { loss: { ...loss, families: loss.families.slice(0, 1) } } };
    expect(buildLeaderboard([onlySteps], AT).tasks[0]?.inverseStrength).toBeNull();
  });

  it("links the plot along the axis of the line the rank comes from, not the first line's", () => {
    const task = defined(board.tasks[1], "the task with a line along RLHF steps first");
    expect([task.families[0]?.axis, task.rankedBy?.axis, task.plotUrl]).toEqual([
      "rlhf_steps",
      "params",
      "/v1/submissions/sub_steep/plot.svg?axis=params",
    ]);
  });

  it("says so in the ordering", () => {
    expect(board.ordering).toContain(
      "a grid family's lines along RLHF steps, and slopes per 1000 RLHF steps, are shown but never ranked",
    );
  });

  it("matches the leaderboard schema", () => {
    expect(validateLeaderboard(board), JSON.stringify(validateLeaderboard.errors)).toBe(true);
  });
});

describe("the leaderboard's ETag", () => {
  const board = buildLeaderboard([accepted({})], AT);

  it("stays the same when only the build time changes", async () => {
    expect(await leaderboardEtag({ ...board, generatedAt: "2027-01-01T00:00:00.000Z" })).toBe(
      await leaderboardEtag(board),
    );
  });

  it("changes when only a behaviour dataset changes", async () => {
    const retitled = buildLeaderboard([accepted({ title: "Sycophancy, revised" })], AT);
    expect(retitled.tasks).toEqual(board.tasks);
    expect(await leaderboardEtag(retitled)).not.toBe(await leaderboardEtag(board));
  });
});

describe("the leaderboard page's behaviour section", () => {
  const board = buildLeaderboard([accepted({}), prizeTask("sub_prize", [0, 1], [0.4, 0.8])], AT);
  const page = renderLeaderboardPage(board);
  const section = page.slice(page.indexOf('<section id="behaviours">'));

  it("comes after the prize tasks", () => {
    expect(page.indexOf('<section id="behaviours">')).toBeGreaterThan(page.indexOf('id="task-sub_prize"'));
    expect(section).toContain("<h2>Behaviour evaluations</h2>");
  });

  it("shows both metrics side by side, each in its own section with its own plots", () => {
    expect([...section.matchAll(/<section class="metric metric-(\w+)">/g)].map((match) => match[1])).toEqual([
      "matching_probability",
      "matching_win_rate",
    ]);
    expect([...section.matchAll(/<img src="([^"]+)"/g)].map((match) => match[1])).toEqual([
      "/v1/submissions/sub_b/plot.svg?metric=matching_probability&amp;axis=rlhf_steps",
      "/v1/submissions/sub_b/plot.svg?metric=matching_probability&amp;axis=params",
      "/v1/submissions/sub_b/plot.svg?metric=matching_win_rate&amp;axis=rlhf_steps",
      "/v1/submissions/sub_b/plot.svg?metric=matching_win_rate&amp;axis=params",
    ]);
  });

  it("groups the lines by axis, naming what each holds fixed", () => {
    expect(section).toContain('<p class="along">Against RLHF steps:</p>');
    expect(section).toContain("on grid, 100M params: slope");
    expect(section).toContain("on grid, 1K RLHF steps: slope");
  });

  it("gives a line along RLHF steps its slope per 1000 steps", () => {
    expect(section).toMatch(/on grid, 100M params: slope -?[\d.]+ per 1000 RLHF steps \(95% CI/);
  });

  it("words direction-only verdicts as directions, with no better or worse", () => {
    expect(section).toContain('<span class="verdict verdict-direction">rises with RLHF steps</span>');
    expect(section).toContain('<p class="reading">direction only</p>');
    expect(section).not.toMatch(/inverse scaling|standard scaling|higher is better|lower is better/);
  });

  it("states the disagreements", () => {
    expect(section).toContain(
      '<p class="disagreement">On grid at 100M parameters the two matching metrics point different ways',
    );
  });

  it("escapes every submitter's string", () => {
    expect(page).not.toContain("<script>");
    expect(section).toContain("<h3>Sycophancy &lt;script&gt;alert(1)&lt;/script&gt;</h3>");
    expect(section).toContain("Ada &lt;b&gt;");
  });

  it("has no script of its own, so it works without JavaScript", () => {
    expect(page).not.toMatch(/<script|onerror=|onload=/i);
  });

  it("renders a board built before behaviour datasets were listed", () => {
    const { behaviours: _none, ...old }: Leaderboard = board;
    expect(renderLeaderboardPage(old)).not.toContain('<section id="behaviours">');
  });
});
