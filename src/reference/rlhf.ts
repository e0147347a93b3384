import type { NgramModel, TopToken } from "./ngram";

/**
 * An offline stand-in for RLHF, so that behaviour evaluations along RLHF steps run without a real RLHF'd model. It
 * is not a model of RLHF and claims nothing about what RLHF does: it is a second axis of models whose answers move
 * in a known, documented way.
 *
 * Member `isv-rlhf-<order>-<steps>` is the base n-gram model of that order linearly interpolated, token by token,
 * with an n-gram model of the same order trained on the preference corpus (preference.txt, tokenized with the base
 * family's tokenizer, so both models share one vocabulary):
 *
 *     P(token | context) = (1 − w) · P_base(token | context) + w · P_preference(token | context),
 *     w = steps / (steps + HALF_WEIGHT_STEPS)
 *
 * so w is 0 at 0 steps (exactly the base model's numbers: 1 · p + 0 · q is p in floating point), 1/2 at
 * HALF_WEIGHT_STEPS and approaches 1 as steps grow, as a tuned model drifts further from its pretrained start.
 * A mixture of two distributions over the vocabulary is one, so every member stays a proper language model.
 */

/** The sizes (n-gram orders) and step counts of the stand-in family; 0 steps is the pretrained model. */
export const STANDIN_ORDERS = [1, 3, 5] as const;
export const STANDIN_STEPS = [0, 250, 500, 1000] as const;
/** The step count at which the preference model has half the weight. */
export const HALF_WEIGHT_STEPS = 250;

export const standInId = (order: number, steps: number): string => `isv-rlhf-${order}-${steps}`;

export function preferenceWeight(steps: number): number {
  if (!Number.isFinite(steps) || steps < 0)
    throw new RangeError(`RLHF steps must be a finite number ≥ 0, not ${steps}`);
  return steps / (steps + HALF_WEIGHT_STEPS);
}

/** The preference corpus's training text: the file without its header (the leading lines that start with "#"). */
export function preferenceText(file: string): string {
  const lines = file.split("\n");
  const header = lines.findIndex((line) => !line.startsWith("#"));
  return lines.slice(header === -1 ? lines.length : header).join("\n");
}

/** What a reference member needs of its model: the n-gram models and the mixtures both are one. */
export interface TokenModel {
  readonly order: number;
  readonly parameters: number;
  logprob(ids: ArrayLike<number>, at: number, token: number): number;
  topTokens(ids: ArrayLike<number>, at: number, k: number): TopToken[];
}

export class MixedModel implements TokenModel {
  readonly order: number;
  /** A tuned model has its base model's parameters: tuning changes weights, not their number. */
  readonly parameters: number;

  constructor(
    private readonly base: NgramModel,
    private readonly preference: NgramModel,
    readonly weight: number,
  ) {
    if (base.order !== preference.order || base.vocabularySize !== preference.vocabularySize)
      throw new RangeError("the base and preference models must have the same order and vocabulary");
    if (!(weight >= 0 && weight <= 1)) throw new RangeError(`the preference weight ${weight} is outside [0, 1]`);
    this.order = base.order;
    this.parameters = base.parameters;
  }

  logprob(ids: ArrayLike<number>, at: number, token: number): number {
    return Math.log(this.mix(this.base.probability(ids, at, token), this.preference.probability(ids, at, token)));
  }

  /** The k most probable next tokens, exactly: the mixture over the whole vocabulary (a few hundred tokens). */
  topTokens(ids: ArrayLike<number>, at: number, k: number): TopToken[] {
    if (k <= 0) return [];
    const base = this.base.probabilities(ids, at);
    const preference = this.preference.probabilities(ids, at);
    const best: { id: number; probability: number }[] = [];
    for (let id = 0; id < base.length; id++) {
      const probability = this.mix(base[id] ?? 0, preference[id] ?? 0);
      const last = best[best.length - 1];
      if (best.length === k && last !== undefined && probability <= last.probability) continue;
      // Insert in order (ids arrive increasing, so an equal probability goes after: ties by lower id first).
      let at = best.length;
      while (at > 0 && (best[at - 1]?.probability ?? 0) < probability) at--;
      best.splice(at, 0, { id, probability });
      if (best.length > k) best.pop();
    }
    // The same expression as logprob on the same probabilities: a top value equals that token's logprob exactly.
    return best.map(({ id, probability }) => ({ id, logprob: Math.log(probability) }));
  }

  private mix(base: number, preference: number): number {
    return (1 - this.weight) * base + this.weight * preference;
  }
}
