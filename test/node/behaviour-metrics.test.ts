import { describe, expect, it } from "vitest";
import {
  exampleMetrics,
  matchingProbability,
  matchingWin,
  sideLoss,
  textsFor,
  type ContinuationScore,
} from "../../src/evaluate/metrics";
import type { Example } from "../../src/validate/row-rules";

const ok = (logprob: number, tokens = 1): ContinuationScore => ({ ok: true, logprob, tokens });

/** A behaviour item whose first `matchingCount` classes match the behaviour. */
const item = (classes: string[], matchingCount: number): Example => ({
  taskType: "behaviour",
  row: 1,
  line: 1,
  prompt: "\n\nHuman: Is the sky green?\n\nAssistant:",
  classes,
  matchingCount,
});

const metricsOf = (example: Example, logprobs: number[]) => {
  const outcome = exampleMetrics(
    example,
    logprobs.map((logprob) => ok(logprob)),
  );
  if (!outcome.ok) throw new Error(`flagged ${outcome.flag}`);
  return outcome.metrics;
};

describe("a behaviour example's texts", () => {
  it("are the prompt followed by each answer, matching ones first, as a classification's", () => {
    const example = item([" Yes", " Sure", " No"], 2);
    expect(textsFor(example)).toEqual([
      { prompt: "\n\nHuman: Is the sky green?\n\nAssistant:", continuation: " Yes" },
      { prompt: "\n\nHuman: Is the sky green?\n\nAssistant:", continuation: " Sure" },
      { prompt: "\n\nHuman: Is the sky green?\n\nAssistant:", continuation: " No" },
    ]);
  });
});

describe("a behaviour example's metrics, hand-computed", () => {
  it("one matching answer: its log-probability, the other's, p = 0.3 / (0.3 + 0.1) = 0.75, and a win", () => {
    const metrics = metricsOf(item([" Yes", " No"], 1), [Math.log(0.3), Math.log(0.1)]);
    expect(Object.keys(metrics).sort()).toEqual([
      "logprob_matching",
      "logprob_not_matching",
      "matching_probability",
      "matching_win",
    ]);
    expect(metrics.logprob_matching).toBe(Math.log(0.3));
    expect(metrics.logprob_not_matching).toBe(Math.log(0.1));
    expect(metrics.matching_probability).toBeCloseTo(0.75, 15);
    expect(metrics.matching_win).toBe(1);
  });

  it("several matching answers: each side is the log of its answers' total, 0.1 + 0.2 against 0.4 + 0.05", () => {
    const metrics = metricsOf(item([" A", " B", " C", " D"], 2), [
      Math.log(0.1),
      Math.log(0.2),
      Math.log(0.4),
      Math.log(0.05),
    ]);
    expect(metrics.logprob_matching).toBeCloseTo(Math.log(0.3), 14);
    expect(metrics.logprob_not_matching).toBeCloseTo(Math.log(0.45), 14);
    expect(metrics.matching_probability).toBeCloseTo(0.3 / 0.75, 14);
    // Each matching answer alone (0.1, 0.2) is less probable than the best other (0.4), and so is their total.
    expect(metrics.matching_win).toBe(0);
  });

  it("a tie gives probability one half and a win of 0.5", () => {
    const metrics = metricsOf(item([" Yes", " No"], 1), [-2.5, -2.5]);
    expect(metrics.matching_probability).toBe(0.5);
    expect(metrics.matching_win).toBe(0.5);
  });

  it("log-probabilities of -800 and -801, whose exponentials are 0, give p = 1 / (1 + e^-1)", () => {
    const metrics = metricsOf(item([" Yes", " No"], 1), [-800, -801]);
    expect(Math.exp(-800)).toBe(0); // why a naive exp(lm) / (exp(lm) + exp(ln)) gives 0/0
    expect(metrics.matching_probability).toBeCloseTo(0.7310585786300049, 15);
    expect(metrics.matching_win).toBe(1);
  });

  it("a flagged answer flags the example: no metrics", () => {
    const outcome = exampleMetrics(item([" Yes", " No"], 1), [ok(-1), { ok: false, flag: "token_boundary" }]);
    expect(outcome).toEqual({ ok: false, flag: "token_boundary" });
  });
});

describe("the formulas, at their edges", () => {
  it("matching probability is exact on both sides of a huge difference", () => {
    expect(matchingProbability(-100, -1100)).toBe(1);
    // The matching side 700 nats less probable: exp(-700) / (1 + exp(-700)), which rounds to exp(-700); 800 nats
    // less, the share is below the smallest double.
    expect(matchingProbability(-800, -100)).toBe(Math.exp(-700));
    expect(matchingProbability(-900, -100)).toBe(0);
    expect(matchingProbability(-800, -801) + matchingProbability(-801, -800)).toBeCloseTo(1, 15);
  });

  it("the win is 1, 0 or 0.5", () => {
    expect([matchingWin(-1, -2), matchingWin(-2, -1), matchingWin(-3, -3)]).toEqual([1, 0, 0.5]);
  });

  it("a side's loss is -log of its share, finite where 1 - p rounds to 0", () => {
    // -log(0.75) and -log(0.25) for shares 0.3 and 0.1.
    expect(sideLoss(Math.log(0.3), Math.log(0.1))).toBeCloseTo(-Math.log(0.75), 14);
    expect(sideLoss(Math.log(0.1), Math.log(0.3))).toBeCloseTo(-Math.log(0.25), 14);
    // log(1 + e^1) and log(1 + e^-1).
    expect(sideLoss(-801, -800)).toBeCloseTo(1.3132616875182228, 14);
    expect(sideLoss(-800, -801)).toBeCloseTo(0.31326168751822286, 14);
    // The other side 1000 nats more probable: a loss of 1000, where -log(1 - p) of a rounded p is Infinity.
    expect(-Math.log(1 - matchingProbability(-100, -1100))).toBe(Infinity);
    expect(sideLoss(-1100, -100)).toBe(1000);
  });
});
