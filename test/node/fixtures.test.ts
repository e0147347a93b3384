import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, validateFile, where } from "./helpers";
import type { ValidatorOptions } from "../../src/validate/validator";

const INVALID = join(ROOT, "fixtures", "tasks", "invalid");
const VALID = join(ROOT, "fixtures", "tasks", "valid");
const small = { minExamples: 0 };

/** Every small fixture: the options it is validated with and the exact issues expected (code@line/row/column). */
const CASES: Record<string, { options?: ValidatorOptions; valid: boolean; issues: string[] }> = {
  empty_file: { valid: false, issues: ["empty_file@-/-/-"] },
  file_too_large: { options: { limits: { ...small, maxBytes: 100 } }, valid: false, issues: ["file_too_large@-/-/-"] },
  too_many_rows: { options: { limits: { ...small, maxRows: 2 } }, valid: false, issues: ["too_many_rows@4/3/-"] },
  record_too_long: {
    options: { limits: { ...small, maxRecordBytes: 200 } },
    valid: false,
    issues: ["record_too_long@3/-/-"],
  },
  invalid_utf8: { valid: false, issues: ["invalid_utf8@3/-/-"] },
  utf8_bom: { valid: true, issues: ["utf8_bom@1/-/-"] },
  crlf_line_endings: { valid: true, issues: ["crlf_line_endings@1/-/-"] },
  mixed_line_endings: { valid: true, issues: ["mixed_line_endings@2/-/-"] },
  unterminated_quote: { valid: false, issues: ["unterminated_quote@4/3/-"] },
  invalid_quotes: { valid: false, issues: ["invalid_quotes@2/1/-"] },
  blank_record: { valid: true, issues: ["blank_record@3/2/-"] },
  ragged_row: { valid: false, issues: ["ragged_row@4/2/-"] },
  missing_column: {
    options: { taskType: "classification" },
    valid: false,
    issues: ["missing_column@1/0/answer_index"],
  },
  duplicate_column: { valid: false, issues: ["duplicate_column@1/0/prompt"] },
  legacy_column: { valid: false, issues: ["legacy_column@1/0/filled_template", "legacy_column@1/0/answer_ix"] },
  unknown_column: { valid: true, issues: ["unknown_column@1/0/notes"] },
  column_name_whitespace: { valid: true, issues: ["column_name_whitespace@1/0/prompt"] },
  legacy_task_type: { options: { taskType: "single_word" }, valid: false, issues: ["legacy_task_type@-/-/-"] },
  task_type_unknown: { options: { taskType: "regression" }, valid: false, issues: ["task_type_unknown@-/-/-"] },
  // A CSV declared as a model-written evaluation's type.
  format_mismatch: { options: { taskType: "behaviour" }, valid: false, issues: ["format_mismatch@-/-/-"] },
  task_type_ambiguous: { valid: false, issues: ["task_type_ambiguous@1/0/-"] },
  task_type_undetermined: { valid: false, issues: ["task_type_undetermined@1/0/-", "unknown_column@1/0/text"] },
  empty_value: { valid: false, issues: ["empty_value@3/2/prompt"] },
  classes_invalid: { valid: false, issues: ["classes_invalid@3/2/classes"] },
  class_empty: { valid: false, issues: ["class_empty@3/2/classes"] },
  duplicate_class: { valid: false, issues: ["duplicate_class@3/2/classes"] },
  too_few_classes: { valid: false, issues: ["too_few_classes@3/2/classes"] },
  "wrong_class_count.logodds": {
    options: { taskType: "logodds" },
    valid: false,
    issues: ["wrong_class_count@3/2/classes"],
  },
  answer_index_invalid: {
    valid: false,
    issues: ["answer_index_invalid@3/2/answer_index", "answer_index_invalid@4/3/answer_index"],
  },
  answer_index_negative: { valid: false, issues: ["answer_index_negative@3/2/answer_index"] },
  answer_index_out_of_range: { valid: false, issues: ["answer_index_out_of_range@3/2/answer_index"] },
  answer_index_float: {
    valid: true,
    issues: ["answer_index_float@3/2/answer_index", "answer_index_float@4/3/answer_index"],
  },
  "number_invalid.numeric": { valid: false, issues: ["number_invalid@3/2/true_answer"] },
  missing_leading_space: { valid: true, issues: ["missing_leading_space@3/2/classes"] },
  prompt_trailing_whitespace: { valid: true, issues: ["prompt_trailing_whitespace@3/2/prompt"] },
  duplicate_example: { valid: true, issues: ["duplicate_example@4/3/-"] },
  conflicting_answers: { valid: false, issues: ["conflicting_answers@4/3/answer_index"] },
  constant_answer_index: { valid: true, issues: ["constant_answer_index@-/-/answer_index"] },
  too_few_examples: { options: { limits: { minExamples: 300 } }, valid: false, issues: ["too_few_examples@-/-/-"] },
  too_many_fields: { valid: false, issues: ["too_many_fields@3/2/65"] },
  too_many_classes: { valid: false, issues: ["too_many_classes@3/2/classes"] },
  prompt_too_long: {
    options: { limits: { maxPromptChars: 40 } },
    valid: false,
    issues: ["prompt_too_long@3/2/prompt"],
  },
  nul_character: { valid: false, issues: ["nul_character@3/2/prompt"] },
  control_character: { valid: true, issues: ["control_character@3/2/prompt"] },
  empty_group: { valid: false, issues: ["empty_group@3/2/group", "empty_group@4/3/group"] },
  group_too_long: { valid: false, issues: ["group_too_long@3/2/group"] },
  too_many_groups: { valid: false, issues: ["too_many_groups@52/51/group"] },
};

describe("one small fixture per issue code", () => {
  it.each(Object.entries(CASES))("%s.csv gives exactly its expected issues", async (name, expected) => {
    const options = { ...expected.options, limits: { ...small, ...expected.options?.limits } };
    const report = await validateFile(join(INVALID, `${name}.csv`), options);
    expect(where(report)).toEqual(expected.issues);
    expect(report.valid).toBe(expected.valid);
  });

  it("covers every issue code the CSV validator can emit", async () => {
    const { ISSUE_SEVERITY, MWE_ONLY_CODES } = await import("../../src/validate/issues");
    const covered = new Set(Object.values(CASES).flatMap((c) => c.issues.map((issue) => issue.split("@")[0])));
    // The codes only model-written evaluations get are covered by test/node/mwe-validate.test.ts.
    const csvCodes = Object.keys(ISSUE_SEVERITY).filter((code) => !MWE_ONLY_CODES.some((only) => only === code));
    expect([...covered].sort()).toEqual(csvCodes.sort());
  });
});

describe("valid fixtures, one per task type", () => {
  it.each(["classification", "sequence_prob", "logodds", "absolute_logodds", "numeric"])(
    "%s.csv is valid with no issues",
    async (type) => {
      const report = await validateFile(join(VALID, `${type}.csv`), { taskType: type });
      expect(where(report)).toEqual([]);
      expect(report).toMatchObject({ valid: true, taskType: type, taskTypeSource: "given" });
      expect(report.stats.examples).toBe(400);
    },
  );

  describe("the classification fixture's report", () => {
    let report: Awaited<ReturnType<typeof validateFile>>;

    beforeAll(async () => {
      report = await validateFile(join(VALID, "classification.csv"));
    });

    it("infers the task type and finds the index column", () => {
      expect(report.taskTypeSource).toBe("inferred");
      expect(report.columns.indexColumn).toBe(true);
    });

    it("counts the classes per row", () => {
      expect(report.stats.classesPerRow).toEqual({ "2": 134, "3": 133, "4": 133 });
    });

    it("gives the answer distribution over every example", () => {
      const answers = Object.values(report.stats.answerDistribution ?? {}).reduce((a, b) => a + b, 0);
      expect(answers).toBe(400);
    });

    it("gives the prompt lengths", () => {
      expect(report.stats.promptLength?.min).toBeGreaterThan(50);
    });
  });
});
