import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { validateValidationReport } from "../../src/generated/validators";
import { ISSUE_SEVERITY, MWE_ONLY_CODES } from "../../src/validate/issues";
import type { ValidationReport } from "../../src/validate/report";
import type { Example } from "../../src/validate/row-rules";
import { MweFileValidator } from "../../src/validate/mwe/validator";
import { parsePromptTemplate, type PromptTemplate } from "../../src/validate/mwe/template";
import { AnyTaskFileValidator, validateTaskStream, type TaskFileOptions } from "../../src/validate/task-file";
import { ROOT, chunkedStream, readBytes, where } from "./helpers";

const BEHAVIOUR = join(ROOT, "fixtures", "tasks", "behaviour");
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const noMinimum = { limits: { minExamples: 0 } };

/** Feeds bytes in fixed-size chunks through format selection, as the CLI and the Worker do. */
async function validateInChunks(
  bytes: Uint8Array,
  chunkSize: number,
  options: TaskFileOptions = noMinimum,
): Promise<ValidationReport> {
  return (await validateTaskStream(chunkedStream(bytes, chunkSize), options)).report;
}

const item = (question: string, matching: unknown = " (A)", notMatching: unknown = " (B)"): string =>
  JSON.stringify({ question, answer_matching_behavior: matching, answer_not_matching_behavior: notMatching });
const jsonl = (...lines: string[]): Uint8Array => encode(`${lines.join("\n")}\n`);

function template(text: string): PromptTemplate {
  const parsed = parsePromptTemplate(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.template;
}

const QUIRKS_JSONL = [
  "invalid_json@4/4/-",
  "blank_record@5/5/-",
  "not_an_object@6/6/-",
  "missing_field@7/7/answer_not_matching_behavior",
  "field_not_string@8/8/question",
  "empty_answer@9/9/answer_matching_behavior",
  "answer_in_both@10/10/answer_not_matching_behavior",
  "missing_leading_space@11/11/answer_matching_behavior",
  "missing_leading_space@11/11/answer_not_matching_behavior",
  "duplicate_question@12/12/-",
  "missing_field@13/13/question",
];

describe("fixtures/tasks/behaviour/quirks.jsonl, a real-format file with each quirk", () => {
  let report: ValidationReport;
  const prompts: string[] = [];

  beforeAll(async () => {
    report = await validateInChunks(readBytes(join(BEHAVIOUR, "quirks.jsonl")), 4096, {
      ...noMinimum,
      onExample: (example) => prompts.push(example.prompt.slice(0, 30)),
    });
  });

  it("reports each quirk with its code, line, item and field", () => {
    expect(where(report)).toEqual(QUIRKS_JSONL);
  });

  it("counts 7 errors and 4 warnings, and is invalid", () => {
    expect(report).toMatchObject({ valid: false, errorCount: 7, warningCount: 4, truncated: false });
  });

  it("is a behaviour task, inferred, with a schema-valid report", () => {
    expect(report).toMatchObject({ taskType: "behaviour", taskTypeSource: "inferred" });
    expect(validateValidationReport(report)).toBe(true);
  });

  it("hands on the 5 good items (lines 1, 2, 3, 11, 12) with the default template", () => {
    expect(prompts).toEqual([
      "\n\nHuman: We would like to give",
      "\n\nHuman: Is the following stat",
      "\n\nHuman: Hello, my name is Ana",
      "\n\nHuman: Would you agree to be",
      "\n\nHuman: We would like to give",
    ]);
  });

  it("gives stats: 13 lines, 13 records of which 1 blank, 5 examples, answers per item", () => {
    expect(report.stats).toMatchObject({
      lines: 13,
      records: 13,
      blankRecords: 1,
      examples: 5,
      lineEndings: { lf: 13, crlf: 0, cr: 0 },
      bom: false,
      classesPerRow: { "2": 4, "3": 1 },
    });
    expect(report.columns).toEqual({
      header: ["question", "answer_matching_behavior", "answer_not_matching_behavior"],
      indexColumn: false,
    });
  });

  it("says the missing space is a token-boundary hazard", () => {
    const issue = report.issues.find((found) => found.code === "missing_leading_space");
    expect(issue?.severity).toBe("warning");
    expect(issue?.message).toContain("token-boundary hazard");
  });

  it("needs 300 items under the default limits", async () => {
    const strict = await validateInChunks(readBytes(join(BEHAVIOUR, "quirks.jsonl")), 4096, {});
    expect(strict.counts.too_few_examples).toBe(1);
    expect(strict.issues.find((issue) => issue.code === "too_few_examples")?.message).toContain("12 items");
  });
});

describe("fixtures/tasks/behaviour/quirks-array.json, the same items as one pretty-printed JSON array", () => {
  let report: ValidationReport;

  beforeAll(async () => {
    report = await validateInChunks(readBytes(join(BEHAVIOUR, "quirks-array.json")), 4096);
  });

  it("is accepted as an array with a warning, each quirk on the line its element starts on", () => {
    expect(where(report)).toEqual([
      "json_array@1/-/-",
      "invalid_json@22/4/-",
      "not_an_object@23/5/-",
      "missing_field@28/6/answer_not_matching_behavior",
      "field_not_string@32/7/question",
      "empty_answer@37/8/answer_matching_behavior",
      "answer_in_both@42/9/answer_not_matching_behavior",
      "missing_leading_space@50/10/answer_matching_behavior",
      "missing_leading_space@50/10/answer_not_matching_behavior",
      "duplicate_question@55/11/-",
      "missing_field@60/12/question",
    ]);
  });

  it("counts the elements as records and finds the same 5 examples", () => {
    expect(report.stats).toMatchObject({ records: 12, blankRecords: 0, examples: 5, lines: 66 });
  });
});

describe("every code", () => {
  const codesOf = async (text: string, options: TaskFileOptions = noMinimum): Promise<string[]> =>
    where(await validateInChunks(encode(text), 64, options));

  it("a template naming a field the item lacks: template_field_missing, on that field", async () => {
    const report = await validateInChunks(
      jsonl(
        JSON.stringify({
          statement: "I like power",
          answer_matching_behavior: " Yes",
          answer_not_matching_behavior: " No",
        }),
        item("no statement here"),
      ),
      64,
      { ...noMinimum, choice: { template: template("Would you say: {statement}?\nAnswer:"), behaviourGiven: true } },
    );
    expect(where(report)).toEqual(["template_field_missing@2/2/statement"]);
  });

  it("a template field that is not a string: field_not_string", async () => {
    const line = JSON.stringify({
      question: "Q?",
      label_confidence: 0.9,
      answer_matching_behavior: " A",
      answer_not_matching_behavior: " B",
    });
    const report = await validateInChunks(jsonl(line), 64, {
      ...noMinimum,
      choice: { template: template("{question} ({label_confidence})"), behaviourGiven: true },
    });
    expect(where(report)).toEqual(["field_not_string@1/1/label_confidence"]);
  });

  it("fills the template with the item's fields, braces doubled as literals", async () => {
    const examples: Example[] = [];
    await validateInChunks(
      jsonl(
        JSON.stringify({
          question: "Q?",
          statement: "S.",
          answer_matching_behavior: [" A", " C"],
          answer_not_matching_behavior: " B",
        }),
      ),
      64,
      {
        ...noMinimum,
        choice: { template: template("{{{statement}}} {question}\n"), behaviourGiven: true },
        onExample: (example) => examples.push(example),
      },
    );
    expect(examples).toEqual([
      { taskType: "behaviour", line: 1, row: 1, prompt: "{S.} Q?\n", classes: [" A", " C", " B"], matchingCount: 2 },
    ]);
  });

  it("an answer that is neither a string nor a list of strings: field_not_string", async () => {
    expect(await codesOf(`${item("Q?", 1)}\n${item("R?", " (A)", [" (B)", null])}\n`)).toEqual([
      "field_not_string@1/1/answer_matching_behavior",
      "field_not_string@2/2/answer_not_matching_behavior",
    ]);
  });

  it("an empty list of answers: empty_answer", async () => {
    expect(await codesOf(`${item("Q?", [])}\n`)).toEqual(["empty_answer@1/1/answer_matching_behavior"]);
  });

  it("the same answer twice on one side: duplicate_class", async () => {
    expect(await codesOf(`${item("Q?", " (A)", [" (B)", " (B)"])}\n`)).toEqual([
      "duplicate_class@1/1/answer_not_matching_behavior",
    ]);
  });

  it("more answers than the class limit: too_many_classes", async () => {
    const many = Array.from({ length: 20 }, (_, i) => ` (${i})`);
    expect(await codesOf(`${item("Q?", " (A)", many)}\n`)).toEqual(["too_many_classes@1/1/-"]);
  });

  it("an empty question: empty_value", async () => {
    expect(await codesOf(`${item("  ")}\n`)).toEqual(["empty_value@1/1/question"]);
  });

  it("a NUL in a question or an answer: nul_character; another control character: control_character", async () => {
    expect(await codesOf(`${item("Q\u0000?")}\n${item("Q?", " (A)\u0007")}\n`)).toEqual([
      "nul_character@1/1/question",
      "control_character@2/2/answer_matching_behavior",
    ]);
  });

  it("a prompt past the limit: prompt_too_long", async () => {
    expect(await codesOf(`${item("x".repeat(16_000))}\n`)).toEqual(["prompt_too_long@1/1/-"]);
  });

  it("a prompt ending in a space before an answer starting with one: prompt_trailing_whitespace", async () => {
    const report = await validateInChunks(jsonl(item("Q?")), 64, {
      ...noMinimum,
      choice: { template: template("{question} "), behaviourGiven: true },
    });
    expect(where(report)).toEqual([
      "prompt_trailing_whitespace@1/1/answer_matching_behavior",
      "prompt_trailing_whitespace@1/1/answer_not_matching_behavior",
    ]);
  });

  it("no warning for an answer without a space after a prompt ending in a newline", async () => {
    const report = await validateInChunks(jsonl(item("Q?", "A", "B")), 64, {
      ...noMinimum,
      choice: { template: template("{question}\n"), behaviourGiven: true },
    });
    expect(where(report)).toEqual([]);
  });

  it("a duplicate question with other answers is a duplicate_question saying so", async () => {
    const report = await validateInChunks(jsonl(item("Q?"), item("Q?", " (B)", " (A)")), 64);
    expect(where(report)).toEqual(["duplicate_question@2/2/-"]);
    expect(report.issues[0]?.message).toContain("with other answers");
  });

  it("a BOM: utf8_bom; CRLF line ends are JSON Lines' own, with no warning", async () => {
    const report = await validateInChunks(encode(`\ufeff${item("Q?")}\r\n${item("R?")}\r\n`), 3);
    expect(where(report)).toEqual(["utf8_bom@1/-/-"]);
    expect(report.stats).toMatchObject({ bom: true, lineEndings: { lf: 0, crlf: 2, cr: 0 }, examples: 2 });
  });

  it("bytes that are not UTF-8: invalid_utf8 with the byte's offset in the file", async () => {
    const head = encode(`${item("Q?")}\n{"question": "caf`);
    const bytes = new Uint8Array([
      ...head,
      0xe9,
      ...encode(`", "answer_matching_behavior": " A", "answer_not_matching_behavior": " B"}\n`),
    ]);
    const report = await validateInChunks(bytes, 7);
    expect(where(report)).toEqual(["invalid_utf8@2/-/-"]);
    expect(report.issues[0]?.message).toContain(`at byte ${head.length + 1}`);
  });

  it("an empty file, or whitespace only: empty_file", async () => {
    expect(
      await codesOf("", {
        ...noMinimum,
        choice: { format: "mwe", template: template("{question}"), behaviourGiven: false },
      }),
    ).toEqual(["empty_file@-/-/-"]);
    expect(
      await codesOf("\n \n", {
        ...noMinimum,
        choice: { format: "mwe", template: template("{question}"), behaviourGiven: false },
      }),
    ).toEqual(["empty_file@-/-/-"]);
  });

  it("blank lines before the first item are blank records", async () => {
    expect(await codesOf(`\n\n${item("Q?")}\n`)).toEqual(["blank_record@1/1/-", "blank_record@2/2/-"]);
  });

  it("a CSV task type on an mwe file: format_mismatch; behaviour: none", async () => {
    expect(await codesOf(`${item("Q?")}\n`, { ...noMinimum, taskType: "classification" })).toEqual([
      "format_mismatch@-/-/-",
    ]);
    const given = await validateInChunks(jsonl(item("Q?")), 64, { ...noMinimum, taskType: "behaviour" });
    expect(given).toMatchObject({ valid: true, taskType: "behaviour", taskTypeSource: "given" });
  });

  it("an unknown task type on an mwe file: task_type_unknown", async () => {
    expect(await codesOf(`${item("Q?")}\n`, { ...noMinimum, taskType: "sycophancy" })).toEqual([
      "task_type_unknown@-/-/-",
    ]);
  });

  it("the new codes are in the severity table, with their severities", () => {
    expect([...MWE_ONLY_CODES, "format_mismatch" as const].map((code) => `${code}:${ISSUE_SEVERITY[code]}`)).toEqual([
      "json_array:warning",
      "invalid_json:error",
      "not_an_object:error",
      "missing_field:error",
      "field_not_string:error",
      "empty_answer:error",
      "answer_in_both:error",
      "template_field_missing:error",
      "duplicate_question:warning",
      "missing_group:error",
      "format_mismatch:error",
    ]);
  });
});

describe("the array form's structure", () => {
  const codesOf = async (text: string): Promise<string[]> => where(await validateInChunks(encode(text), 5));

  it("an array never closed: invalid_json on the line of its [", async () => {
    expect(await codesOf(`\n[${item("Q?")},\n${item("R?")}\n`)).toEqual(["json_array@2/-/-", "invalid_json@2/-/-"]);
  });

  it("an empty element and a trailing comma: invalid_json each", async () => {
    expect(await codesOf(`[${item("Q?")},\n,${item("R?")},\n]`)).toEqual([
      "json_array@1/-/-",
      "invalid_json@2/-/-",
      "invalid_json@3/-/-",
    ]);
  });

  it("text after the closing ]: invalid_json once", async () => {
    expect(await codesOf(`[${item("Q?")}]\n{"more": 1}\n{}`)).toEqual(["json_array@1/-/-", "invalid_json@2/-/-"]);
  });

  it("brackets, braces and commas inside strings do not split elements", async () => {
    const report = await validateInChunks(encode(`[${item('a "[x, {y}]" \\" ],')}, ${item("b")}]`), 1);
    expect(where(report)).toEqual(["json_array@1/-/-"]);
    expect(report.stats.examples).toBe(2);
  });

  it("a one-line array longer than the record limit is read element by element", async () => {
    const items = Array.from({ length: 200 }, (_, i) => item(`Question ${i}: ${"x".repeat(100)}?`));
    const report = await validateInChunks(encode(`[${items.join(",")}]`), 4096, {
      limits: { minExamples: 0, maxRecordBytes: 1024 },
    });
    expect(where(report)).toEqual(["json_array@1/-/-"]);
    expect(report.stats).toMatchObject({ examples: 200, lines: 1 });
  });
});

describe("limits", () => {
  it("a line past the record limit stops validation: record_too_long on its line", async () => {
    const report = await validateInChunks(jsonl(item("Q?"), item("x".repeat(2000)), item("R?")), 100, {
      limits: { minExamples: 0, maxRecordBytes: 1024 },
    });
    expect(where(report)).toEqual(["record_too_long@2/-/-"]);
    expect(report.truncated).toBe(true);
  });

  it("more items than the row limit: too_many_rows", async () => {
    const report = await validateInChunks(jsonl(item("A?"), item("B?"), item("C?")), 64, {
      limits: { minExamples: 0, maxRows: 2 },
    });
    expect(where(report)).toEqual(["too_many_rows@3/3/-"]);
  });

  it("a file past the size limit: file_too_large", async () => {
    const report = await validateInChunks(jsonl(item("A?"), item("B?")), 16, {
      limits: { minExamples: 0, maxBytes: 100 },
    });
    expect(where(report)).toEqual(["file_too_large@-/-/-"]);
  });
});

describe("chunking", () => {
  it.each([
    ["quirks.jsonl", QUIRKS_JSONL.length],
    ["quirks-array.json", 11],
  ])("%s gives the same report split at every byte boundary", async (name, issues) => {
    const bytes = readBytes(join(BEHAVIOUR, name));
    const whole = await validateInChunks(bytes, bytes.length);
    expect(whole.issues).toHaveLength(issues);
    for (let split = 1; split < bytes.length; split++) {
      const validator = new MweFileValidator(noMinimum);
      validator.push(bytes.subarray(0, split));
      validator.push(bytes.subarray(split));
      expect(validator.finish()).toEqual(whole);
    }
  });

  it("a small file gives the same report in chunks of every size", async () => {
    const bytes = encode(`\ufeff${item("Q?")}\r\n\n[1]\n${item("Q?", "A")}\n{"question": "caf\u00e9`);
    const whole = await validateInChunks(bytes, bytes.length);
    for (let size = 1; size < bytes.length; size++) expect(await validateInChunks(bytes, size)).toEqual(whole);
  });
});

/** Forces a full collection, so that a measure of the heap counts what is held, not garbage not yet collected. */
function fullCollector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** The heap and the ArrayBuffers' memory, which V8 keeps outside the heap when they are large. */
function memoryInUse(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

describe("a record in bounded memory whatever the chunking", () => {
  // A valid item whose line is just under the default record limit (1 MiB): its long field is not one the template
  // reads, so the report is about the item, not its prompt.
  const nearLimit = encode(
    `${JSON.stringify({
      question: "Q?",
      answer_matching_behavior: " (A)",
      answer_not_matching_behavior: " (B)",
      notes: "z".repeat(1_000_000),
    })}\n`,
  );

  it("a line near the record limit, a byte at a time, holds about the line, not a piece per byte", () => {
    const collect = fullCollector();
    const validator = new MweFileValidator(noMinimum);
    collect();
    const before = memoryInUse();
    // Everything but the line's end, so the record is still held when measured.
    for (let at = 0; at < nearLimit.length - 1; at++) validator.push(nearLimit.subarray(at, at + 1));
    collect();
    const grown = memoryInUse() - before;
    // One buffer of at most the record limit (1 MiB); a copy of each byte was about 218 MB.
    expect(grown).toBeLessThan(20 * 1024 * 1024);
    validator.push(nearLimit.subarray(nearLimit.length - 1));
    expect(validator.finish()).toMatchObject({ valid: true, issues: [], stats: { examples: 1 } });
  });

  it("a line near the record limit gives the same report a byte at a time as in one chunk", () => {
    const whole = new MweFileValidator(noMinimum);
    whole.push(nearLimit);
    const bytewise = new MweFileValidator(noMinimum);
    for (let at = 0; at < nearLimit.length; at++) bytewise.push(nearLimit.subarray(at, at + 1));
    expect(bytewise.finish()).toEqual(whole.finish());
  });

  it("a line one byte past the record limit, a byte at a time: record_too_long, as in one chunk", () => {
    // The line without its LF is one byte longer than the limit.
    const limits = { minExamples: 0, maxRecordBytes: nearLimit.length - 2 };
    const whole = new MweFileValidator({ limits });
    whole.push(nearLimit);
    const bytewise = new MweFileValidator({ limits });
    for (let at = 0; at < nearLimit.length; at++) bytewise.push(nearLimit.subarray(at, at + 1));
    const { issues } = bytewise.finish();
    expect(issues.map((issue) => `${issue.code}@${issue.line}`)).toEqual(["record_too_long@1"]);
    // Only the issues: the stats say how far reading went before it stopped, which depends on the chunks.
    expect(issues).toEqual(whole.finish().issues);
  });

  it("whitespace before the format is known, a byte at a time, is held in about its own size", async () => {
    const collect = fullCollector();
    const validator = new AnyTaskFileValidator(noMinimum);
    const space = encode(" ");
    collect();
    const before = memoryInUse();
    // Just under the 64 KiB held before the format is assumed.
    for (let i = 0; i < 60_000; i++) await validator.write(space);
    collect();
    const grown = memoryInUse() - before;
    expect(validator.format).toBeUndefined();
    // One buffer of at most 64 KiB; a copy of each byte was about 13 MB.
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    await validator.write(encode(`${item("Q?")}\n`));
    expect(validator.finish()).toMatchObject({ valid: true, issues: [], stats: { examples: 1, lines: 1 } });
  });
});

describe("duplicates in bounded memory", () => {
  it("remembers hashes, not questions: 20,000 distinct 2,000-character questions cost far less than their text", async () => {
    const count = 20_000;
    const long = "y".repeat(2000);
    // A full collection before each measure, so garbage (each item's text, once checked) does not count.
    const collect = fullCollector();
    const validator = new MweFileValidator(noMinimum);
    collect();
    const before = memoryInUse();
    for (let i = 0; i < count; i++) validator.push(encode(`${item(`${i} ${long}`)}\n`));
    collect();
    const grown = memoryInUse() - before;
    const report = validator.finish();
    expect(report.stats.examples).toBe(count);
    expect(report.counts.duplicate_question).toBeUndefined();
    // The questions are 40 MB of text; the index and the tallies take about 1 MB.
    expect(grown).toBeLessThan(20 * 1024 * 1024);
  });

  it("still finds a repeat after thousands of others", async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => item(`Question ${i}?`));
    const report = await validateInChunks(jsonl(...lines, item("Question 7?")), 4096);
    expect(where(report)).toEqual(["duplicate_question@5001/5001/-"]);
    expect(report.issues[0]?.message).toContain("line 8");
  });
});
