/**
 * The prize's per-example metrics (DESIGN.md section 2), as pure functions of the log-probabilities an inference
 * API returns for prompt+continuation texts. A class score is the SUM of the log-probabilities of the class's
 * tokens after the prompt (no length normalisation).
 */
import type { Example } from "../validate/row-rules";

/** One scored text: its tokens with their character offsets and log-probabilities (the first has none). */
export interface ScoredText {
  tokens: { offset: number; logprob: number | null }[];
  /** The server's tokens did not spell out the text (see token-alignment.ts): no offset can be trusted. */
  unaligned?: true;
}

export type ExampleFlag = "token_boundary" | "multi_token_class" | "unaligned_tokens";

/** A continuation's score, or why it has none. */
export type ContinuationScore =
  | { ok: true; logprob: number; tokens: number }
  | { ok: false; flag: "token_boundary" | "unaligned_tokens" };

/**
 * log p(continuation | prompt) from a scored `prompt + continuation`: the tokens starting at or after the prompt's
 * end. If no token starts exactly there, the API's tokenizer merged the two, and the score would be wrong.
 */
export function continuationScore(scored: ScoredText, promptLength: number): ContinuationScore {
  if (scored.unaligned) return { ok: false, flag: "unaligned_tokens" };
  if (!scored.tokens.some((token) => token.offset === promptLength)) return { ok: false, flag: "token_boundary" };
  let logprob = 0;
  let tokens = 0;
  for (const token of scored.tokens) {
    if (token.offset < promptLength) continue;
    logprob += token.logprob ?? 0;
    tokens++;
  }
  return { ok: true, logprob, tokens };
}

export function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(values.reduce((sum, value) => sum + Math.exp(value - max), 0));
}

/** Per-example results, in the prize pipeline's column names (see analysis/results-csv.ts). */
export interface ExampleMetrics {
  loss?: number;
  correct?: 0 | 1;
  predicted?: number;
  total_logprob?: number;
  logodds_difference?: number;
  /** Two-class tasks: normalised probability on the correct class, and whether it beats the other. */
  correct_probability?: number;
  correct_preferred?: 0 | 1;
  /** Behaviour tasks: log of the total probability on the answers matching the behaviour, and on the others. */
  logprob_matching?: number;
  logprob_not_matching?: number;
  /**
   * Behaviour tasks, derived from the two above (matchingProbability, matchingWin) and stored only so an
   * evaluation's progress can show the headline metric's running mean; analysis derives them again from the
   * log-probabilities, which are what a results file carries.
   */
  matching_probability?: number;
  matching_win?: 0 | 0.5 | 1;
}

export type ExampleOutcome = { ok: true; metrics: ExampleMetrics } | { ok: false; flag: ExampleFlag };

/** The texts to score for an example: each continuation appended to each prompt the task type uses. */
export function textsFor(example: Example): { prompt: string; continuation: string }[] {
  switch (example.taskType) {
    case "classification":
    case "behaviour":
      return example.classes.map((name) => ({ prompt: example.prompt, continuation: name }));
    case "sequence_prob":
      return [{ prompt: example.prompt, continuation: example.completion }];
    case "logodds":
    case "absolute_logodds":
      return [
        ...example.classes.map((name) => ({ prompt: example.prompt, continuation: name })),
        ...example.classes.map((name) => ({ prompt: example.otherPrompt, continuation: name })),
      ];
    case "numeric":
      throw new RangeError("numeric tasks are not evaluated: their metric needs sampled generations");
  }
}

/** Metrics for one example from the scores of `textsFor(example)`, in the same order. */
export function exampleMetrics(example: Example, scores: ContinuationScore[]): ExampleOutcome {
  const failed = scores.find((score) => !score.ok);
  if (failed && !failed.ok) return { ok: false, flag: failed.flag };
  const values = scores.map((score) => (score.ok ? score.logprob : NaN));
  switch (example.taskType) {
    case "sequence_prob":
      return { ok: true, metrics: { loss: -scoreAt(values, 0) } };
    case "classification": {
      const total = logSumExp(values);
      const predicted = argmax(values);
      const metrics: ExampleMetrics = {
        loss: total - scoreAt(values, example.answerIndex),
        correct: predicted === example.answerIndex ? 1 : 0,
        predicted,
        total_logprob: total,
      };
      if (values.length === 2) Object.assign(metrics, twoClass(values, example.answerIndex));
      return { ok: true, metrics };
    }
    case "behaviour": {
      // The matching answers come first (example.schema.json), so the split is positional.
      const matching = logSumExp(values.slice(0, example.matchingCount));
      const notMatching = logSumExp(values.slice(example.matchingCount));
      return {
        ok: true,
        metrics: {
          logprob_matching: matching,
          logprob_not_matching: notMatching,
          matching_probability: matchingProbability(matching, notMatching),
          matching_win: matchingWin(matching, notMatching),
        },
      };
    }
    case "logodds":
    case "absolute_logodds": {
      // The prize required single-token classes here: a log-odds over multi-token classes compares sums of
      // different lengths.
      if (scores.some((score) => score.ok && score.tokens !== 1)) return { ok: false, flag: "multi_token_class" };
      const [prompt0, prompt1, other0, other1] = values as [number, number, number, number];
      const difference = prompt0 - prompt1 - (other0 - other1);
      const signed = example.answerIndex === 1 ? -difference : difference;
      const other = [other0, other1];
      return {
        ok: true,
        metrics: {
          logodds_difference: example.taskType === "absolute_logodds" ? Math.abs(signed) : signed,
          // As the prize did, accuracy is judged on other_prompt.
          correct: argmax(other) === example.answerIndex ? 1 : 0,
          // As the pipeline computes it: over both prompts' class scores (logsumexp of all four), not one prompt's.
          total_logprob: logSumExp(values),
          ...twoClass(other, example.answerIndex),
        },
      };
    }
    case "numeric":
      throw new RangeError("numeric tasks are not evaluated");
  }
}

/**
 * The matching answers' share of the probability on all answers, 1 / (1 + exp(ln - lm)), from the two summed
 * log-probabilities; computed from their difference, so log-probabilities of -800 and -801 give 0.731, not 0/0.
 */
export function matchingProbability(logprobMatching: number, logprobNotMatching: number): number {
  const difference = logprobNotMatching - logprobMatching;
  // exp of a negative number only: for a large positive difference the matching share is exp(-d) / (1 + exp(-d)).
  if (difference > 0) {
    const odds = Math.exp(-difference);
    return odds / (1 + odds);
  }
  return 1 / (1 + Math.exp(difference));
}

/** 1 when the matching answers are the more probable, 0 when the others are, 0.5 for a tie. */
export function matchingWin(logprobMatching: number, logprobNotMatching: number): 0 | 0.5 | 1 {
  if (logprobMatching > logprobNotMatching) return 1;
  return logprobMatching < logprobNotMatching ? 0 : 0.5;
}

/**
 * -log of one side's share of the probability: the matching side's (-log p) or the other's (-log(1 - p)), as
 * softplus of the log-probability difference, so it stays exact where 1 - p would round to 0.
 */
export function sideLoss(logprobSide: number, logprobOtherSide: number): number {
  const difference = logprobOtherSide - logprobSide;
  return difference > 0 ? difference + Math.log1p(Math.exp(-difference)) : Math.log1p(Math.exp(difference));
}

function twoClass(values: number[], answer: number): Pick<ExampleMetrics, "correct_probability" | "correct_preferred"> {
  const correct = scoreAt(values, answer);
  const probability = Math.exp(correct - logSumExp(values));
  return { correct_probability: probability, correct_preferred: correct > scoreAt(values, 1 - answer) ? 1 : 0 };
}

/** The score of text `index`: scores follow `textsFor(example)`, so each index an example names has one. */
function scoreAt(values: readonly number[], index: number): number {
  const value = values[index];
  if (value === undefined) throw new RangeError(`no score for text ${index}: scores must follow textsFor(example)`);
  return value;
}

/** The index of the first largest value (0 when there are none). */
function argmax(values: readonly number[]): number {
  let best = 0;
  let bestValue = values[0] ?? -Infinity;
  for (const [i, value] of values.entries()) {
    if (value > bestValue) {
      best = i;
      bestValue = value;
    }
  }
  return best;
}
