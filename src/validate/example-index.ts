import { hash53 } from "../util/hash";
import type { IssueCollector } from "./issues";
import type { Example } from "./row-rules";

/**
 * Finds repeated examples across the file in one pass. Each example is reduced to a 53-bit hash of its question
 * (everything but the answer) mapped to a packed number (first line and a code for its answer), in a typed-array
 * table of 16-32 bytes an example, so a 500,000-row file costs ~16 MB rather than a copy of every prompt.
 * A hash collision (odds ~1e-5 at 500,000 rows) could at worst add or hide one warning.
 */
export class ExampleIndex {
  private readonly firstSeen = new NumberTable();
  private answers = new Map<string, number>();
  private readonly answerCounts = new Map<number | string, number>();

  constructor(private readonly issues: IssueCollector) {}

  add(example: Example): void {
    const { question, answer } = identity(example);
    const key = hash53(question);
    const answerCode = this.answerCode(answer);
    const packed = example.line * 2 ** 20 + answerCode;
    const previous = this.firstSeen.get(key);
    if (answer !== undefined) this.answerCounts.set(answer, (this.answerCounts.get(answer) ?? 0) + 1);
    if (previous === undefined) {
      this.firstSeen.set(key, packed);
      return;
    }
    const firstLine = Math.floor(previous / 2 ** 20);
    const where = { line: example.line, row: example.row };
    if (previous % 2 ** 20 === answerCode) {
      this.issues.add(
        "duplicate_example",
        () => `This example repeats the one on line ${firstLine}; remove one copy.`,
        where,
      );
    } else {
      this.issues.add(
        "conflicting_answers",
        () =>
          `This example has the same prompt and choices as line ${firstLine} but a different answer; keep the correct one.`,
        { ...where, column: example.taskType === "numeric" ? "true_answer" : "answer_index" },
      );
    }
  }

  /** The single answer every example shares, when there are at least two examples and an answer column. */
  constantAnswer(): { answer: number | string; examples: number } | undefined {
    const [only] = this.answerCounts;
    if (this.answerCounts.size !== 1 || !only) return undefined;
    const [answer, examples] = only;
    return examples >= 2 ? { answer, examples } : undefined;
  }

  private answerCode(answer: number | string | undefined): number {
    if (answer === undefined) return 0;
    const text = String(answer);
    let code = this.answers.get(text);
    if (code === undefined) {
      // Codes beyond 2^20 - 1 share one value: such files (a distinct numeric answer per row) only lose the
      // distinction between duplicate and conflict for examples that repeat a question.
      code = Math.min(this.answers.size + 1, 2 ** 20 - 1);
      if (this.answers.size < 2 ** 20) this.answers.set(text, code);
    }
    return code;
  }
}

function identity(example: Example): { question: string; answer: number | string | undefined } {
  const SEP = "\u0000";
  switch (example.taskType) {
    case "classification":
      return { question: example.prompt + SEP + example.classes.join(SEP), answer: example.answerIndex };
    case "logodds":
    case "absolute_logodds":
      return {
        question: example.prompt + SEP + example.otherPrompt + SEP + example.classes.join(SEP),
        answer: example.answerIndex,
      };
    case "sequence_prob":
      return { question: example.prompt + SEP + example.completion, answer: undefined };
    case "numeric":
      return { question: example.prompt + SEP + example.anchor, answer: example.trueAnswer };
    // Model-written evaluations find repeats with their own index (src/validate/mwe/question-index.ts).
    case "behaviour":
      return { question: example.prompt + SEP + example.classes.join(SEP), answer: example.matchingCount };
  }
}

/**
 * An open-addressing hash table from 53-bit integer keys to numbers. A Map keyed by such numbers stores each key
 * as a heap number and was the validator's single largest cost; this keeps keys and values in typed arrays.
 */
export class NumberTable {
  private capacity = 1 << 12;
  private size = 0;
  private keysLow = new Uint32Array(this.capacity);
  private keysHigh = new Uint32Array(this.capacity);
  /** 0 marks an empty slot: stored values are packed lines (line >= 1), never 0. */
  private values = new Float64Array(this.capacity);

  get(key: number): number | undefined {
    const slot = this.find(key);
    return this.values[slot] || undefined;
  }

  set(key: number, value: number): void {
    if (value === 0) throw new RangeError("NumberTable cannot store 0");
    if ((this.size + 1) * 4 > this.capacity * 3) this.grow();
    const slot = this.find(key);
    if (this.values[slot] === 0) {
      this.keysLow[slot] = key >>> 0;
      this.keysHigh[slot] = Math.floor(key / 2 ** 32);
      this.size++;
    }
    this.values[slot] = value;
  }

  private find(key: number): number {
    const low = key >>> 0;
    const high = Math.floor(key / 2 ** 32);
    const mask = this.capacity - 1;
    let slot = (low ^ Math.imul(high, 0x9e3779b1)) & mask;
    while (this.values[slot] !== 0 && (this.keysLow[slot] !== low || this.keysHigh[slot] !== high))
      slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const { keysLow, keysHigh, values } = this;
    this.capacity *= 2;
    this.keysLow = new Uint32Array(this.capacity);
    this.keysHigh = new Uint32Array(this.capacity);
    this.values = new Float64Array(this.capacity);
    this.size = 0;
    for (const [slot, value] of values.entries()) {
      if (value === 0) continue;
      const high = keysHigh[slot];
      const low = keysLow[slot];
      // The three arrays are parallel: one capacity.
      if (high === undefined || low === undefined) throw new RangeError(`slot ${slot} has no key`);
      this.set(high * 2 ** 32 + low, value);
    }
  }
}
