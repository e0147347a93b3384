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

/** ids[i], for an i the caller keeps inside ids. */
function idAt(ids: ArrayLike<number>, i: number): number {
  const id = ids[i];
  if (id === undefined) throw new RangeError(`position ${i} is outside the ${ids.length} ids`);
  return id;
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
          order === 1 ? [] : Array.from({ length: order - 1 }, (_, j) => idAt(ids, i - order + 1 + j)),
          key,
          idAt(ids, i),
          1,
        );
      }
      table.fixDiscount();
      this.raw[order] = table;
    }
    for (let order = 1; order < maxOrder; order++) {
      // Each distinct (order+1)-gram (v, context, w) adds one to the continuation count of (context, w).
      const table = new CountTable();
      for (const entry of this.table("raw", order + 1).entries.values()) {
        const context = entry.context.slice(1);
        const key = context.join(",");
        for (const token of entry.counts.keys()) table.add(context, key, token, 1);
      }
      table.fixDiscount();
      this.continuation[order] = table;
    }
  }

  /** The raw table of an order in 1..maxOrder, or the continuation table of one in 1..maxOrder-1. */
  table(kind: "raw" | "continuation", order: number): CountTable {
    const table = this[kind][order];
    if (!table) throw new RangeError(`there is no ${kind} table of order ${order} (maxOrder is ${this.maxOrder})`);
    return table;
  }
}

/** An order-1 table with its one context (the empty one), and token ids by falling order-1 probability. */
interface Unigrams {
  table: CountTable;
  entry: ContextEntry;
  ranking: Int32Array;
}

function unigramsOf(table: CountTable, vocabularySize: number): Unigrams {
  const entry = table.entries.get("");
  if (!entry) throw new RangeError("the counts have no order-1 context: the corpus is too short");
  return { table, entry, ranking: rankUnigrams(entry.counts, vocabularySize) };
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
  /** The raw and (above order 1) continuation unigrams. */
  private readonly unigrams: { raw: Unigrams; continuation: Unigrams | undefined };
  /** The unigram distributions over the whole vocabulary, made on first use by `probabilities`. */
  private readonly unigramVectors: { raw?: Float64Array; continuation?: Float64Array } = {};

  constructor(
    private readonly counts: NgramCounts,
    readonly order: number,
    readonly vocabularySize: number,
  ) {
    if (order < 1 || order > counts.maxOrder) throw new RangeError(`order ${order} is outside 1..${counts.maxOrder}`);
    let parameters = 0;
    for (let k = 1; k <= order; k++) parameters += counts.table("raw", k).pairs;
    for (let k = 1; k < order; k++) parameters += counts.table("continuation", k).pairs;
    this.parameters = parameters;
    this.accumulator = new Float64Array(vocabularySize);
    this.unigrams = {
      raw: unigramsOf(counts.table("raw", 1), vocabularySize),
      continuation: order > 1 ? unigramsOf(counts.table("continuation", 1), vocabularySize) : undefined,
    };
  }

  /** log P(token | the tokens before position `at` in ids). */
  logprob(ids: ArrayLike<number>, at: number, token: number): number {
    return Math.log(this.probability(ids, at, token));
  }

  /** P(token | the tokens before position `at` in ids). */
  probability(ids: ArrayLike<number>, at: number, token: number): number {
    const top = Math.min(this.order, at + 1);
    // Walk from the lowest order up: p_k = (max(c - D, 0) + D * types * p_{k-1}) / total.
    let probability = this.unigram(top === 1, token);
    for (let k = 2; k <= top; k++) {
      const table = this.counts.table(k === top ? "raw" : "continuation", k);
      const entry = table.entries.get(keyOf(ids, at - k + 1, at));
      if (!entry) continue;
      const count = entry.counts.get(token) ?? 0;
      probability = (Math.max(count - table.discount, 0) + table.discount * entry.types * probability) / entry.total;
    }
    return probability;
  }

  /**
   * P(every token of the vocabulary | the tokens before position `at`), each bit-identical to `probability`: the
   * same operations in the same order (for a token unseen after a context, max(0 - D, 0) + x is exactly x). One
   * pass over the vocabulary per order, with no look-ups, so a whole distribution costs a few microseconds.
   */
  probabilities(ids: ArrayLike<number>, at: number): Float64Array {
    const top = Math.min(this.order, at + 1);
    const probabilities = this.unigramVector(top === 1).slice();
    const seen: number[] = [];
    for (let k = 2; k <= top; k++) {
      const table = this.counts.table(k === top ? "raw" : "continuation", k);
      const entry = table.entries.get(keyOf(ids, at - k + 1, at));
      if (!entry) continue;
      const backoff = table.discount * entry.types;
      // The tokens seen after the context first, from the lower order's values, before the pass overwrites them.
      seen.length = 0;
      for (const [token, count] of entry.counts)
        seen.push(token, (Math.max(count - table.discount, 0) + backoff * (probabilities[token] ?? 0)) / entry.total);
      for (let id = 0; id < probabilities.length; id++)
        probabilities[id] = (backoff * (probabilities[id] ?? 0)) / entry.total;
      for (let i = 0; i < seen.length; i += 2) probabilities[seen[i] ?? 0] = seen[i + 1] ?? 0;
    }
    return probabilities;
  }

  /** The order-1 distribution over the vocabulary (raw, or continuation counts above order 1), computed once. */
  private unigramVector(raw: boolean): Float64Array {
    const cached = raw ? this.unigramVectors.raw : this.unigramVectors.continuation;
    if (cached) return cached;
    const vector = Float64Array.from({ length: this.vocabularySize }, (_, id) => this.unigram(raw, id));
    if (raw) this.unigramVectors.raw = vector;
    else this.unigramVectors.continuation = vector;
    return vector;
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
      const table = this.counts.table(level === top ? "raw" : "continuation", level);
      const entry = table.entries.get(keyOf(ids, at - level + 1, at));
      if (!entry) continue;
      for (const [token, count] of entry.counts) {
        const sum = this.accumulated(token);
        if (sum === 0) this.touched.push(token);
        this.accumulator[token] = sum + (weight * (count - table.discount)) / entry.total;
      }
      weight *= (table.discount * entry.types) / entry.total;
    }
    const rawUnigram = top === 1;
    const candidates = new Set(this.touched);
    let added = 0;
    for (const id of this.unigramsFor(rawUnigram).ranking) {
      if (added >= k) break;
      if (!candidates.has(id)) {
        candidates.add(id);
        added++;
      }
    }
    const scored = [...candidates].map((id) => ({
      id,
      probability: this.accumulated(id) + weight * this.unigram(rawUnigram, id),
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

  /** What topTokens has summed so far for a token of the vocabulary. */
  private accumulated(token: number): number {
    const sum = this.accumulator[token];
    if (sum === undefined) throw new RangeError(`token ${token} is outside the vocabulary of ${this.vocabularySize}`);
    return sum;
  }

  /** Continuation unigrams are read only above order 1, where the constructor made them. */
  private unigramsFor(raw: boolean): Unigrams {
    const unigrams = raw ? this.unigrams.raw : this.unigrams.continuation;
    if (!unigrams) throw new RangeError("an order-1 model has no continuation unigrams");
    return unigrams;
  }

  private unigram(raw: boolean, token: number): number {
    const { table, entry } = this.unigramsFor(raw);
    const count = entry.counts.get(token) ?? 0;
    return (Math.max(count - table.discount, 0) + (table.discount * entry.types) / this.vocabularySize) / entry.total;
  }
}

function rankUnigrams(counts: ReadonlyMap<number, number>, vocabularySize: number): Int32Array {
  const ids = Array.from({ length: vocabularySize }, (_, id) => id);
  ids.sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a - b);
  return Int32Array.from(ids);
}
