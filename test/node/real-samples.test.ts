import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REAL_TASKS, readBytes, validateFile, validateInChunks, where } from "./helpers";

describe("real files from the 2022 prize", () => {
  describe("syllogism-0shot", () => {
    let report: Awaited<ReturnType<typeof validateFile>>;

    beforeAll(async () => {
      report = await validateFile(join(REAL_TASKS, "syllogism-0shot.csv"));
    });

    it("is a valid classification task, with an index column", () => {
      expect(report).toMatchObject({ valid: true, taskType: "classification", taskTypeSource: "inferred" });
      expect(report.columns.indexColumn).toBe(true);
    });

    it("has 1,000 examples of two classes on 5,001 lines", () => {
      expect(report.stats).toMatchObject({ records: 1000, examples: 1000, lines: 5001, classesPerRow: { "2": 1000 } });
    });

    it("answers index 1 every time, which is its one issue", () => {
      expect(report.stats.answerDistribution).toEqual({ "1": 1000 });
      expect(where(report)).toEqual(["constant_answer_index@-/-/answer_index"]);
    });
  });

  it("lambada-1k is a valid sequence_prob task with no issues", async () => {
    const report = await validateFile(join(REAL_TASKS, "lambada-1k.csv"), { taskType: "sequence_prob" });
    expect(where(report)).toEqual([]);
    expect(report.stats).toMatchObject({ examples: 1000, lines: 4007 });
  });

  it("QA_bias-v2 is a logodds task that fails only the 300-example minimum", async () => {
    const report = await validateFile(join(REAL_TASKS, "QA_bias-v2.csv"), { taskType: "logodds" });
    expect(where(report)).toEqual(["too_few_examples@-/-/-"]);
    expect(report.stats.examples).toBe(40);
    expect(report.issues[0]?.message).toContain("40 examples; at least 300");
  });

  it("QA_bias-v2 without a type asks which of logodds and absolute_logodds it is", async () => {
    const report = await validateFile(join(REAL_TASKS, "QA_bias-v2.csv"));
    expect(report.counts.task_type_ambiguous).toBe(1);
  });

  it("sentiment_analysis uses the early schema and is rejected with did-you-mean errors", async () => {
    const report = await validateFile(join(REAL_TASKS, "sentiment_analysis.csv"));
    expect(report.valid).toBe(false);
    expect(where(report)).toEqual(["legacy_column@1/0/filled_template", "legacy_column@1/0/answer_ix"]);
    expect(report.issues.map((issue) => issue.message)).toEqual([
      expect.stringContaining('did you mean "prompt"'),
      expect.stringContaining('did you mean "answer_index"'),
    ]);
  });

  it.each([1, 5, 7, 4096])("gives the same report when fed in %i-byte chunks", async (size) => {
    for (const name of ["syllogism-0shot.csv", "QA_bias-v2.csv"]) {
      const options = name.startsWith("QA") ? { taskType: "logodds" } : {};
      const whole = await validateFile(join(REAL_TASKS, name), options);
      const chunked = await validateInChunks(readBytes(join(REAL_TASKS, name)), size, options);
      expect(chunked).toEqual(whole);
    }
  });
});
