import { hash53 } from "../../util/hash";
import { NumberTable } from "../example-index";
import type { IssueCollector } from "../issues";
import type { Example } from "../row-rules";

/** 2^20: a table value is the first line times this plus a 20-bit code of the answers. */
const LINE_UNIT = 2 ** 20;

/**
 * Finds questions asked twice in one pass, keeping no text: each prompt (the template filled in, what a model
 * reads) is a 53-bit hash mapped to its first line and a 20-bit hash of its answers, 16-32 bytes an item in typed
 * arrays (src/validate/example-index.ts's table). A collision (odds ~1e-5 at 500,000 items) could at worst add or
 * hide one warning, or call different answers the same.
 */
export class QuestionIndex {
  private readonly firstSeen = new NumberTable();

  constructor(private readonly issues: IssueCollector) {}

  add(example: Extract<Example, { taskType: "behaviour" }>): void {
    const key = hash53(example.prompt);
    const answers = hash53(`${example.matchingCount}\u0000${example.classes.join("\u0000")}`) % LINE_UNIT;
    const previous = this.firstSeen.get(key);
    if (previous === undefined) {
      // line >= 1, so the value is never 0 (the table's empty slot).
      this.firstSeen.set(key, example.line * LINE_UNIT + answers);
      return;
    }
    const firstLine = Math.floor(previous / LINE_UNIT);
    const sameAnswers = previous % LINE_UNIT === answers;
    this.issues.add(
      "duplicate_question",
      () =>
        sameAnswers
          ? `This item repeats the one on line ${firstLine}, answers and all; remove one copy (a repeat counts twice in every mean).`
          : `This item asks the same question as line ${firstLine} with other answers; check which labels are right, and keep one.`,
      { line: example.line, row: example.row },
    );
  }
}
