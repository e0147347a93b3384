import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { validateExample, validateValidationReport } from "../../src/generated/validators";
import { exampleLine } from "../../src/storage/example-line";
import { ISSUE_SEVERITY } from "../../src/validate/issues";
import { MweFileValidator } from "../../src/validate/mwe/validator";
import type { ValidationReport } from "../../src/validate/report";
import type { Example } from "../../src/validate/row-rules";
import { validateTaskStream, type TaskFileOptions } from "../../src/validate/task-file";
import { ROOT, chunkedStream, readBytes, validateFile, validateInChunks, where } from "./helpers";

const TASKS = join(ROOT, "fixtures", "tasks");
const GROUPED = join(TASKS, "grouped");
const INVALID = join(TASKS, "invalid");
const noMinimum = { limits: { minExamples: 0 } };
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A classification CSV with a group column: one row per group given, each question distinct. */
const groupedCsv = (groups: string[]): Uint8Array =>
  encode(
    `prompt,classes,answer_index,group\n${groups.map((group, i) => `Is ${i} even? Answer:,"[' Yes', ' No']",${i % 2},${group}`).join("\n")}\n`,
  );

/** A model-written evaluation: one item per entry, with that group field (none for undefined). */
const groupedJsonl = (groups: unknown[]): Uint8Array =>
  encode(
    `${groups
      .map((group, i) =>
        JSON.stringify({
          question: `Is ${i} even?`,
          answer_matching_behavior: " (A)",
          answer_not_matching_behavior: " (B)",
          ...(group === undefined ? {} : { group }),
        }),
      )
      .join("\n")}\n`,
  );

/** Validates bytes through format selection (CSV or mwe), as the CLI and the Worker do, keeping the examples. */
async function check(
  bytes: Uint8Array,
  chunkSize = bytes.length,
  options: TaskFileOptions = noMinimum,
): Promise<{ report: ValidationReport; examples: Example[] }> {
  const examples: Example[] = [];
  const { report } = await validateTaskStream(chunkedStream(bytes, chunkSize), {
    ...options,
    onExample: (example) => examples.push(example),
  });
  return { report, examples };
}

describe("fixtures/tasks/grouped/classification.csv: sums in three difficulty levels", () => {
  let report: ValidationReport;
  const examples: Example[] = [];

  beforeAll(async () => {
    report = await validateFile(join(GROUPED, "classification.csv"), {
      onExample: (example) => examples.push(example),
    });
  });

  it("is valid with no issues under the default limits, group not an unknown column", () => {
    expect(where(report)).toEqual([]);
    expect(report).toMatchObject({ valid: true, taskType: "classification", taskTypeSource: "inferred" });
  });

  it("lists its groups in first-appearance order with their examples", () => {
    expect(report.stats.groups).toEqual([
      { name: "easy", examples: 120 },
      { name: "medium", examples: 120 },
      { name: "hard", examples: 120 },
    ]);
  });

  it("hands on each example with its group", () => {
    expect(examples.slice(0, 4).map((example) => [example.line, example.group])).toEqual([
      [2, "easy"],
      [4, "medium"],
      [6, "hard"],
      [8, "easy"],
    ]);
  });

  it("stores the group last in each example's line, in the example schema", () => {
    const [first] = examples;
    expect(first && exampleLine(first)).toMatch(/,"group":"easy"\}\n$/);
    expect(examples.every((example) => validateExample(example))).toBe(true);
  });

  it("has a report in the report schema", () => {
    expect(validateValidationReport(report), JSON.stringify(validateValidationReport.errors)).toBe(true);
  });

  it("gives the same report fed a byte at a time", async () => {
    const bytes = readBytes(join(GROUPED, "classification.csv"));
    expect(await validateInChunks(bytes, 1)).toEqual(report);
  });
});

describe("a file without groups is as before", () => {
  it("has no groups in its stats and no group on its examples", async () => {
    const examples: Example[] = [];
    const report = await validateFile(join(TASKS, "valid", "classification.csv"), {
      onExample: (example) => examples.push(example),
    });
    expect("groups" in report.stats).toBe(false);
    expect(examples.some((example) => "group" in example)).toBe(false);
  });

  it("stores an example's line with no group key", async () => {
    const { examples } = await check(encode(`prompt,completion\nThe sky is, blue\n`));
    expect(examples.map(exampleLine)).toEqual([
      '{"taskType":"sequence_prob","line":2,"row":1,"prompt":"The sky is","completion":" blue"}\n',
    ]);
  });

  it("a model-written evaluation without group fields has no groups in its stats", async () => {
    const { report } = await check(readBytes(join(TASKS, "behaviour", "valid.jsonl")));
    expect("groups" in report.stats).toBe(false);
  });
});

describe("the group column in a CSV", () => {
  it("empty and whitespace-only cells: empty_group on each, and the rows are not examples", async () => {
    const report = await validateFile(join(INVALID, "empty_group.csv"), noMinimum);
    expect(where(report)).toEqual(["empty_group@3/2/group", "empty_group@4/3/group"]);
    expect(report).toMatchObject({ valid: false, stats: { examples: 1, groups: [{ name: "easy", examples: 1 }] } });
  });

  it("a group of 101 characters or more: group_too_long, its start and length in the message", async () => {
    const report = await validateFile(join(INVALID, "group_too_long.csv"), noMinimum);
    expect(where(report)).toEqual(["group_too_long@3/2/group"]);
    expect(report.issues[0]?.message).toBe(
      'The group starting "very hard very hard very hard " is 109 characters long; at most 100 are allowed. A group is a short label such as "easy" or "3-digit".',
    );
  });

  it("a group of exactly 100 characters is fine", async () => {
    const { report } = await check(groupedCsv(["x".repeat(100)]));
    expect(where(report)).toEqual([]);
  });

  it("a 51st group: too_many_groups once, on its row; the stats keep the first 50", async () => {
    const report = await validateFile(join(INVALID, "too_many_groups.csv"), noMinimum);
    expect(where(report)).toEqual(["too_many_groups@52/51/group"]);
    expect(report.stats.groups).toHaveLength(50);
    expect(report.stats.groups?.[0]).toEqual({ name: "level 1", examples: 2 });
    expect(report.stats.groups?.[49]).toEqual({ name: "level 50", examples: 1 });
    expect(report.stats.examples).toBe(53);
  });

  it("10,000 distinct groups: one too_many_groups, 50 groups in the stats", async () => {
    const { report } = await check(groupedCsv(Array.from({ length: 10_000 }, (_, i) => `g${i}`)));
    expect(report.counts).toEqual({ too_many_groups: 1 });
    expect(report.stats.groups).toHaveLength(50);
  });

  it("trims spaces around a group, and keeps its case and inner spaces", async () => {
    const { report, examples } = await check(groupedCsv([" very easy", "very easy ", "Very easy"]));
    expect(examples.map((example) => example.group)).toEqual(["very easy", "very easy", "Very easy"]);
    expect(report.stats.groups).toEqual([
      { name: "very easy", examples: 2 },
      { name: "Very easy", examples: 1 },
    ]);
  });

  it("a group seen only on rows with errors is listed with no examples", async () => {
    const bytes = encode(`prompt,classes,answer_index,group\n,"[' Yes', ' No']",0,hard\n`);
    const { report } = await check(bytes);
    expect(where(report)).toEqual(["empty_value@2/1/prompt"]);
    expect(report.stats.groups).toEqual([{ name: "hard", examples: 0 }]);
  });

  it("a NUL in a group: nul_character on the group", async () => {
    const { report } = await check(groupedCsv(["ea\u0000sy"]));
    expect(where(report)).toEqual(["nul_character@2/1/group"]);
  });

  it("works with every task type", async () => {
    const bytes = encode("prompt,true_answer,anchor,group\nHow many? More or less than 10:,7,10,low\n");
    const { report, examples } = await check(bytes);
    expect(where(report)).toEqual([]);
    expect(examples).toEqual([
      {
        taskType: "numeric",
        line: 2,
        row: 1,
        prompt: "How many? More or less than 10:",
        trueAnswer: 7,
        anchor: 10,
        group: "low",
      },
    ]);
  });

  it.each([
    ["Group", "group"],
    ["groups", "group"],
  ])("a column %s is unknown, with did you mean %s", async (name, near) => {
    const { report } = await check(encode(`prompt,completion,${name}\nThe sky is, blue,easy\n`));
    expect(report.issues.map((issue) => `${issue.code}: ${issue.message}`)).toEqual([
      `unknown_column: Column "${name}" is not part of the format and will be ignored; did you mean "${near}"?`,
    ]);
    expect("groups" in report.stats).toBe(false);
  });

  it("gives the same report in chunks of every size", async () => {
    const bytes = encode(
      `prompt,classes,answer_index,group\r\n"Q: 1?\nA:","[' a', ' b']",0, easy\r\nQ: 2?,"[' a', ' b']",1,\r\nQ: 3?,"[' a', ' b']",1,hard`,
    );
    const whole = await validateInChunks(bytes, bytes.length, noMinimum);
    expect(where(whole)).toEqual(["crlf_line_endings@1/-/-", "empty_group@4/2/group"]);
    for (let size = 1; size < bytes.length; size++)
      expect(await validateInChunks(bytes, size, noMinimum)).toEqual(whole);
  });
});

describe("fixtures/tasks/grouped/behaviour.jsonl: sycophancy items grouped by survey", () => {
  let report: ValidationReport;
  let examples: Example[];

  beforeAll(async () => {
    ({ report, examples } = await check(readBytes(join(GROUPED, "behaviour.jsonl")), 4096, {}));
  });

  it("is valid with no issues under the default limits", () => {
    expect(where(report)).toEqual([]);
    expect(report.valid).toBe(true);
  });

  it("lists its groups in first-appearance order with their examples", () => {
    expect(report.stats.groups).toEqual([
      { name: "nlp_survey", examples: 100 },
      { name: "philosophy", examples: 100 },
      { name: "political", examples: 100 },
    ]);
  });

  it("hands on each example with its group, in the example schema", () => {
    expect(examples.slice(0, 3).map((example) => example.group)).toEqual(["nlp_survey", "philosophy", "political"]);
    expect(examples.every((example) => validateExample(example))).toBe(true);
  });

  it("has a report in the report schema", () => {
    expect(validateValidationReport(report), JSON.stringify(validateValidationReport.errors)).toBe(true);
  });
});

describe("fixtures/tasks/grouped/quirks.jsonl: each group quirk of a model-written evaluation", () => {
  const QUIRKS = [
    "missing_group@1/1/group",
    "blank_record@2/2/-",
    "missing_group@5/5/group",
    "field_not_string@6/6/group",
    "empty_group@7/7/group",
    "group_too_long@8/8/group",
  ];
  let report: ValidationReport;
  let examples: Example[];

  beforeAll(async () => {
    ({ report, examples } = await check(readBytes(join(GROUPED, "quirks.jsonl"))));
  });

  it("reports each quirk with its code, line, item and field", () => {
    expect(where(report)).toEqual(QUIRKS);
    expect(report.valid).toBe(false);
  });

  it("reports the items without a group before the first with one as one range, on the first's line", () => {
    expect(report.issues[0]?.message).toBe(
      'The 2 items on lines 1 to 3 have no "group" field, but the item on line 4 has one: in a file with groups every item needs one. Add their groups, or remove the groups from the whole file.',
    );
  });

  it("reports a later item without a group on its own, naming the first item with one", () => {
    expect(report.issues[2]?.message).toBe(
      'This item has no "group" field, but the item on line 4 has one: in a file with groups every item needs one. Add its group, or remove the groups from the whole file.',
    );
  });

  it("says what a group that is not a string is", () => {
    expect(report.issues[3]?.message).toBe('The "group" field is a number (3); a group is a string.');
  });

  it("keeps the items without a group as examples, drops those with a bad group, and trims the last", () => {
    expect(examples.map((example) => [example.line, example.group ?? null])).toEqual([
      [1, null],
      [3, null],
      [4, "colours"],
      [5, null],
      [9, "numbers"],
    ]);
    expect(report.stats.groups).toEqual([
      { name: "colours", examples: 1 },
      { name: "numbers", examples: 1 },
    ]);
  });

  it("gives the same report split at every byte boundary, and fed a byte at a time", async () => {
    const bytes = readBytes(join(GROUPED, "quirks.jsonl"));
    for (let split = 1; split < bytes.length; split++) {
      const validator = new MweFileValidator(noMinimum);
      validator.push(bytes.subarray(0, split));
      validator.push(bytes.subarray(split));
      expect(validator.finish()).toEqual(report);
    }
    expect((await check(bytes, 1)).report).toEqual(report);
  });
});

describe("group fields of a model-written evaluation", () => {
  it("one item without a group before the first with one: the range names its line", async () => {
    const { report } = await check(groupedJsonl([undefined, "a"]));
    expect(report.issues.map((issue) => `${where({ ...report, issues: [issue] })[0]} ${issue.message}`)).toEqual([
      'missing_group@1/1/group The item on line 1 has no "group" field, but the item on line 2 has one: in a file with groups every item needs one. Add its group, or remove the groups from the whole file.',
    ]);
  });

  it("items without a group after the first with one: missing_group on each", async () => {
    const { report } = await check(groupedJsonl(["a", undefined, "a", undefined]));
    expect(where(report)).toEqual(["missing_group@2/2/group", "missing_group@4/4/group"]);
  });

  it("a group of null or a list is not a string: field_not_string", async () => {
    const { report } = await check(groupedJsonl([null, ["a"]]));
    expect(where(report)).toEqual(["field_not_string@1/1/group", "field_not_string@2/2/group"]);
  });

  it("a 51st group: too_many_groups once, on its item", async () => {
    const { report } = await check(groupedJsonl(Array.from({ length: 60 }, (_, i) => `g${i}`)));
    expect(where(report)).toEqual(["too_many_groups@51/51/group"]);
    expect(report.stats.groups).toHaveLength(50);
  });

  it("a file whose only group is in an item with other errors still has groups", async () => {
    const bytes = encode(`${JSON.stringify({ question: "Q?", answer_matching_behavior: " (A)", group: "a" })}\n`);
    const { report } = await check(bytes);
    expect(where(report)).toEqual(["missing_field@1/1/answer_not_matching_behavior"]);
    expect(report.stats.groups).toEqual([{ name: "a", examples: 0 }]);
  });
});

describe("the group codes", () => {
  it("are errors", () => {
    const codes = ["empty_group", "group_too_long", "too_many_groups", "missing_group"] as const;
    expect(codes.map((code) => ISSUE_SEVERITY[code])).toEqual(["error", "error", "error", "error"]);
  });

  it("a stored example's group is at most 100 characters and not empty, by the example schema", () => {
    const example = { taskType: "sequence_prob", line: 2, row: 1, prompt: "P", completion: " c" };
    expect(validateExample({ ...example, group: "x".repeat(100) })).toBe(true);
    expect(validateExample({ ...example, group: "x".repeat(101) })).toBe(false);
    expect(validateExample({ ...example, group: "" })).toBe(false);
  });
});

describe("the fixtures", () => {
  it("are what scripts/generate-fixtures.mjs makes, byte for byte", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "isv-tasks-"));
    try {
      await promisify(execFile)(process.execPath, [join(ROOT, "scripts", "generate-fixtures.mjs"), elsewhere]);
      for (const folder of ["valid", "invalid", "grouped"]) {
        const made = readdirSync(join(elsewhere, folder)).sort();
        expect(made).toEqual(readdirSync(join(TASKS, folder)).sort());
        for (const name of made)
          expect(readBytes(join(elsewhere, folder, name)), `${folder}/${name}`).toEqual(
            readBytes(join(TASKS, folder, name)),
          );
      }
    } finally {
      rmSync(elsewhere, { recursive: true });
    }
  });
});
