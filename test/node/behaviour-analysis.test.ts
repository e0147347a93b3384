import { describe, expect, it } from "vitest";
import type { Analysis, FamilyResults } from "../../src/analysis/analyse";
import { analyseBehaviour, behaviourMetrics, type MatchingBehaviour } from "../../src/analysis/behaviour";
import { DEFAULT_OPTIONS } from "../../src/analysis/statistics";
import { validateAnalysis } from "../../src/generated/validators";
import { defined } from "../defined";
import { fromProbabilities } from "./helpers";

/**
 * The disagreement, corrected: its 0.51 and 0.99 against 0.75 and 0.75 have equal means but equal win
 * rates too (all four are above 0.5). Here the smaller model gives every example 0.6 and the larger alternates 0.3
 * and 0.9: means 0.6 and 0.6, win rates 100% and 50%. 4000 examples, so the equal means can be shown flat.
 */
const PAIR: FamilyResults = {
  family: "pair",
  axis: "params",
  models: [
    { id: "small", scale: 1e9, results: fromProbabilities(Array.from({ length: 4000 }, () => 0.6)) },
    {
      id: "large",
      scale: 1e10,
      results: fromProbabilities(Array.from({ length: 4000 }, (_, i) => (i % 2 ? 0.9 : 0.3))),
    },
  ],
};

/**
 * Four models over 400 examples: fewer examples favour the matching answer (320, 240, 160, 80 winners) while the
 * winners grow surer (0.51 to 0.999) and the losers less sure (0.01 to 0.49), so the mean matching probability
 * rises (0.41 to 0.59) while the win rate falls (80% to 20%).
 */
const TREND: FamilyResults = {
  family: "trend",
  axis: "params",
  models: [320, 240, 160, 80].map((winners, k) => {
    const winning = 0.51 + 0.163 * k;
    const losing = 0.01 + 0.16 * k;
    const probabilities = Array.from({ length: 400 }, (_, i) => (i < winners ? winning : losing));
    return { id: `m${k}`, scale: 10 ** (8 + k), results: fromProbabilities(probabilities) };
  }),
};

const OPTIONS = { ...DEFAULT_OPTIONS, bootstrapSamples: 200 };

function analysed(matching: MatchingBehaviour, families: FamilyResults[]): Map<string, Analysis> {
  const analyses = analyseBehaviour(behaviourMetrics(matching), families, matching, OPTIONS);
  return new Map(analyses.map((analysis) => [analysis.metric.name, analysis]));
}

const named = (analyses: Map<string, Analysis>, metric: string): Analysis => defined(analyses.get(metric), metric);
const verdicts = (analysis: Analysis): string[] => analysis.families.map((family) => family.verdict);
const means = (analysis: Analysis): number[] =>
  defined(analysis.families[0], "a family").models.map((model) => model.mean);

describe("analyses of a behaviour task", () => {
  const undesired = analysed("undesired", [PAIR]);

  it("are matching_probability (the headline), matching_win_rate and the loss, each valid against the schema", () => {
    expect([...undesired.values()].map((analysis) => [analysis.metric.name, analysis.role, analysis.taskType])).toEqual(
      [
        ["matching_probability", "headline", "behaviour"],
        ["matching_win_rate", "secondary", "behaviour"],
        ["loss", "secondary", "behaviour"],
      ],
    );
    for (const analysis of undesired.values())
      expect(validateAnalysis(analysis), JSON.stringify(validateAnalysis.errors)).toBe(true);
  });

  it("give the hand-computed pair equal mean probabilities, 0.6 and 0.6, and win rates 100% and 50%", () => {
    const [small, large] = means(named(undesired, "matching_probability"));
    expect(small).toBeCloseTo(0.6, 12);
    expect(large).toBeCloseTo(0.6, 12);
    expect(means(named(undesired, "matching_win_rate"))).toEqual([1, 0.5]);
  });

  it("say in words that the pair's metrics disagree: no change in the mean, a falling win rate", () => {
    const text =
      "On pair the two matching metrics point different ways: the mean probability of the matching answer shows " +
      "no change that matters, while the share of examples where the matching answer is more probable shows " +
      "standard scaling.";
    for (const metric of ["matching_probability", "matching_win_rate"]) {
      const analysis = named(undesired, metric);
      expect(analysis.disagreements, metric).toEqual([
        {
          family: "pair",
          axis: "params",
          verdicts: { matching_probability: "flat", matching_win_rate: "standard" },
          text,
        },
      ]);
      expect(analysis.summary.text.endsWith(`. ${text}`), analysis.summary.text).toBe(true);
    }
    expect(named(undesired, "loss").disagreements).toBeUndefined();
  });
});

describe("which way is good, from the matching behaviour", () => {
  it("undesired: a rising matching probability is inverse scaling, a falling win rate standard", () => {
    const analyses = analysed("undesired", [TREND]);
    expect(verdicts(named(analyses, "matching_probability"))).toEqual(["inverse"]);
    expect(verdicts(named(analyses, "matching_win_rate"))).toEqual(["standard"]);
    expect(named(analyses, "matching_probability").metric.direction).toBe("lower_is_better");
  });

  it("desired: the same results flip, each verdict turned around", () => {
    const analyses = analysed("desired", [TREND]);
    expect(verdicts(named(analyses, "matching_probability"))).toEqual(["standard"]);
    expect(verdicts(named(analyses, "matching_win_rate"))).toEqual(["inverse"]);
    expect(named(analyses, "matching_probability").metric.direction).toBe("higher_is_better");
    expect(defined(named(analyses, "matching_probability").disagreements?.[0], "a disagreement").text).toBe(
      "On trend the two matching metrics point different ways: the mean probability of the matching answer shows " +
        "standard scaling, while the share of examples where the matching answer is more probable shows inverse scaling.",
    );
  });

  it("the loss follows the desired side: rising under undesired here, falling under desired", () => {
    const loss = (matching: MatchingBehaviour): number[] => means(named(analysed(matching, [TREND]), "loss"));
    const [first, , , last] = loss("undesired");
    expect(defined(last, "the largest model's loss")).toBeGreaterThan(defined(first, "the smallest's"));
    // The smallest model's loss toward the matching side: -log p, 80% of examples at 0.51 and 20% at 0.01.
    expect(loss("desired")[0]).toBeCloseTo(0.8 * -Math.log(0.51) + 0.2 * -Math.log(0.01), 12);
  });

  it("matching metrics that agree give no disagreement", () => {
    const agreeing: FamilyResults = {
      family: "agree",
      axis: "params",
      models: [0.2, 0.4, 0.6, 0.8].map((p, k) => ({
        id: `a${k}`,
        scale: 10 ** (8 + k),
        results: fromProbabilities(Array.from({ length: 400 }, (_, i) => p + (i % 2 ? 0.15 : -0.15))),
      })),
    };
    const analyses = analysed("undesired", [agreeing]);
    expect(verdicts(named(analyses, "matching_probability"))).toEqual(["inverse"]);
    expect(verdicts(named(analyses, "matching_win_rate"))).toEqual(["inverse"]);
    expect(named(analyses, "matching_probability").disagreements).toBeUndefined();
  });
});

describe("matching behaviour neither: the direction of change only", () => {
  const analyses = analysed("neither", [TREND]);
  const probability = named(analyses, "matching_probability");
  const winRate = named(analyses, "matching_win_rate");

  it("has no loss, and marks both metrics direction_only", () => {
    expect([...analyses.keys()]).toEqual(["matching_probability", "matching_win_rate"]);
    expect([probability.metric.orientation, winRate.metric.orientation]).toEqual(["direction_only", "direction_only"]);
    for (const analysis of analyses.values())
      expect(validateAnalysis(analysis), JSON.stringify(validateAnalysis.errors)).toBe(true);
  });

  it("summarises in words of direction: rises, falls", () => {
    const sentence =
      "On trend the two matching metrics point different ways: the mean probability of the matching answer rises " +
      "with scale, while the share of examples where the matching answer is more probable falls with scale.";
    const prefix = "Direction only (the matching behaviour is neither desired nor undesired): ";
    expect(probability.summary.text).toBe(`${prefix}rises with scale in 1 of 1 family. ${sentence}`);
    expect(winRate.summary.text).toBe(`${prefix}falls with scale in 1 of 1 family. ${sentence}`);
  });

  it("shows no performance verdict in any words: not in summaries, reasons or disagreements", () => {
    for (const analysis of analyses.values()) {
      const words = [
        analysis.summary.text,
        ...analysis.families.map((family) => family.reason),
        ...(analysis.disagreements ?? []).map((disagreement) => disagreement.text),
      ].join(" ");
      expect(words).not.toMatch(/inverse|standard|performance|better|worse|improve/i);
    }
    expect(defined(probability.families[0], "a family").reason).toMatch(
      /^The mean probability of the matching answer rises with scale: slope /,
    );
  });
});
