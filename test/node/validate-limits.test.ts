import { beforeAll, describe, expect, it } from "vitest";
import { TaskFileValidator } from "../../src/validate/validator";
import { validateInChunks, where } from "./helpers";

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const options = { limits: { minExamples: 0 } };
const HEADER = "prompt,classes,answer_index";
const YES_NO = `"[' Yes', ' No']"`;
const ROW_A = `Is water wet? Answer:,${YES_NO},0`;
const ROW_B = `Is fire cold? Answer:,${YES_NO},1`;
const file = (...lines: string[]): Uint8Array => encode(`${lines.join("\n")}\n`);
/** A classes cell with `count` distinct classes, " c0" to " c{count - 1}". */
const classesCell = (count: number): string => `"[${Array.from({ length: count }, (_, i) => `' c${i}'`).join(", ")}]"`;

describe("fields per record", () => {
  describe("one data row of 10^6 empty fields", () => {
    let report: Awaited<ReturnType<typeof validateInChunks>>;

    beforeAll(async () => {
      report = await validateInChunks(file(HEADER, ",".repeat(999_999)), 4096, options);
    });

    it("gives exactly one too_many_fields issue, on line 2 at field 65", () => {
      expect(where(report)).toEqual(["too_many_fields@2/1/65"]);
    });

    it("says how many fields the row has and what the limit is", () => {
      expect(report.issues[0]?.message).toContain("1,000,000 fields");
      expect(report.issues[0]?.message).toContain("at most 64");
    });

    it("is an error, and the report is complete", () => {
      expect(report).toMatchObject({ valid: false, truncated: false, errorCount: 1 });
      expect(report.stats).toMatchObject({ records: 1, lines: 2, bytes: 28 + 1_000_000 });
    });

    it("records the limit in the report", () => {
      expect(report.limits.maxFieldsPerRecord).toBe(64);
    });
  });

  it("reports each too-wide row once, in file order", async () => {
    const wide = ",".repeat(999_999);
    const report = await validateInChunks(file(HEADER, wide, wide, wide), 65_536, options);
    expect(where(report)).toEqual(["too_many_fields@2/1/65", "too_many_fields@3/2/65", "too_many_fields@4/3/65"]);
  });

  it.each([1, 7, 4096])("gives the same outcome when fed in %i-byte chunks", async (size) => {
    const text = file(HEADER, ROW_A, `a,${"b,".repeat(100)}c`, ROW_B);
    const report = await validateInChunks(text, size, options);
    expect(where(report)).toEqual(["too_many_fields@3/2/65"]);
    expect(report.stats).toMatchObject({ records: 3, examples: 2, lines: 4 });
  });

  it("keeps line numbers right after a wide row whose skipped fields span lines", async () => {
    const wide = `${"x,".repeat(70)}"one\ntwo\r\nthree",${"y,".repeat(10)}"four\nfive"`;
    const report = await validateInChunks(file(HEADER, ROW_A, wide, `Is it third? Answer:,${YES_NO},2`), 5, options);
    expect(where(report)).toEqual(["too_many_fields@3/2/65", "answer_index_out_of_range@7/3/answer_index"]);
    expect(report.stats.lines).toBe(7);
  });

  it("still hands on the valid rows around a wide one", async () => {
    const prompts: string[] = [];
    await validateInChunks(file(HEADER, ROW_A, ",".repeat(5000), ROW_B), 1024, {
      ...options,
      onExample: (example) => prompts.push(example.prompt),
    });
    expect(prompts).toEqual(["Is water wet? Answer:", "Is fire cold? Answer:"]);
  });

  it("leaves a row at the limit to the ragged-row check", async () => {
    const report = await validateInChunks(file(HEADER, `${"x,".repeat(63)}x`), 4096, options);
    expect(where(report)).toEqual(["ragged_row@2/1/-"]);
    expect(report.issues[0]?.message).toContain("64 fields");
  });

  it("follows a smaller limit when one is given", async () => {
    const report = await validateInChunks(file(HEADER, ROW_A, "a,b,c,d"), 4096, {
      limits: { minExamples: 0, maxFieldsPerRecord: 3 },
    });
    expect(where(report)).toEqual(["too_many_fields@3/2/4"]);
  });

  it("reports a header that is too wide on line 1 and checks nothing that depends on it", async () => {
    const header = `${HEADER},${Array.from({ length: 100 }, (_, i) => `extra${i}`).join(",")}`;
    const report = await validateInChunks(file(header, ROW_A), 4096, options);
    expect(where(report)).toEqual(["too_many_fields@1/0/65"]);
    expect(report.columns.header).toHaveLength(64);
    expect(report.taskType).toBeNull();
  });

  it("reads a quoted field full of commas as one field", async () => {
    const report = await validateInChunks(file(HEADER, `"${"a,".repeat(1000)}? Answer:",${YES_NO},0`), 100, options);
    expect(where(report)).toEqual([]);
    expect(report.stats.examples).toBe(1);
  });
});

describe("long input", () => {
  it("stops at the record limit inside one huge quoted field, without reading on", async () => {
    const bytes = encode(`${HEADER}\n"${"a".repeat(3 * 1024 * 1024)}",${YES_NO},0\n`);
    const report = await validateInChunks(bytes, 65_536, options);
    expect(where(report)).toEqual(["record_too_long@2/-/-"]);
    expect(report.truncated).toBe(true);
  });

  it("reads 300,000 tiny rows to the end when the row limit allows", async () => {
    const report = await validateInChunks(encode(`prompt,completion\n${"a, b\n".repeat(300_000)}`), 65_536, {
      limits: { minExamples: 0, maxRows: 1_000_000 },
    });
    expect(report.stats).toMatchObject({ records: 300_000, examples: 300_000, lines: 300_001 });
    expect(report.counts).toEqual({ duplicate_example: 299_999 });
  });

  it("lets other tasks run while it checks one large chunk", async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => `Is ${i} even? Answer:,${YES_NO},${i % 2}`);
    const chunk = file(HEADER, ...rows);
    const validator = new TaskFileValidator(options);
    let ranMeanwhile = false;
    setImmediate(() => {
      ranMeanwhile = true;
    });
    await validator.write(chunk);
    const finishedFirst = !ranMeanwhile;
    const report = validator.finish();
    expect(finishedFirst).toBe(false);
    expect(report.stats.examples).toBe(40_000);
  });
});

describe("classes per row", () => {
  it("accepts 20 classes", async () => {
    const report = await validateInChunks(file(HEADER, `Pick one. Answer:,${classesCell(20)},19`), 4096, options);
    expect(where(report)).toEqual([]);
  });

  it("reports 21 classes as too_many_classes on the classes column", async () => {
    const report = await validateInChunks(file(HEADER, ROW_A, `Pick one. Answer:,${classesCell(21)},3`), 4096, options);
    expect(where(report)).toEqual(["too_many_classes@3/2/classes"]);
    expect(report.issues[0]?.message).toContain("21 classes");
    expect(report.limits.maxClasses).toBe(20);
  });

  it("reports 100,000 classes once, not a duplicate or range issue per class", async () => {
    const report = await validateInChunks(file(HEADER, `Pick one. Answer:,${classesCell(100_000)},99999`), 65_536, {
      limits: { minExamples: 0, maxRecordBytes: 4 * 1024 * 1024 },
    });
    expect(where(report)).toEqual(["too_many_classes@2/1/classes"]);
  });

  it("follows a smaller limit when one is given", async () => {
    const report = await validateInChunks(file(HEADER, `Pick one. Answer:,${classesCell(3)},0`), 4096, {
      limits: { minExamples: 0, maxClasses: 2 },
    });
    expect(where(report)).toEqual(["too_many_classes@2/1/classes"]);
  });
});

describe("prompt length", () => {
  const prompt = (length: number): string => `${"x".repeat(length - 7)} Answer:`.slice(-length);

  it("accepts a prompt of 16,000 characters", async () => {
    const report = await validateInChunks(file(HEADER, `${prompt(16_000)},${YES_NO},0`), 4096, options);
    expect(where(report)).toEqual([]);
    expect(report.limits.maxPromptChars).toBe(16_000);
  });

  it("reports a prompt of 16,001 characters as prompt_too_long", async () => {
    const report = await validateInChunks(file(HEADER, ROW_A, `${prompt(16_001)},${YES_NO},0`), 4096, options);
    expect(where(report)).toEqual(["prompt_too_long@3/2/prompt"]);
    expect(report.issues[0]?.message).toContain("16,001 characters");
  });

  it("checks other_prompt too", async () => {
    const row = `Is it red? Answer:,${prompt(16_001)},${YES_NO},0`;
    const report = await validateInChunks(file("prompt,other_prompt,classes,answer_index", row), 4096, {
      ...options,
      taskType: "logodds",
    });
    expect(where(report)).toEqual(["prompt_too_long@2/1/other_prompt"]);
  });

  it("follows a smaller limit when one is given", async () => {
    const report = await validateInChunks(file(HEADER, ROW_A), 4096, {
      limits: { minExamples: 0, maxPromptChars: 10 },
    });
    expect(where(report)).toEqual(["prompt_too_long@2/1/prompt"]);
  });
});

describe("control characters", () => {
  it("reports a NUL in a prompt as an error, with its column", async () => {
    const report = await validateInChunks(file(HEADER, ROW_A, `Is it\u0000 null? Answer:,${YES_NO},1`), 4096, options);
    expect(where(report)).toEqual(["nul_character@3/2/prompt"]);
    expect(report.valid).toBe(false);
    expect(report.issues[0]?.message).toContain("character 6");
  });

  it("reports an escape character in a prompt as a warning", async () => {
    const report = await validateInChunks(file(HEADER, `Is it \u001b[1mbold? Answer:,${YES_NO},1`), 4096, options);
    expect(where(report)).toEqual(["control_character@2/1/prompt"]);
    expect(report.issues[0]).toMatchObject({ severity: "warning" });
    expect(report.issues[0]?.message).toContain("U+001B");
    expect(report.valid).toBe(true);
  });

  it("reports a control character written as an escape inside a class", async () => {
    const report = await validateInChunks(file(HEADER, `Is it? Answer:,"[' Yes\\x00', ' No']",1`), 4096, options);
    expect(where(report)).toEqual(["nul_character@2/1/classes"]);
  });

  it("reports a NUL in a later class even when an earlier class has another control character", async () => {
    const report = await validateInChunks(file(HEADER, `Is it? Answer:,"[' Yes\\x01', ' No\\x00']",1`), 4096, options);
    expect(where(report)).toEqual(["nul_character@2/1/classes"]);
    expect(report.issues[0]?.message).toContain("Class 1");
  });

  it("checks completions and other prompts", async () => {
    const sequence = await validateInChunks(file("prompt,completion", "The sky is, blue\u0007"), 4096, options);
    const logodds = await validateInChunks(
      file("prompt,other_prompt,classes,answer_index", `Red? Answer:,Re\u0008d? Answer:,${YES_NO},0`),
      4096,
      { ...options, taskType: "logodds" },
    );
    expect(where(sequence)).toEqual(["control_character@2/1/completion"]);
    expect(where(logodds)).toEqual(["control_character@2/1/other_prompt"]);
  });

  it("reports one issue a cell however many control characters it holds", async () => {
    const report = await validateInChunks(file(HEADER, `"\u0000\u0001\u0002? Answer:",${YES_NO},0`), 4096, options);
    expect(where(report)).toEqual(["nul_character@2/1/prompt"]);
  });

  it("accepts tab, line feed and carriage return", async () => {
    const report = await validateInChunks(file(HEADER, `"Q:\tone\ntwo\r\nthree\rA:",${YES_NO},0`), 4096, options);
    expect(where(report)).toEqual([]);
  });
});

describe("the size of a report", () => {
  it("stays small when every listed issue is about a cell of 100,000 characters", async () => {
    const long = "x".repeat(100_000);
    const rows = Array.from({ length: 30 }, (_, i) => `The answer ${i} is,${long}${i}`);
    const report = await validateInChunks(
      file(`prompt,completion,${long}`, ...rows.map((row) => `${row},`)),
      65_536,
      options,
    );
    expect(report.counts).toMatchObject({ missing_leading_space: 30, unknown_column: 1 });
    expect(JSON.stringify(report).length).toBeLessThan(20_000);
  });

  it("shows the start of a long value and its length", async () => {
    const report = await validateInChunks(file(HEADER, `Is it? Answer:,${YES_NO},${"9".repeat(1000)}x`), 4096, options);
    expect(report.issues[0]?.message).toContain(`answer_index "${"9".repeat(50)}"… (1,001 characters) is not`);
  });
});

describe("names that are also JavaScript object properties", () => {
  it("reads a column named constructor as an unknown column", async () => {
    const report = await validateInChunks(file(`${HEADER},constructor`, `${ROW_A},x`), 4096, options);
    expect(where(report)).toEqual(["unknown_column@1/0/constructor"]);
  });

  it("reports a task type named toString as unknown", async () => {
    const report = await validateInChunks(file(HEADER, ROW_A), 4096, { ...options, taskType: "toString" });
    expect(where(report)).toEqual(["task_type_unknown@-/-/-"]);
  });
});

describe("the byte limit", () => {
  /** Feeds `bytes` to a validator in pieces of the sizes given as "1+2+4" (which must add up to its length). */
  const validateInPieces = (bytes: Uint8Array, sizes: string, maxBytes: number) => {
    const validator = new TaskFileValidator({ limits: { minExamples: 0, maxBytes } });
    let at = 0;
    for (const size of sizes.split("+").map(Number)) {
      validator.push(bytes.subarray(at, at + size));
      at += size;
    }
    expect(at).toBe(bytes.length);
    return validator.finish();
  };
  const SEVEN_BYTES = encode("a,b\nc\nd");
  const chunkings = ["7", "1+6", "2+5", "1+1+5", "1+1+1+4", "3+4", "1+1+1+1+1+1+1"];

  it.each(chunkings)("refuses a 7-byte file with maxBytes 6, sent as %s bytes", (sizes) => {
    const report = validateInPieces(SEVEN_BYTES, sizes, 6);
    expect(where(report)).toEqual(["file_too_large@-/-/-"]);
    expect(report.truncated).toBe(true);
  });

  it.each(chunkings)("lets a 7-byte file through with maxBytes 7, sent as %s bytes", (sizes) => {
    const report = validateInPieces(SEVEN_BYTES, sizes, 7);
    expect(report.counts.file_too_large).toBeUndefined();
    expect(report).toMatchObject({ truncated: false, stats: { bytes: 7 } });
  });

  it("counts a BOM split over chunks toward the limit", () => {
    const report = validateInPieces(new Uint8Array([0xef, 0xbb, 0xbf, ...encode("a,b")]), "1+1+4", 5);
    expect(where(report)).toEqual(["file_too_large@-/-/-"]);
  });
});

describe("answer_index written as minus zero", () => {
  const row = (answer: string): Uint8Array => file(HEADER, `Is water wet? Answer:,${YES_NO},${answer}`);
  const answersOf = async (answer: string) => {
    const answers: number[] = [];
    const report = await validateInChunks(row(answer), 4096, {
      ...options,
      onExample: (example) => answers.push("answerIndex" in example ? example.answerIndex : Number.NaN),
    });
    return { report, answers };
  };

  it.each(["-0", "-00"])("reads %s as 0, as it reads +0", async (answer) => {
    const { report, answers } = await answersOf(answer);
    expect(where(report)).toEqual([]);
    expect(answers).toEqual([0]);
    expect(Object.is(answers[0], -0)).toBe(false);
  });

  it.each(["-0.0", "-0."])("reads %s as 0, with the warning for decimals", async (answer) => {
    const { report, answers } = await answersOf(answer);
    expect(where(report)).toEqual(["answer_index_float@2/1/answer_index"]);
    expect(answers).toEqual([0]);
    expect(Object.is(answers[0], -0)).toBe(false);
  });

  it.each(["-1", "-01", "-1.0"])("still reports %s as negative", async (answer) => {
    const { report } = await answersOf(answer);
    expect(where(report)).toEqual(["answer_index_negative@2/1/answer_index"]);
  });
});
