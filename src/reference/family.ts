import { NgramCounts, NgramModel, type TopToken } from "./ngram";
import {
  MixedModel,
  preferenceText,
  preferenceWeight,
  STANDIN_ORDERS,
  STANDIN_STEPS,
  standInId,
  type TokenModel,
} from "./rlhf";
import { Tokenizer, type Token } from "./tokenizer";

/** The members of the reference family: n-gram models of orders 1 to 5 over one corpus. */
export const MEMBER_ORDERS = [1, 2, 3, 4, 5] as const;
export const memberId = (order: number): string => `isv-ngram-${order}`;

export interface ScoredToken extends Token {
  /** log P(token | tokens before it); null for the first token, which has no context (as the OpenAI API). */
  logprob: number | null;
  top: TopToken[] | null;
}

/** A generated token: it always has a context (the prompt and the tokens before it), so a log-probability. */
export interface GeneratedToken extends ScoredToken {
  logprob: number;
}

export interface Generation {
  tokens: GeneratedToken[];
  text: string;
  finishReason: "length" | "stop";
}

export class ReferenceMember {
  constructor(
    readonly id: string,
    readonly model: TokenModel,
    readonly tokenizer: Tokenizer,
    /** The RLHF stand-in's step count (rlhf.ts); undefined for the plain n-gram members. */
    readonly rlhfSteps?: number,
  ) {}

  get parameters(): number {
    return this.model.parameters;
  }

  /** Scores every token of the text given the tokens before it; `topK` most likely alternatives at each position. */
  score(text: string, topK: number): ScoredToken[] {
    return this.scoreTokens(this.tokenizer.encode(text), topK);
  }

  /** Greedy continuation of `prompt` (temperature 0), scored like the prompt. */
  generate(prompt: string, maxTokens: number, topK: number, stop: readonly string[] = []): Generation {
    const tokens = this.tokenizer.encode(prompt);
    const ids = tokens.map((token) => token.id);
    const generated: GeneratedToken[] = [];
    const bytes: number[] = [];
    let text = "";
    let finishReason: Generation["finishReason"] = "length";
    for (let step = 0; step < maxTokens; step++) {
      const [best] = this.model.topTokens(ids, ids.length, Math.max(1, topK));
      if (!best) break;
      const tokenText = this.tokenizer.textOf(best.id);
      generated.push({
        id: best.id,
        text: tokenText,
        offset: prompt.length + text.length,
        logprob: best.logprob,
        top: topK > 0 ? this.model.topTokens(ids, ids.length, topK) : null,
      });
      ids.push(best.id);
      if (this.tokenizer.isByte(best.id)) {
        bytes.push(this.tokenizer.byteOf(best.id));
        continue;
      }
      if (bytes.length > 0) text += new TextDecoder().decode(new Uint8Array(bytes.splice(0)));
      text += tokenText;
      const stopAt = firstStop(text, stop);
      if (stopAt !== undefined) {
        text = text.slice(0, stopAt);
        finishReason = "stop";
        break;
      }
    }
    if (bytes.length > 0) text += new TextDecoder().decode(new Uint8Array(bytes));
    return { tokens: generated, text, finishReason };
  }

  private scoreTokens(tokens: Token[], topK: number): ScoredToken[] {
    const ids = tokens.map((token) => token.id);
    return tokens.map((token, at) => ({
      ...token,
      logprob: at === 0 ? null : this.model.logprob(ids, at, token.id),
      top: at === 0 || topK === 0 ? null : this.model.topTokens(ids, at, topK),
    }));
  }
}

/**
 * The models the reference server serves: the n-gram family and, when trained with a preference corpus, the RLHF
 * stand-in family after it (rlhf.ts), whose members share the n-gram members' base models.
 */
export class ReferenceFamily {
  readonly members: ReferenceMember[];

  constructor(
    readonly tokenizer: Tokenizer,
    counts: NgramCounts,
    preference?: NgramCounts,
  ) {
    const base = new Map(MEMBER_ORDERS.map((order) => [order, new NgramModel(counts, order, tokenizer.size)]));
    this.members = [...base].map(([order, model]) => new ReferenceMember(memberId(order), model, tokenizer));
    if (preference === undefined) return;
    for (const order of STANDIN_ORDERS) {
      const baseModel = base.get(order);
      if (!baseModel) throw new RangeError(`the stand-in's order ${order} is not an order of the n-gram family`);
      const preferenceModel = new NgramModel(preference, order, tokenizer.size);
      for (const steps of STANDIN_STEPS) {
        const model = new MixedModel(baseModel, preferenceModel, preferenceWeight(steps));
        this.members.push(new ReferenceMember(standInId(order, steps), model, tokenizer, steps));
      }
    }
  }

  member(id: string): ReferenceMember | undefined {
    return this.members.find((member) => member.id === id);
  }
}

/**
 * Trains the family on a corpus (deterministic: the same corpus gives bit-identical models), and with the preference
 * corpus (preference.txt, header and all) the RLHF stand-in too. The tokenizer comes from the corpus alone, so the
 * n-gram members are the same with or without the stand-in.
 */
export function trainReferenceFamily(corpus: string, preferenceFile?: string): ReferenceFamily {
  const tokenizer = Tokenizer.fromCorpus(corpus);
  const countsOf = (text: string, maxOrder: number) =>
    new NgramCounts(
      Int32Array.from(tokenizer.encode(text), (token) => token.id),
      maxOrder,
    );
  const preference =
    preferenceFile === undefined ? undefined : countsOf(preferenceText(preferenceFile), Math.max(...STANDIN_ORDERS));
  return new ReferenceFamily(tokenizer, countsOf(corpus, Math.max(...MEMBER_ORDERS)), preference);
}

function firstStop(text: string, stop: readonly string[]): number | undefined {
  let first: number | undefined;
  for (const sequence of stop) {
    const at = text.indexOf(sequence);
    if (at !== -1 && (first === undefined || at < first)) first = at;
  }
  return first;
}
