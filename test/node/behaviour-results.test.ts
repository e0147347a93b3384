import { describe, expect, it } from "vitest";
import {
  behaviourMetrics,
  chooseBehaviourMetric,
  withBehaviourColumns,
  type MatchingBehaviour,
} from "../../src/analysis/behaviour";
import { RESULT_COLUMNS } from "../../src/analysis/results-columns";
import { parseResultsCsv, writeResultsCsv, type ModelResults } from "../../src/analysis/results-csv";
import { exampleMetrics } from "../../src/evaluate/metrics";
import { defined } from "../defined";
import { fromProbabilities } from "./helpers";

const column = (results: ModelResults, name: keyof ModelResults["columns"]): number[] => [
  ...defined(results.columns[name], `column ${name}`),
];
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

describe("behaviour results files", () => {
  const text =
    "index,logprob_matching,logprob_not_matching\n" +
    "0,-0.6931471805599453,-0.6931471805599453\n" +
    "1,-800,-801\n" +
    "2,-1e-20,-46.051701859880914\n" +
    "3,-12.5,-0.000003726\n";

  it("read and written back byte for byte, through the one column table", () => {
    const parsed = parseResultsCsv(text, "behaviour", 4);
    if (!parsed.ok) throw new Error(parsed.problems.join("; "));
    expect(parsed.warnings).toEqual([]);
    expect(RESULT_COLUMNS.behaviour).toEqual(["logprob_matching", "logprob_not_matching"]);
    const lm = column(parsed.results, "logprob_matching");
    const ln = column(parsed.results, "logprob_not_matching");
    const rows = lm.map((value, index) => ({
      index,
      metrics: { logprob_matching: value, logprob_not_matching: defined(ln[index], "a log-probability") },
    }));
    expect(writeResultsCsv("behaviour", rows)).toBe(text);
  });

  it("as the evaluation exports them: the two log-probabilities of each example's metrics, nothing derived", () => {
    const example = {
      taskType: "behaviour" as const,
      row: 1,
      line: 1,
      prompt: "Q",
      classes: [" Yes", " No"],
      matchingCount: 1,
    };
    const outcome = exampleMetrics(example, [
      { ok: true, logprob: -0.25, tokens: 1 },
      { ok: true, logprob: -1.5, tokens: 1 },
    ]);
    if (!outcome.ok) throw new Error(outcome.flag);
    expect(outcome.metrics.matching_probability).toBeDefined();
    expect(writeResultsCsv("behaviour", [{ index: 7, metrics: outcome.metrics }])).toBe(
      "index,logprob_matching,logprob_not_matching\n7,-0.25,-1.5\n",
    );
  });

  it("refuse a file without both log-probabilities, naming the format", () => {
    const parsed = parseResultsCsv("index,logprob_matching\n0,-1\n", "behaviour");
    expect(parsed).toEqual({
      ok: false,
      problems: [
        'missing column "logprob_not_matching" (a behaviour results file has logprob_matching, logprob_not_matching)',
      ],
    });
  });

  it("warn about log-probabilities above 0, as probabilities written in their place would be", () => {
    const parsed = parseResultsCsv("index,logprob_matching,logprob_not_matching\n0,0.75,0.25\n1,-1,0\n", "behaviour");
    expect(parsed.ok && parsed.warnings).toEqual([
      'column "logprob_matching": 1 value is above 0, which no log-probability is (probabilities instead of their logs?)',
      'column "logprob_not_matching": 1 value is above 0, which no log-probability is (probabilities instead of their logs?)',
    ]);
  });
});

describe("the columns derived from the two log-probabilities", () => {
  // The example (0.51 and 0.99 against 0.75 and 0.75) has equal means but also equal win rates: all four
  // probabilities are above 0.5. A pair that shows the two metrics disagreeing: 0.3 and 0.9 against 0.6 and 0.6,
  // means 0.6 and 0.6, win rates 50% and 100%.
  const spread = withBehaviourColumns(fromProbabilities([0.3, 0.9]), "undesired");
  const even = withBehaviourColumns(fromProbabilities([0.6, 0.6]), "undesired");

  it("give equal mean matching probabilities, 0.6 and 0.6, to the disagreeing pair", () => {
    expect(column(spread, "matching_probability")[0]).toBeCloseTo(0.3, 15);
    expect(column(spread, "matching_probability")[1]).toBeCloseTo(0.9, 15);
    expect(mean(column(spread, "matching_probability"))).toBeCloseTo(0.6, 15);
    expect(mean(column(even, "matching_probability"))).toBeCloseTo(0.6, 15);
  });

  it("and different win rates: 50% and 100%", () => {
    expect(column(spread, "matching_win")).toEqual([0, 1]);
    expect(column(even, "matching_win")).toEqual([1, 1]);
    expect(mean(column(spread, "matching_win"))).toBe(0.5);
    expect(mean(column(even, "matching_win"))).toBe(1);
  });

  it("a loss toward the not-matching side when matching is undesired: -log(1 - p)", () => {
    const loss = column(spread, "loss");
    expect(loss[0]).toBeCloseTo(-Math.log(0.7), 14);
    expect(loss[1]).toBeCloseTo(-Math.log(0.1), 14);
  });

  it("toward the matching side when it is desired: -log(p)", () => {
    const loss = column(withBehaviourColumns(fromProbabilities([0.3, 0.9]), "desired"), "loss");
    expect(loss[0]).toBeCloseTo(-Math.log(0.3), 14);
    expect(loss[1]).toBeCloseTo(-Math.log(0.9), 14);
  });

  it("no loss when neither side is desired", () => {
    const neither = withBehaviourColumns(fromProbabilities([0.3, 0.9]), "neither");
    expect(Object.keys(neither.columns).sort()).toEqual([
      "logprob_matching",
      "logprob_not_matching",
      "matching_probability",
      "matching_win",
    ]);
  });

  it("an example without results stays without them in every derived column", () => {
    const results: ModelResults = {
      rows: 1,
      columns: { logprob_matching: Float64Array.of(NaN, -1), logprob_not_matching: Float64Array.of(NaN, -1) },
    };
    const derived = withBehaviourColumns(results, "undesired");
    for (const name of ["matching_probability", "matching_win", "loss"] as const)
      expect(column(derived, name)[0], name).toBeNaN();
    expect(column(derived, "matching_win")[1]).toBe(0.5);
  });
});

describe("a behaviour task's metrics, oriented by which way is good", () => {
  const directions = (matching: MatchingBehaviour) =>
    behaviourMetrics(matching).map(({ metric, role }) => [metric.name, role, metric.direction, metric.orientation]);

  it("matching undesired: both matching metrics lower-is-better, then the loss", () => {
    expect(directions("undesired")).toEqual([
      ["matching_probability", "headline", "lower_is_better", undefined],
      ["matching_win_rate", "secondary", "lower_is_better", undefined],
      ["loss", "secondary", "lower_is_better", undefined],
    ]);
  });

  it("matching desired: both higher-is-better; the loss, toward the matching side now, still lower", () => {
    expect(directions("desired")).toEqual([
      ["matching_probability", "headline", "higher_is_better", undefined],
      ["matching_win_rate", "secondary", "higher_is_better", undefined],
      ["loss", "secondary", "lower_is_better", undefined],
    ]);
  });

  it("neither: direction only, and no loss", () => {
    expect(directions("neither")).toEqual([
      ["matching_probability", "headline", "higher_is_better", "direction_only"],
      ["matching_win_rate", "secondary", "higher_is_better", "direction_only"],
    ]);
  });

  it("are labelled plainly", () => {
    expect(behaviourMetrics("undesired").map(({ metric }) => [metric.label, metric.column])).toEqual([
      ["Mean probability of the matching answer", "matching_probability"],
      ["Share of examples where the matching answer is more probable", "matching_win"],
      ["Loss (nats)", "loss"],
    ]);
  });

  it("a chosen metric is oriented too; the loss cannot be chosen under neither, nor a metric of other tasks", () => {
    const chosen = chooseBehaviourMetric("matching_win_rate", "desired");
    expect(chosen.ok && chosen.metric.direction).toBe("higher_is_better");
    const headline = chooseBehaviourMetric(undefined, "undesired");
    expect(headline.ok && [headline.metric.name, headline.metric.direction]).toEqual([
      "matching_probability",
      "lower_is_better",
    ]);
    expect(chooseBehaviourMetric("loss", "neither")).toEqual({
      ok: false,
      message:
        'metric "loss" is toward the desired answers, and with matching behaviour "neither" no side is desired; ' +
        "use matching_probability or matching_win_rate",
    });
    expect(chooseBehaviourMetric("accuracy", "undesired")).toEqual({
      ok: false,
      message:
        'metric "accuracy" does not apply to behaviour tasks; use one of loss, matching_probability, matching_win_rate',
    });
  });
});
