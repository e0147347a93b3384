import { describe, expect, it } from "vitest";
import {
  continuationScore,
  exampleMetrics,
  logSumExp,
  textsFor,
  type ContinuationScore,
} from "../../src/evaluate/metrics";

const ok = (logprob: number, tokens = 1): ContinuationScore => ({ ok: true, logprob, tokens });
const base = { row: 1, line: 2 };

describe("the prize's metrics, on hand-computed values", () => {
  it("scores a continuation from the tokens at and after the prompt's end, and flags a merged boundary", () => {
    const scored = {
      tokens: [
        { offset: 0, logprob: null },
        { offset: 6, logprob: -1.5 },
        { offset: 10, logprob: -0.25 },
        { offset: 14, logprob: -2 },
      ],
    };
    expect(continuationScore(scored, 10)).toEqual({ ok: true, logprob: -2.25, tokens: 2 });
    expect(continuationScore(scored, 12)).toEqual({ ok: false, flag: "token_boundary" });
  });

  it("classification: loss, correct, predicted and total log-probability", () => {
    const example = {
      ...base,
      taskType: "classification" as const,
      prompt: "Q",
      classes: [" a", " b", " c"],
      answerIndex: 1,
    };
    const scores = [Math.log(0.2), Math.log(0.5), Math.log(0.1)];
    const result = exampleMetrics(
      example,
      scores.map((s) => ok(s)),
    );
    expect(result.ok).toBe(true);
    const metrics = result.ok ? result.metrics : {};
    expect(metrics.loss).toBeCloseTo(-Math.log(0.5 / 0.8), 12);
    expect(metrics).toMatchObject({ correct: 1, predicted: 1 });
    expect(metrics.total_logprob).toBeCloseTo(Math.log(0.8), 12);
  });

  it("two-class tasks also report the normalised probability on the correct class and whether it wins", () => {
    const example = {
      ...base,
      taskType: "classification" as const,
      prompt: "Q",
      classes: [" Yes", " No"],
      answerIndex: 0,
    };
    const result = exampleMetrics(example, [ok(Math.log(0.3)), ok(Math.log(0.1))]);
    expect(result.ok && result.metrics.correct_probability).toBeCloseTo(0.75, 12);
    expect(result.ok && result.metrics.correct_preferred).toBe(1);
  });

  it("sequence_prob: loss is minus the completion's summed log-probability", () => {
    const example = { ...base, taskType: "sequence_prob" as const, prompt: "The sky is", completion: " blue" };
    expect(exampleMetrics(example, [ok(-0.7, 2)])).toEqual({ ok: true, metrics: { loss: 0.7 } });
  });

  const logoddsExample = {
    ...base,
    taskType: "logodds" as const,
    prompt: "P",
    otherPrompt: "O",
    classes: [" Yes", " No"],
    answerIndex: 0,
  };

  describe("logodds: (log-odds under prompt) - (under other_prompt)", () => {
    const example = logoddsExample;
    // Under the prompt: log-odds ln(0.6/0.2); under other_prompt: ln(0.3/0.5).
    const scores = [Math.log(0.6), Math.log(0.2), Math.log(0.3), Math.log(0.5)].map((s) => ok(s));
    const expected = Math.log(0.6 / 0.2) - Math.log(0.3 / 0.5);

    it("for answer 0, with accuracy from other_prompt", () => {
      const answer0 = exampleMetrics(example, scores);
      expect(answer0.ok && answer0.metrics.logodds_difference).toBeCloseTo(expected, 12);
      expect(answer0.ok && answer0.metrics.correct).toBe(0);
    });

    it("with the sign flipped for answer 1, with accuracy from other_prompt", () => {
      const answer1 = exampleMetrics({ ...example, answerIndex: 1 }, scores);
      expect(answer1.ok && answer1.metrics.logodds_difference).toBeCloseTo(-expected, 12);
      expect(answer1.ok && answer1.metrics.correct).toBe(1);
    });

    it("for absolute_logodds, not flipped for answer 1", () => {
      const absolute = exampleMetrics({ ...example, taskType: "absolute_logodds", answerIndex: 1 }, scores);
      expect(absolute.ok && absolute.metrics.logodds_difference).toBeCloseTo(expected, 12);
    });
  });

  describe("logodds: total log-probability", () => {
    const example = logoddsExample;
    // A model sure of the classes under both prompts.
    const sure = exampleMetrics(
      example,
      [Math.log(0.9), Math.log(0.1), Math.log(0.2), Math.log(0.8)].map((s) => ok(s)),
    );

    it("is the logsumexp over both prompts' classes, as the prize's pipeline computes it", () => {
      // models.py, GPT-3 path: torch.logsumexp(torch.cat((relevant_logprobs, other_relevant_logprobs))); the HF path
      // takes logsumexp of the two prompts' own logsumexps, the same number.
      const scores = [Math.log(0.6), Math.log(0.2), Math.log(0.3), Math.log(0.5)];
      for (const taskType of ["logodds", "absolute_logodds"] as const) {
        const result = exampleMetrics(
          { ...example, taskType },
          scores.map((s) => ok(s)),
        );
        expect(result.ok && result.metrics.total_logprob).toBeCloseTo(Math.log(0.6 + 0.2 + 0.3 + 0.5), 12);
        expect(result.ok && result.metrics.total_logprob).toBeCloseTo(
          logSumExp([logSumExp(scores.slice(0, 2)), logSumExp(scores.slice(2))]),
          12,
        );
      }
    });

    // Both prompts' probability counts, so a model sure of the classes under both comes out above 0 (above
    // probability 1): the pipeline's number, kept as it is.
    it("can pass 0 (probability 1), as the pipeline's number does", () => {
      expect(sure.ok && sure.metrics.total_logprob).toBeCloseTo(Math.log(2), 12);
    });

    it("leaves the normalised probability and accuracy other_prompt's alone", () => {
      expect(sure.ok && sure.metrics.correct_probability).toBeCloseTo(0.2, 12);
      expect(sure.ok && sure.metrics.correct).toBe(0);
    });
  });

  it("logodds types exclude multi-token classes, and any type excludes a token-boundary failure", () => {
    const example = {
      ...base,
      taskType: "logodds" as const,
      prompt: "P",
      otherPrompt: "O",
      classes: [" Yes", " Nope"],
      answerIndex: 0,
    };
    expect(exampleMetrics(example, [ok(-1), ok(-2, 2), ok(-1), ok(-2, 2)])).toEqual({
      ok: false,
      flag: "multi_token_class",
    });
    const classification = {
      ...base,
      taskType: "classification" as const,
      prompt: "Q",
      classes: [" a", " b"],
      answerIndex: 0,
    };
    expect(exampleMetrics(classification, [ok(-1), { ok: false, flag: "token_boundary" }])).toEqual({
      ok: false,
      flag: "token_boundary",
    });
  });

  it("asks for every continuation after every prompt the type needs", () => {
    const example = {
      ...base,
      taskType: "logodds" as const,
      prompt: "P",
      otherPrompt: "O",
      classes: [" Y", " N"],
      answerIndex: 0,
    };
    expect(textsFor(example)).toEqual([
      { prompt: "P", continuation: " Y" },
      { prompt: "P", continuation: " N" },
      { prompt: "O", continuation: " Y" },
      { prompt: "O", continuation: " N" },
    ]);
    expect(logSumExp([Math.log(1), Math.log(3)])).toBeCloseTo(Math.log(4), 12);
  });
});
