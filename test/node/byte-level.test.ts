import { beforeAll, describe, expect, it } from "vitest";
import { validateInChunks, where } from "./helpers";

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const options = { limits: { minExamples: 0 } };
const YES_NO = `"[' Yes', ' No']"`;

describe("bytes, encodings and row endings", () => {
  it("reads CRLF files with LF inside quoted fields (as Excel writes them) without changing the field", async () => {
    const text = `prompt,classes,answer_index\r\n"Q: one?\nA:",${YES_NO},0\r\n"Q: two?\nA:",${YES_NO},1\r\n`;
    for (const size of [1, 3, 64]) {
      const examples: string[] = [];
      const report = await validateInChunks(encode(text), size, {
        ...options,
        onExample: (e) => examples.push(e.prompt),
      });
      expect(where(report)).toEqual(["crlf_line_endings@1/-/-"]);
      expect(examples).toEqual(["Q: one?\nA:", "Q: two?\nA:"]);
      expect(report.stats).toMatchObject({ lines: 5, lineEndings: { crlf: 3, lf: 0, cr: 0 } });
    }
  });

  it("keeps counting lines correctly after quoted fields that span lines", async () => {
    const text = `prompt,classes,answer_index\n"a\nb\nc? Answer:",${YES_NO},0\n"d? Answer:",${YES_NO},5\n`;
    const report = await validateInChunks(encode(text), 2, options);
    expect(where(report)).toEqual(["answer_index_out_of_range@5/2/answer_index"]);
  });

  it("reports each invalid UTF-8 sequence on its line, including a truncated one at the end", async () => {
    const bytes = new Uint8Array([
      ...encode(`prompt,completion\nabc,\xa0`.slice(0, 22)),
      0xc3,
      0x28,
      0x0a,
      ...encode("x, y\n"),
      0xe2,
      0x82,
    ]);
    const report = await validateInChunks(bytes, 1, options);
    expect(report.issues.filter((issue) => issue.code === "invalid_utf8").map((issue) => issue.line)).toEqual([2, 4]);
  });

  it("accepts a BOM split over tiny chunks", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encode(`prompt,completion\nThe sky is, blue\n`)]);
    const report = await validateInChunks(bytes, 1, options);
    expect(where(report)).toEqual(["utf8_bom@1/-/-"]);
    expect(report.stats.examples).toBe(1);
  });

  it("reads old Mac files that end rows with CR alone", async () => {
    const report = await validateInChunks(encode("prompt,completion\rThe sky is, blue\rGrass is, green\r"), 4, options);
    expect(report.stats).toMatchObject({ examples: 2, lineEndings: { cr: 3 } });
    expect(report.valid).toBe(true);
  });

  it("stops at the byte limit without reading the rest", async () => {
    const report = await validateInChunks(encode(`prompt,completion\n${"The sky is, blue\n".repeat(1000)}`), 100, {
      limits: { minExamples: 0, maxBytes: 1000 },
    });
    expect(report.truncated).toBe(true);
    expect(report.counts).toEqual({ file_too_large: 1 });
  });
});

describe("issue limits", () => {
  describe("with maxIssuesPerCode 10 and 30 issues of one code", () => {
    let report: Awaited<ReturnType<typeof validateInChunks>>;

    beforeAll(async () => {
      const rows = Array.from({ length: 60 }, (_, i) => `Row ${i}? Answer:,${YES_NO},${i % 2 === 0 ? "x" : "1"}`);
      report = await validateInChunks(encode(["prompt,classes,answer_index", ...rows].join("\n")), 1024, {
        limits: { minExamples: 0, maxIssuesPerCode: 10 },
      });
    });

    it("counts them all, as errors", () => {
      expect(report.counts.answer_index_invalid).toBe(30);
      expect(report.errorCount).toBe(30);
    });

    it("lists at most maxIssuesPerCode of them", () => {
      expect(report.issues.filter((issue) => issue.code === "answer_index_invalid")).toHaveLength(10);
    });

    it("says how many it left out", () => {
      expect(report.omittedIssues).toBe(20);
    });

    it("still reports the other codes", () => {
      expect(report.counts.constant_answer_index).toBe(1); // the valid rows all answer 1
    });
  });
});
