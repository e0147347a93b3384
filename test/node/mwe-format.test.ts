import { describe, expect, it } from "vitest";
import { DEFAULT_PROMPT_TEMPLATE, parsePromptTemplate } from "../../src/validate/mwe/template";
import { readFormatChoice, validateTaskStream, type TaskFileOptions } from "../../src/validate/task-file";
import { where } from "./helpers";

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const ITEM = JSON.stringify({ question: "Q?", answer_matching_behavior: " (A)", answer_not_matching_behavior: " (B)" });
const CSV = "prompt,classes,answer_index\nIs water wet?,\"[' Yes', ' No']\",0\n";

function validate(text: string, options: TaskFileOptions = {}) {
  const bytes = encode(text);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // Byte by byte, so detection must work across chunks.
      for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
      controller.close();
    },
  });
  return validateTaskStream(stream, { ...options, limits: { minExamples: 0 } });
}

function choice(metadata: Parameters<typeof readFormatChoice>[0]) {
  const read = readFormatChoice(metadata);
  if (!read.ok) throw new Error(JSON.stringify(read.fields));
  return read.choice;
}

describe("format detection from the first bytes", () => {
  it.each([
    ["JSON Lines", `${ITEM}\n`, "mwe", "jsonl"],
    ["JSON Lines after blank lines, a BOM and spaces", `\ufeff\n \r\n\t${ITEM}\n`, "mwe", "jsonl"],
    ["one JSON array", `  [${ITEM}]`, "mwe", "json_array"],
    ["a CSV", CSV, "csv", "csv"],
    ["a CSV whose header starts with a quote", `"prompt","completion"\nHi,there\n`, "csv", "csv"],
  ])("%s", async (_, text, format, kind) => {
    const checked = await validate(text);
    expect({ format: checked.format, kind: checked.kind }).toEqual({ format, kind });
  });

  it("an mwe file is a behaviour task, valid, its type inferred", async () => {
    const { report } = await validate(`${ITEM}\n`);
    expect(report).toMatchObject({ valid: true, taskType: "behaviour", taskTypeSource: "inferred" });
  });

  it("a CSV is checked exactly as before", async () => {
    const { report } = await validate(CSV);
    expect(report).toMatchObject({ valid: true, taskType: "classification", issues: [] });
  });
});

describe("a declared format the content contradicts: format_mismatch, and the file checked as what it is", () => {
  it("format mwe on a CSV", async () => {
    const { report, format } = await validate(CSV, { choice: choice({ format: "mwe" }) });
    expect(format).toBe("csv");
    expect(where(report)).toEqual(["format_mismatch@1/-/-"]);
    expect(report.issues[0]?.message).toContain('The format given is "mwe", but the file starts with "p"');
    expect(report).toMatchObject({ valid: false, taskType: "classification" });
  });

  it("format csv on JSON Lines, on the line of its first item", async () => {
    const { report, format } = await validate(`\n${ITEM}\n`, { choice: choice({ format: "csv" }) });
    expect(format).toBe("mwe");
    expect(where(report)).toEqual(["blank_record@1/1/-", "format_mismatch@2/-/-"]);
    expect(report.issues[1]?.message).toContain('Give format "mwe" (or none)');
  });

  it("the declared task type is not held against the file of the other format", async () => {
    const { report } = await validate(CSV, {
      taskType: "behaviour",
      choice: choice({ format: "mwe", taskType: "behaviour" }),
    });
    expect(where(report)).toEqual(["format_mismatch@1/-/-"]);
  });

  it("task type behaviour on a CSV (no format declared)", async () => {
    const { report } = await validate(CSV, { taskType: "behaviour" });
    expect(where(report)).toEqual(["format_mismatch@-/-/-"]);
    expect(report.issues[0]?.message).toContain("give a CSV task type");
  });

  it("behaviour settings on a CSV (no format declared)", async () => {
    const { report } = await validate(CSV, { choice: choice({ behaviour: { matchingBehaviour: "desired" } }) });
    expect(where(report)).toEqual(["format_mismatch@-/-/-"]);
    expect(report.issues[0]?.message).toContain("behaviour settings");
  });

  it("a format that agrees says nothing", async () => {
    const { report } = await validate(`${ITEM}\n`, { taskType: "behaviour", choice: choice({ format: "mwe" }) });
    expect(report).toMatchObject({ valid: true, issues: [], taskTypeSource: "given" });
  });
});

describe("the metadata's format choices, checked before the file is read", () => {
  const fieldsOf = (metadata: Parameters<typeof readFormatChoice>[0]) => {
    const read = readFormatChoice(metadata);
    return read.ok ? [] : read.fields.map((field) => field.field);
  };

  it("nothing said: the default template, the format left to the file", () => {
    const read = readFormatChoice({});
    expect(read.ok && read.choice.template.text).toBe(DEFAULT_PROMPT_TEMPLATE);
    expect(read.ok && read.choice.format).toBeUndefined();
  });

  it.each([
    [{ format: "csv", behaviour: { matchingBehaviour: "desired" } }, ["behaviour"]],
    [{ format: "csv", taskType: "behaviour" }, ["taskType"]],
    [{ format: "mwe", taskType: "classification_acc" }, ["taskType"]],
    [{ taskType: "numeric", behaviour: {} }, ["behaviour"]],
    [{ behaviour: { promptTemplate: "Human: {0}\nAssistant:" } }, ["behaviour.promptTemplate"]],
    [{ behaviour: { promptTemplate: "\u0000Human: {question}\u0007\nAssistant:" } }, ["behaviour.promptTemplate"]],
    [{ format: "mwe", taskType: "behaviour", behaviour: { matchingBehaviour: "neither" } }, []],
  ] as const)("%j is refused on %j", (metadata, fields) => {
    expect(fieldsOf(metadata)).toEqual(fields);
  });
});

describe("prompt templates", () => {
  it("the default has one placeholder, question", () => {
    const parsed = parsePromptTemplate(DEFAULT_PROMPT_TEMPLATE);
    expect(parsed.ok && parsed.template.fields).toEqual(["question"]);
  });

  it("reads {field}, {{ and }}, each field once", () => {
    const parsed = parsePromptTemplate("{{x}} {question} {statement}? {question}");
    expect(parsed.ok && parsed.template.fields).toEqual(["question", "statement"]);
  });

  it.each([
    ["no placeholder", "Human: hello\n\nAssistant:", "no placeholder"],
    ["only literal braces", "{{question}}", "no placeholder"],
    ["a positional placeholder", "{0}", '"{0}" at character 1 is not a placeholder'],
    ["a format spec", "Q: {question!r}", '"{question!r}" at character 4'],
    ["spaces inside", "{ question }", "is not a placeholder"],
    ["an empty placeholder", "{}{question}", '"{}" at character 1'],
    ["a brace never closed", "{question} {statement", '"{statement" at character 12'],
    ["a lone closing brace", "{question} }", 'a lone "}" at character 12'],
    ["a NUL", "\u0000Human: {question}\n\nAssistant:", "a NUL character (U+0000) at character 1"],
    ["a NUL after another control character", "\u0007{question}\u0000", "a NUL character (U+0000) at character 12"],
    ["a bell", "Human: {question}\u0007\nAssistant:", "a control character, U+0007, at character 18"],
    ["DEL", "{question}\u007f", "a control character, U+007F, at character 11"],
    ["a C1 control", "\u0085{question}", "a control character, U+0085, at character 1"],
  ])("refuses %s", (_, text, message) => {
    const parsed = parsePromptTemplate(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
  });

  it("takes tab, line feed and carriage return, which prompts use", () => {
    const parsed = parsePromptTemplate("\r\n\tHuman: {question}\r\n\tAssistant:");
    expect(parsed.ok && parsed.template.fields).toEqual(["question"]);
  });
});
