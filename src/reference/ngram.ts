/**
 * Interpolated Kneser–Ney n-gram language models (Chen & Goodman 1998, "interpolated KN" with one discount per
 * order, D = n1 / (n1 + 2 n2)). The effective top order uses raw counts, lower orders continuation counts (in how
 * many distinct contexts a word follows), and order 1 interpolates with the uniform distribution over the whole
 * vocabulary, so every distribution sums to 1 over every token, seen or not.
 */

interface ContextEntry {
  total: number;
  /** Distinct tokens seen after this context. */
  types: number;
  counts: Map<number, number>;
  /** The context's token ids (used to derive continuation counts). */
  context: number[];
}

class CountTable {
  readonly entries = new Map<string, ContextEntry>();
  /** Number of distinct (context, token) pairs: the table's stored statistics. */
  pairs = 0;
  discount = 0.75;

  add(context: number[], key: string, token: number, amount: number): void {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { total: 0, types: 0, counts: new Map(), context };
      this.entries.set(key, entry);
    }
    const previous = entry.counts.get(token) ?? 0;
    if (previous === 0) {
      entry.types++;
      this.pairs++;
    }
    entry.counts.set(token, previous + amount);
    entry.total += amount;
  }

  /** Ney's estimate from the counts of counts, kept inside (0, 1) so every listed count stays positive. */
  fixDiscount(): void {
    let once = 0;
    let twice = 0;
    for (const entry of this.entries.values()) {
      for (const count of entry.counts.values()) {
        if (count === 1) once++;
        else if (count === 2) twice++;
      }
    }
    const estimate = once + twice > 0 ? once / (once + 2 * twice) : 0.75;
    this.discount = Math.min(0.95, Math.max(0.05, estimate));
  }
}

const keyOf = (ids: ArrayLike<number>, from: number, to: number): string => {
  let key = "";
  for (let i = from; i < to; i++) key += (i === from ? "" : ",") + ids[i];
  return key;
};

/** Counts for every order up to maxOrder, shared by the models of a family. */
export class NgramCounts {
  /** raw[k]: counts of k-grams by their (k-1)-token context. */
  readonly raw: CountTable[] = [];
  /** continuation[k]: for each k-gram, the number of distinct tokens seen before it. */
  readonly continuation: CountTable[] = [];

  constructor(
    ids: ArrayLike<number>,
    readonly maxOrder: number,
  ) {
    for (let order = 1; order <= maxOrder; order++) {
      const table = new CountTable();
      for (let i = order - 1; i < ids.length; i++) {
        const key = keyOf(ids, i - order + 1, i);
        table.add(
          order === 1 ? [] : Array.from({ length: order - 1 }, (_, j) => ids[i - order + 1 + j]!),
          key,
          ids[i]!,
          1,
        );
      }
      table.fixDiscount();
      this.raw[order] = table;
    }
    for (let order = 1; order < maxOrder; order++) {
      // Each distinct (order+1)-gram (v, context, w) adds one to the continuation count of (context, w).
      const table = new CountTable();
      for (const entry of this.raw[order + 1]!.entries.values()) {
        const context = entry.context.slice(1);
        const key = context.join(",");
        for (const token of entry.counts.keys()) table.add(context, key, token, 1);
      }
      table.fixDiscount();
      this.continuation[order] = table;
    }
  }
}

export interface TopToken {
  id: number;
  logprob: number;
}

export class NgramModel {
  /** Stored statistics this model uses: its raw tables up to its order and the continuation tables below it. */
  readonly parameters: number;
  private readonly accumulator: Float64Array;
  private readonly touched: number[] = [];
  /** Token ids by falling order-1 probability, for the raw and continuation unigram tables. */
  private readonly unigramRanking: { raw: Int32Array; continuation: Int32Array | undefined };

  constructor(
    private readonly counts: NgramCounts,
    readonly order: number,
    readonly vocabularySize: number,
  ) {
    if (order < 1 || order > counts.maxOrder) throw new RangeError(`order ${order} is outside 1..${counts.maxOrder}`);
    let parameters = 0;
    for (let k = 1; k <= order; k++) parameters += counts.raw[k]!.pairs;
    for (let k = 1; k < order; k++) parameters += counts.continuation[k]!.pairs;
    this.parameters = parameters;
    this.accumulator = new Float64Array(vocabularySize);
    this.unigramRanking = {
      raw: rankUnigrams(counts.raw[1]!, vocabularySize),
      continuation: order > 1 ? rankUnigrams(counts.continuation[1]!, vocabularySize) : undefined,
    };
  }

  /** log P(token | the tokens before position `at` in ids). */
  logprob(ids: ArrayLike<number>, at: number, token: number): number {
    const top = Math.min(this.order, at + 1);
    let probability = 0;
    // Walk from the lowest order up: p_k = (max(c - D, 0) + D * types * p_{k-1}) / total.
    probability = this.unigram(top === 1, token);
    for (let k = 2; k <= top; k++) {
      const table = k === top ? this.counts.raw[k]! : this.counts.continuation[k]!;
      const entry = table.entries.get(keyOf(ids, at - k + 1, at));
      if (!entry) continue;
      const count = entry.counts.get(token) ?? 0;
      probability = (Math.max(count - table.discount, 0) + table.discount * entry.types * probability) / entry.total;
    }
    return Math.log(probability);
  }

  /**
   * The k most probable next tokens after position `at` (exclusive), exactly. Only tokens seen after one of the
   * contexts can rise above the rest, whose probabilities are a common factor times their order-1 probability,
   * so the search looks at those and at the top of the order-1 ranking instead of the whole vocabulary.
   */
  topTokens(ids: ArrayLike<number>, at: number, k: number): TopToken[] {
    if (k <= 0) return [];
    const top = Math.min(this.order, at + 1);
    let weight = 1;
    for (let level = top; level >= 2; level--) {
      const table = level === top ? this.counts.raw[level]! : this.counts.continuation[level]!;
      const entry = table.entries.get(keyOf(ids, at - level + 1, at));
      if (!entry) continue;
      for (const [token, count] of entry.counts) {
        if (this.accumulator[token] === 0) this.touched.push(token);
        this.accumulator[token]! += (weight * (count - table.discount)) / entry.total;
      }
      weight *= (table.discount * entry.types) / entry.total;
    }
    const rawUnigram = top === 1;
    const candidates = new Set(this.touched);
    const ranking = rawUnigram ? this.unigramRanking.raw : this.unigramRanking.continuation!;
    let added = 0;
    for (let i = 0; i < ranking.length && added < k; i++) {
      if (!candidates.has(ranking[i]!)) {
        candidates.add(ranking[i]!);
        added++;
      }
    }
    const scored = [...candidates].map((id) => ({
      id,
      probability: this.accumulator[id]! + weight * this.unigram(rawUnigram, id),
    }));
    for (const token of this.touched) this.accumulator[token] = 0;
    this.touched.length = 0;
    scored.sort((a, b) => b.probability - a.probability || a.id - b.id);
    // Report the winners through logprob(), so a token's top-k value is bit-identical to its token_logprob
    // (the sum above takes another floating-point path); a few extra candidates absorb last-bit reorderings.
    return scored
      .slice(0, k + 4)
      .map(({ id }) => ({ id, logprob: this.logprob(ids, at, id) }))
      .sort((a, b) => b.logprob - a.logprob || a.id - b.id)
      .slice(0, k);
  }

  private unigram(raw: boolean, token: number): number {
    const table = raw ? this.counts.raw[1]! : this.counts.continuation[1]!;
    const entry = table.entries.get("")!;
    const count = entry.counts.get(token) ?? 0;
    return (Math.max(count - table.discount, 0) + (table.discount * entry.types) / this.vocabularySize) / entry.total;
  }
}

function rankUnigrams(table: CountTable, vocabularySize: number): Int32Array {
  const counts = table.entries.get("")!.counts;
  const ids = Array.from({ length: vocabularySize }, (_, id) => id);
  ids.sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a - b);
  return Int32Array.from(ids);
}
