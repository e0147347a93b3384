import Papa from "papaparse";
import { beforeAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/analysis/contrasts";
import { ByteScanner } from "../../src/validate/byte-scanner";
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

describe("quotes as papaparse reads them", () => {
  /**
   * Short random texts over an alphabet heavy in quotes, commas, spaces and row ends, from a fixed seed. A quarter
   * of the pieces are rarer: whitespace other than spaces (papaparse skips it after a closing quote too) and
   * characters near it in code or bytes that are not whitespace (U+0085, U+200B, U+001C), alone or after a quote.
   */
  const texts = (count: number, seed: number): string[] => {
    const uniform = mulberry32(seed);
    const pick = (pieces: string[]): string => pieces[Math.floor(uniform() * pieces.length)] ?? "";
    const common = ['"', '"', '"', ",", ",", "\n", "\r", "\r\n", "a", "b", " ", " ", "'", "0", "é"];
    const spaces = ["\t", "\v", "\f", "\u00a0", "\u1680", "\u2000", "\u2028", "\u202f", "\u3000", "\ufeff"];
    const notSpaces = ["\u0085", "\u200b", "\u001c"];
    const rare = [...spaces, ...notSpaces].flatMap((piece) => [piece, `"${piece}`]);
    return Array.from({ length: count }, () => {
      let text = "xyz"; // past the 3 bytes held back to look for a BOM, so one push gives all the output
      const length = Math.floor(uniform() * 40);
      for (let i = 0; i < length; i++) text += pick(uniform() < 0.75 ? common : rare);
      return `${text}\n`;
    });
  };
  const scan = (text: string, cutAfterStrayQuote: boolean) => {
    const scanner = new ByteScanner({ invalidUtf8: () => undefined }, { cutAfterStrayQuote });
    const output = scanner.push(encode(text));
    const whole = new TextDecoder().decode(output.subarray(0, scanner.wholeRecordsEnd));
    const records = scanner.crlfEndings + scanner.lfEndings + scanner.crEndings;
    return { whole, records, cut: scanner.cutRecords.map((record) => record.ordinal) };
  };
  interface Parsed {
    data: string[][];
    errors: { code: string; row: number }[];
    meta: { cursor: number };
  }
  const parse = (text: string): Parsed =>
    new Papa.Parser({ delimiter: ",", newline: "\n", quoteChar: '"' }).parse(text, 0, true) as Parsed;
  const lastErrorPerRow = (parsed: Parsed): Map<number, string> =>
    new Map(parsed.errors.map((error) => [error.row, error.code]));

  it("ends records exactly where papaparse does, in 5,000 random texts", () => {
    const disagreeing = texts(5000, 13).filter((text) => {
      const { whole, records } = scan(text, false);
      const parsed = parse(whole);
      return parsed.data.length !== records || parsed.meta.cursor !== whole.length;
    });
    expect(disagreeing).toEqual([]);
  });

  it("cuts records after a stray quote without changing papaparse's rows or errors, in 5,000 random texts", () => {
    const changed = texts(5000, 29).filter((text) => {
      const full = scan(text, false);
      const cut = scan(text, true);
      const [before, after] = [parse(full.whole), parse(cut.whole)];
      const sameErrors = JSON.stringify([...lastErrorPerRow(before)]) === JSON.stringify([...lastErrorPerRow(after)]);
      const uncutRowsSame = before.data.every(
        (row, i) => cut.cut.includes(i) || JSON.stringify(row) === JSON.stringify(after.data[i]),
      );
      return after.data.length !== before.data.length || !sameErrors || !uncutRowsSame;
    });
    expect(changed).toEqual([]);
  });

  it("gives the same report whatever the chunk size, in 1,000 random task files", async () => {
    const differing: string[] = [];
    for (const text of texts(1000, 41)) {
      const bytes = encode(`prompt,completion\n${text.slice(3)}`);
      const whole = JSON.stringify(await validateInChunks(bytes, bytes.length, options));
      for (const size of [1, 2, 5]) {
        if (JSON.stringify(await validateInChunks(bytes, size, options)) !== whole) differing.push(text);
      }
    }
    expect(differing).toEqual([]);
  });

  it("reads a quote after a stray closing quote and spaces as a closing quote, so the next CRLF ends the row", async () => {
    const completions: string[] = [];
    const text = 'prompt,completion\r\n"a" ",b\r\nThe sky is, blue\r\n';
    const report = await validateInChunks(encode(text), 3, {
      ...options,
      onExample: (example) => completions.push("completion" in example ? example.completion : ""),
    });
    expect(where(report)).toEqual(["crlf_line_endings@1/-/-", "invalid_quotes@2/1/-"]);
    expect(completions).toEqual([" blue"]);
    expect(report.stats.lineEndings).toEqual({ lf: 0, crlf: 3, cr: 0 });
  });

  /** papaparse skips any text that String#trim removes between a closing quote and the comma or row end after it. */
  const WHITESPACE = [
    ["tab", "\t"],
    ["vertical tab", "\v"],
    ["form feed", "\f"],
    ["no-break space", "\u00a0"],
    ["ogham space mark", "\u1680"],
    ["en quad", "\u2000"],
    ["hair space", "\u200a"],
    ["line separator", "\u2028"],
    ["paragraph separator", "\u2029"],
    ["narrow no-break space", "\u202f"],
    ["medium mathematical space", "\u205f"],
    ["ideographic space", "\u3000"],
    ["zero-width no-break space (BOM)", "\ufeff"],
  ];
  const completionsOf = async (text: string, size: number) => {
    const completions: string[] = [];
    const report = await validateInChunks(encode(text), size, {
      ...options,
      onExample: (example) => completions.push("completion" in example ? example.completion : ""),
    });
    return { report, completions };
  };

  it.each(WHITESPACE)("reads a quote then a %s before a comma as a closing quote", async (_, space) => {
    for (const size of [1, 2, 1024]) {
      const { report, completions } = await completionsOf(`prompt,completion\n"a"${space}, b\n`, size);
      expect(where(report)).toEqual([]);
      expect(completions).toEqual([" b"]);
    }
  });

  it.each(WHITESPACE)("reads a quote then a %s before a row end as a closing quote", async (_, space) => {
    for (const size of [1, 2, 1024]) {
      const { report, completions } = await completionsOf(`prompt,completion\na," b"${space}${space}\nc, d\n`, size);
      expect(where(report)).toEqual([]);
      expect(completions).toEqual([" b", " d"]);
    }
  });

  it("reads a closing quote, a tab and a comma the same when a quote comes later in the file", async () => {
    const { report, completions } = await completionsOf('prompt,completion\n"a"\t, b\n"c", d\n', 3);
    expect(where(report)).toEqual([]);
    expect(completions).toEqual([" b", " d"]);
  });

  it("keeps CRLF line numbers after a closing quote followed by a tab", async () => {
    const { report } = await completionsOf('prompt,completion\r\n"a"\t, b\r\nc,d\r\ne, f\r\n', 4);
    expect(where(report)).toEqual(["crlf_line_endings@1/-/-", "missing_leading_space@3/2/completion"]);
    expect(report.stats).toMatchObject({ lines: 4, records: 3, examples: 3 });
  });

  it("accepts a 2 MB file whose first row has a tab after a closing quote", async () => {
    const rows = Array.from({ length: 80_000 }, (_, i) => `Row ${i} is,${" blue".repeat(5)}\n`).join("");
    const text = `prompt,completion\n"a"\t, b\n${rows}`;
    expect(text.length).toBeGreaterThan(2_000_000);
    const { report } = await completionsOf(text, 65_536);
    expect(where(report)).toEqual([]);
    expect(report.stats).toMatchObject({ examples: 80_001, lines: 80_002 });
  });

  it.each([
    ["next line", "\u0085"],
    ["Mongolian vowel separator", "\u180e"],
    ["zero-width space", "\u200b"],
    ["file separator", "\u001c"],
  ])("reads a quote then a %s (not whitespace to papaparse) as text in the field", async (_, text) => {
    for (const size of [1, 1024]) {
      const { report, completions } = await completionsOf(`prompt,completion\n"a"${text}\nb, c"\nd, e\n`, size);
      expect(where(report)).toEqual(["invalid_quotes@2/1/-"]);
      expect(completions).toEqual([" e"]);
      expect(report.stats).toMatchObject({ records: 2, lines: 4 });
    }
  });

  it("reads a quote then a broken UTF-8 sequence as text in the field", async () => {
    const bytes = new Uint8Array([...encode('prompt,completion\n"a"'), 0xe2, 0x80, ...encode('\nb, c"\nd, e\n')]);
    for (const size of [1, 1024]) {
      const report = await validateInChunks(bytes, size, options);
      expect(where(report)).toEqual(["invalid_utf8@2/-/-", "invalid_quotes@2/1/-"]);
      expect(report.stats).toMatchObject({ records: 2, examples: 1, lines: 4 });
    }
  });

  it("stops at the record limit on a megabyte of stray quotes", async () => {
    const row = `"a${'"b'.repeat(500_000)}"`;
    const report = await validateInChunks(encode(`prompt,completion\n${row}, x\nThe sky is, blue\n`), 65_536, {
      limits: { minExamples: 0, maxRecordBytes: 2 * 1024 * 1024 },
    });
    expect(where(report)).toEqual(["invalid_quotes@2/1/-"]);
    expect(report.stats.examples).toBe(1);
  });
});
