import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Zip, ZipPassThrough, strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { validateTaskStream } from "../../src/validate/task-file";
import { classifyEntryName } from "../../src/validate/zip/entry-name";
import { DEFAULT_ZIP_LIMITS } from "../../src/validate/zip/limits";
import { ZipValidator, validateZipStream, type FilesReport } from "../../src/validate/zip/zip-validator";
import type { PromptTemplate } from "../../src/validate/mwe/template";
import { ROOT, chunkedStream, isv, readBytes, seededDraws } from "./helpers";

const ZIPS = join(ROOT, "fixtures", "zips");
/** DEFLATE's greatest expansion: 258 bytes from each pair of 1-bit codes, about 1,032 to 1. */
const MAX_DEFLATE_RATIO = 1032;
/** The memory bound the reader documents for one inflated piece: a 2 KiB slice at DEFLATE's greatest ratio. */
const LARGEST_PIECE = MAX_DEFLATE_RATIO * 2048;
const mtime = new Date(Date.UTC(2023, 0, 15));

/** Checks `bytes` with a ZipValidator fed in `chunkSize` pieces, and returns its report and what it measured. */
async function check(
  bytes: Uint8Array,
  options: ConstructorParameters<typeof ZipValidator>[0] = {},
  chunkSize = 64 * 1024,
): Promise<{ report: FilesReport; measured: ZipValidator["measurements"] }> {
  const validator = new ZipValidator(options);
  const reader = chunkedStream(bytes, chunkSize).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done || validator.stopped) break;
    await validator.write(value);
  }
  return { report: validator.finish(), measured: validator.measurements };
}

const codes = (report: FilesReport): string[] => report.issues.map((issue) => issue.code);
/** A valid task file of one example, and the options that let one example pass. */
const CSV = strToU8("prompt,completion\nA, b\n");
const MIN_ONE = { file: { limits: { minExamples: 1 } } };
/** Info-ZIP's Unicode Path extra field: a second name for the entry, which unzip extracts it under. */
const UNICODE_PATH = 0x7075;

/** A CSV of `rows` distinct rows (so it deflates about as real text does, well under the ratio limit). */
function largeCsv(rows: number): Uint8Array {
  const { uniform } = seededDraws(7);
  const lines = ["prompt,completion"];
  for (let i = 0; i < rows; i++)
    lines.push(`"Row ${i}: ${Math.floor(uniform() * 1e9).toString(36)} ${uniform().toString(36).slice(2)}", x${i}`);
  return strToU8(`${lines.join("\n")}\n`);
}

describe("a zip bomb is refused while it inflates", () => {
  it("stops the 8 MiB bomb within one slice of the ratio limit, having inflated about 2 MiB of it", async () => {
    const { report, measured } = await check(readBytes(join(ZIPS, "bomb.zip")));
    expect(codes(report)).toEqual(["compression_ratio_too_high"]);
    expect(measured.inflatedBytes).toBeGreaterThan(DEFAULT_ZIP_LIMITS.ratioFreeBytes);
    expect(measured.inflatedBytes).toBeLessThanOrEqual(DEFAULT_ZIP_LIMITS.ratioFreeBytes + LARGEST_PIECE);
  });

  it("never holds more than one slice's inflation at once", async () => {
    const { measured } = await check(readBytes(join(ZIPS, "bomb.zip")));
    expect(measured.largestInflatedPiece).toBeLessThanOrEqual(LARGEST_PIECE);
  });

  it("refuses files that together inflate past the total, stopping within one piece of it", async () => {
    const maxTotalBytes = 50_000;
    const { report, measured } = await check(readBytes(join(ZIPS, "good.zip")), { limits: { maxTotalBytes } });
    expect(report.issues.map((issue) => `${issue.code}@${issue.entry}`)).toEqual(["archive_too_large@task/part-2.csv"]);
    expect(report.files.map((file) => file.name)).toEqual(["task/part-1.csv"]);
    expect(measured.inflatedBytes).toBeGreaterThan(maxTotalBytes);
    expect(measured.inflatedBytes - maxTotalBytes).toBeLessThanOrEqual(measured.largestInflatedPiece);
  });

  it("lets through a few-shot task that repeats a 2,600-character prompt on every row (over 100 to 1)", async () => {
    const { uniform } = seededDraws(3);
    const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
    const shots = Array.from({ length: 430 }, () => words[Math.floor(uniform() * words.length)]).join(" ");
    const rows = Array.from({ length: 800 }, (_, i) => `"${shots}\nQ: is ${i} even?\nA:","[' Yes', ' No']",${i % 2}`);
    const csv = strToU8(`prompt,classes,answer_index\n${rows.join("\n")}\n`);
    const zip = zipSync({ "few-shot.csv": [csv, { mtime, level: 9 }] });
    const { report } = await check(zip);
    expect(csv.length / (report.files[0]?.compressedBytes ?? csv.length)).toBeGreaterThan(100);
    expect(report.issues).toEqual([]);
  });

  it("lets a small entry have any ratio (below ratioFreeBytes)", async () => {
    const zip = zipSync({ "tiny.csv": [strToU8(`prompt,completion\n"${"A".repeat(15_000)}", B\n`), { mtime }] });
    const { report } = await check(zip, { file: { limits: { minExamples: 1 } } });
    expect([report.valid, report.files[0]?.compressedBytes]).toEqual([true, expect.any(Number)]);
    expect(report.files[0]?.compressedBytes).toBeLessThan(15_000 / DEFAULT_ZIP_LIMITS.maxCompressionRatio);
  });
});

describe("memory stays bounded", () => {
  it("passes a 6 MB entry through in pieces no larger than a slice's worst case, holding only small records", async () => {
    const csv = largeCsv(120_000);
    const zip = zipSync({ "large.csv": [csv, { mtime }] });
    const { report, measured } = await check(zip, { file: { limits: { minExamples: 1 } } }, 1024 * 1024);
    expect(report.files[0]?.report.stats.bytes).toBe(csv.length);
    expect(measured.largestInflatedPiece).toBeLessThanOrEqual(LARGEST_PIECE);
    expect(measured.largestRecordHeld).toBeLessThanOrEqual(1024);
  });

  it("holds a record no larger than the format allows (a local header with a 60,000-byte extra field)", async () => {
    const extra = { 51966: new Uint8Array(60_000) };
    const zip = zipSync({ "part.csv": [strToU8("prompt,completion\nA, b\n"), { mtime, extra }] });
    const { report, measured } = await check(zip, { file: { limits: { minExamples: 1 } } }, 100);
    expect(report.valid).toBe(true);
    expect(measured.largestRecordHeld).toBeLessThanOrEqual(2 * (46 + 3 * 65_535));
  });
});

describe("the archive's structure is read strictly", () => {
  const good = (): Uint8Array => readBytes(join(ZIPS, "good.zip"));

  it("refuses bytes after the end record", async () => {
    const bytes = good();
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes);
    const { report } = await check(padded);
    expect(report.issues.map((issue) => issue.message)).toEqual(["There are bytes after the archive's end record."]);
  });

  it("refuses bytes before the first entry (a self-extracting stub)", async () => {
    const bytes = good();
    const prefixed = new Uint8Array(bytes.length + 2);
    prefixed.set([0x4d, 0x5a]);
    prefixed.set(bytes, 2);
    const { report } = await check(prefixed);
    expect(codes(report)).toEqual(["corrupt_archive"]);
    expect(report.stats.entries).toBe(0);
  });

  it("refuses a central directory that names an entry differently from its local header", async () => {
    const bytes = good();
    // The central directory's copy of the first name, task/part-1.csv: readers by directory would call it part-9.
    const directoryName = lastIndexOf(bytes, strToU8("task/part-1.csv"));
    bytes[directoryName + "task/part-".length] = "9".charCodeAt(0);
    const { report } = await check(bytes);
    expect(codes(report)).toEqual(["corrupt_archive"]);
    expect(report.issues[0]?.message).toContain("record 1 does not describe the entry");
  });

  it("refuses a central directory that places an entry elsewhere than where it was read", async () => {
    const bytes = good();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const directory = view.getUint32(bytes.length - 22 + 16, true);
    const second = directory + 46 + view.getUint16(directory + 28, true) + view.getUint16(directory + 30, true);
    view.setUint32(second + 42, view.getUint32(second + 42, true) + 1, true);
    const { report } = await check(bytes);
    expect(report.issues.map((issue) => issue.message)).toEqual([
      "The central directory's record 2 does not describe the entry at that place in the archive: readers would disagree about what it holds.",
    ]);
  });

  it("finds an entry's end by its data descriptor even when its data holds the descriptor's signature", async () => {
    const csv = strToU8(`prompt,completion\n"PK\u0007\u0008 then twelve bytes", yes\n"more", no\n`);
    const zip = streamed({ "part.csv": csv });
    const { report } = await check(zip, { file: { limits: { minExamples: 1 } } }, 3);
    const alone = await validateTaskStream(chunkedStream(csv, csv.length), { limits: { minExamples: 1 } });
    expect(codes(report)).toEqual([]);
    expect(report.files[0]?.report).toEqual(alone.report);
  });

  it("reads a zip64 entry (sizes in the zip64 extra field, zip64 end records)", async () => {
    const csv = strToU8("prompt,completion\nA, b\n");
    const { report } = await check(zip64Stored("part.csv", csv), { file: { limits: { minExamples: 1 } } }, 7);
    expect(codes(report)).toEqual([]);
    expect(report.files.map((file) => [file.name, file.report.valid])).toEqual([["part.csv", true]]);
  });

  it("refuses an end record with a comment, such as a second archive hidden in it", async () => {
    const hidden = zipSync({ "../escape.sh": [strToU8("#!/bin/sh\n"), { mtime }] });
    for (const comment of [hidden, strToU8("made by hand")]) {
      const { report } = await check(withComment(good(), comment));
      expect(codes(report)).toEqual(["corrupt_archive"]);
      expect(report.issues[0]?.message).toContain("comment");
    }
  });

  it("reads a zip64 end record whose 32-bit fields hold the real values instead of the markers", async () => {
    const { report } = await check(zip64Stored("part.csv", CSV, { endValues: true }), MIN_ONE);
    expect(codes(report)).toEqual([]);
  });

  it.each<[string, Zip64Options]>([
    // An entry hidden in the "extensible data" after the record's fields, where Python's zipfile finds a directory.
    ["zip64 end record longer than its fields", { extensible: Array.from(strToU8("PK\u0001\u0002 hidden")) }],
    ["zip64 end record declaring size 0", { recordSize: 0 }],
    ["zip64 end record declaring size 56", { recordSize: 56 }],
    ["locator pointing past the zip64 end record", { locatorShift: 1 }],
    ["locator pointing before it", { locatorShift: -4 }],
    ["end record giving another entry count", { end: { entries: 2 } }],
    ["end record giving another directory offset", { end: { offset: 1 } }],
    ["end record giving another directory size", { end: { size: 7 } }],
    ["zip64 end record giving another directory size", { zip64Size: 3 }],
  ])("refuses a %s as corrupt, never throwing", async (_, options) => {
    const { report } = await check(zip64Stored("part.csv", CSV, options), MIN_ONE, 5);
    expect(codes(report)).toEqual(["corrupt_archive"]);
  });

  it("reports a zip64 end record too short for its fields, and the CLI goes on to the next file", async () => {
    const path = join(tmpdir(), `isv-zip64-short-${process.pid}.zip`);
    writeFileSync(path, zip64Stored("part.csv", CSV, { recordSize: 0, extensible: [], truncateRecord: true }));
    try {
      const valid = join(ROOT, "fixtures", "tasks", "valid", "classification.csv");
      const result = await isv("validate", path, valid);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`error corrupt_archive: ${path}: `);
      expect(result.stdout.trim().split("\n").at(-1)).toBe("2 files checked: 1 valid, 1 INVALID");
    } finally {
      rmSync(path);
    }
  });

  it("turns any error thrown while reading into corrupt_archive: a report, never a crash", async () => {
    const failing = new Proxy({} as PromptTemplate, {
      get() {
        throw new Error("boom");
      },
    });
    const zip = zipSync({
      "items.jsonl": [strToU8('{"question": "Is it?", "answer_matching_behavior": " Yes"}\n'), { mtime }],
    });
    const validator = new ZipValidator({ template: failing });
    await validator.write(zip);
    const report = validator.finish();
    expect([report.valid, codes(report)]).toEqual([false, ["corrupt_archive"]]);
    expect(validator.stopped).toBe(true);
  });

  it("calls a zero-byte file truncated", async () => {
    const { report } = await check(new Uint8Array(0));
    expect(report.issues.map((issue) => [issue.code, issue.message])).toEqual([
      ["truncated_archive", "The file is empty."],
    ]);
  });
});

describe("entry names", () => {
  const kind = (name: string | Uint8Array): string => {
    const entry = classifyEntryName(typeof name === "string" ? strToU8(name) : name, 255, true);
    return entry.kind === "task" ? `task ${entry.format} ${entry.name}` : entry.kind;
  };

  it.each([
    ["part.csv", "task csv part.csv"],
    ["Task/Part 1.CSV", "task csv Task/Part 1.CSV"],
    ["./a//b/./c.jsonl", "task mwe a/b/c.jsonl"],
    ["items.json", "task mwe items.json"],
    ["task/", "directory"],
    ["__MACOSX/._part.csv", "junk"],
    ["a/._part.csv", "junk"],
    ["a/Thumbs.db", "junk"],
    ["inner.tar.gz", "nested_archive"],
    ["notes.txt", "unsupported"],
    ["README", "unsupported"],
    ["../part.csv", "unsafe"],
    ["a/../../part.csv", "unsafe"],
    ["/part.csv", "unsafe"],
    ["a\\part.csv", "unsafe"],
    ["c:part.csv", "unsafe"],
    ["part\u0000.csv", "unsafe"],
    ["part\u0085.csv", "unsafe"],
    ["part\u202Evsc.exe", "unsafe"],
    ["\uFEFFpart.csv", "unsafe"],
    ["", "unsafe"],
    [`${"a".repeat(252)}.csv`, "unsafe"],
    // Invisible and format characters by Unicode category (Cc, Cf, Zl, Zp), not by a list of code points.
    ["part\u00ad.csv", "unsafe"],
    ["part\u061c.csv", "unsafe"],
    ["part\u2028.csv", "unsafe"],
    ["part\u2029.csv", "unsafe"],
    ["part\u{e0041}.csv", "unsafe"],
    // What Windows changes or refuses: trailing dots and spaces, device names, and colons (alternate data streams).
    ["part.csv.", "unsafe"],
    ["part.csv ", "unsafe"],
    ["task./part.csv", "unsafe"],
    ["task /part.csv", "unsafe"],
    ["con.csv", "unsafe"],
    ["task/NUL", "unsafe"],
    ["Com1.csv", "unsafe"],
    ["lpt9.tar.gz", "unsafe"],
    ["aux .csv", "unsafe"],
    ["part.csv:hidden", "unsafe"],
    ["task:part.csv", "unsafe"],
    ["console.csv", "task csv console.csv"],
    ["com10.csv", "task csv com10.csv"],
    ["./part.csv", "task csv part.csv"],
    ["caf\u00e9.csv", "task csv caf\u00e9.csv"],
  ])("%j is %s", (name, expected) => {
    expect(kind(name)).toBe(expected);
  });

  it("refuses a name that is not UTF-8", () => {
    expect(kind(new Uint8Array([0x70, 0xe9, 0x2e, 0x63, 0x73, 0x76]))).toBe("unsafe");
  });

  it("refuses a non-ASCII name the entry does not mark as UTF-8 (others read it as code page 437)", () => {
    expect(classifyEntryName(strToU8("caf\u00e9.csv"), 255, false).kind).toBe("unsafe");
    expect(classifyEntryName(strToU8("cafe.csv"), 255, false).kind).toBe("task");
  });

  it("refuses an entry whose UTF-8 flag differs between its local header and its directory record", async () => {
    const zip = zipSync({ "caf\u00e9.csv": [strToU8("prompt,completion\nA, b\n"), { mtime }] });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const directory = view.getUint32(zip.length - 22 + 16, true);
    view.setUint16(directory + 8, view.getUint16(directory + 8, true) & ~0x0800, true);
    expect(codes((await check(zip, { file: { limits: { minExamples: 1 } } })).report)).toEqual(["corrupt_archive"]);
  });

  it("refuses a Unicode Path extra field (0x7075) in the central directory alone", async () => {
    const name = "part.csv";
    const extra = { [UNICODE_PATH]: new Uint8Array([1, 0, 0, 0, 0, ...strToU8("../x.sh")]) };
    const zip = zipSync({ [name]: [strToU8("prompt,completion\nA, b\n"), { mtime, extra }] });
    // The local header's copy becomes an unknown field of the same length: only the directory record has it.
    new DataView(zip.buffer, zip.byteOffset).setUint16(30 + name.length, 0xcafe, true);
    const { report } = await check(zip, { file: { limits: { minExamples: 1 } } });
    expect(report.issues.map((issue) => `${issue.code}@${issue.entry}`)).toEqual(["unsafe_name@part.csv"]);
    expect(report.files).toEqual([]);
  });

  it("takes names differing only in case, Unicode composition or ./ to be the same file", async () => {
    const pairs: [string, string][] = [
      ["a/Part.csv", "a/part.csv"],
      ["caf\u00e9.csv", "cafe\u0301.csv"],
      ["part.csv", "./part.csv"],
    ];
    for (const [first, second] of pairs) {
      const zip = zipSync({ [first]: [strToU8("x"), { mtime }], [second]: [strToU8("y"), { mtime }] });
      expect(codes((await check(zip)).report)).toEqual(["duplicate_entry"]);
    }
  });
});

describe("skipped entries are inflated and checked, not trusted", () => {
  const small = strToU8("prompt,completion\nA, b\n");

  it("counts a skipped entry's inflated bytes towards the archive's total", async () => {
    const zip = zipSync({ "part.csv": [small, { mtime }], "__MACOSX/._part.csv": [largeCsv(2000), { mtime }] });
    const { report } = await check(zip, { ...MIN_ONE, limits: { maxTotalBytes: 50_000 } });
    expect(report.issues.map((issue) => `${issue.code}@${issue.entry}`)).toEqual([
      "skipped_junk@__MACOSX/._part.csv",
      "archive_too_large@__MACOSX/._part.csv",
    ]);
  });

  it("checks a skipped entry's CRC", async () => {
    const zip = zipSync({ ".DS_Store": [strToU8("Bud1 and some more bytes"), { mtime, level: 0 }] });
    const at = 30 + ".DS_Store".length + 3;
    zip[at] = (zip[at] ?? 0) ^ 0xff;
    expect(codes((await check(zip)).report)).toEqual(["skipped_junk", "corrupt_archive"]);
  });

  it("refuses a skipped entry compressed with a method it cannot inflate", async () => {
    const zip = zipSync({ ".DS_Store": [strToU8("Bud1"), { mtime }] });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    view.setUint16(8, 14, true);
    view.setUint16(view.getUint32(zip.length - 22 + 16, true) + 10, 14, true);
    expect(codes((await check(zip)).report)).toEqual(["skipped_junk", "unsupported_compression"]);
  });

  it("reads a folder entry stored empty or deflated empty, as Info-ZIP and Finder write them", async () => {
    const folder = zipSync({ "task/": [new Uint8Array(0), { mtime, level: 0 }], "task/part.csv": [small, { mtime }] });
    expect(codes((await check(folder, MIN_ONE)).report)).toEqual(["skipped_directory"]);
    const finder = await check(readBytes(join(ZIPS, "finder.zip")));
    expect(finder.report.valid).toBe(true);
  });
});

describe("entry file types, from the external attributes whatever system made the entry", () => {
  const types: [string, number][] = [
    ["a symbolic link", 0o120777],
    ["a FIFO", 0o010644],
    ["a character device", 0o020644],
    ["a block device", 0o060644],
    ["a socket", 0o140644],
    ["an unknown type", 0o170644],
  ];
  const systems = [0, 3, 10, 11, 19, 30];

  it.each(systems.flatMap((os) => types.map(([what, mode]) => [what, os, mode] as const)))(
    "refuses %s made by system %i",
    async (_, os, mode) => {
      const zip = zipSync({ "part.csv": [strToU8("target"), { mtime, os, attrs: (mode << 16) >>> 0 }] });
      const { report } = await check(zip, MIN_ONE);
      expect(report.issues.map((issue) => `${issue.code}@${issue.entry}`)).toEqual(["symlink_entry@part.csv"]);
      expect(report.files).toEqual([]);
    },
  );

  it.each(systems)("reads regular files, folders and entries without a type made by system %i", async (os) => {
    const zip = zipSync({
      "task/": [new Uint8Array(0), { mtime, os, attrs: (0o040755 << 16) >>> 0 }],
      "task/a.csv": [CSV, { mtime, os, attrs: (0o100644 << 16) >>> 0 }],
      "task/b.csv": [CSV, { mtime, os, attrs: 0x20 }],
    });
    const { report } = await check(zip, MIN_ONE);
    expect([report.valid, codes(report)]).toEqual([true, ["skipped_directory"]]);
  });
});

describe("damaged input never throws", () => {
  const good = readBytes(join(ZIPS, "good.zip"));
  const finder = readBytes(join(ZIPS, "finder.zip"));

  it("gives a report for every truncation of the good zip", async () => {
    for (let length = 0; length < good.length; length += 97) {
      const report = await validateZipStream(chunkedStream(good.slice(0, length), 1000));
      expect(report.valid).toBe(false);
      expect(codes(report).at(-1)).toMatch(/^(truncated_archive|corrupt_archive)$/);
    }
  });

  it("gives a report for random bytes and for random damage to both zips", async () => {
    const { uniform } = seededDraws(20240518);
    const pick = (n: number): number => Math.floor(uniform() * n);
    for (let run = 0; run < 300; run++) {
      const source = run % 2 === 0 ? good : finder;
      const bytes = run % 3 === 0 ? randomBytes(pick(4000), pick) : damaged(source, 1 + pick(8), pick);
      const report = await validateZipStream(chunkedStream(bytes, 1 + pick(5000)));
      expect(typeof report.valid).toBe("boolean");
      if (!report.valid) expect(report.errorCount).toBeGreaterThan(0);
    }
  });
});

function randomBytes(length: number, pick: (n: number) => number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = pick(256);
  // Half of them start like a zip, so the reader gets past the first signature.
  if (length >= 4 && pick(2) === 0) bytes.set([0x50, 0x4b, 0x03, 0x04]);
  return bytes;
}

/** A copy with `count` random bytes changed, some of them in the headers (the first and last 200 bytes). */
function damaged(source: Uint8Array, count: number, pick: (n: number) => number): Uint8Array {
  const copy = source.slice();
  for (let i = 0; i < count; i++) {
    const region = pick(3);
    const at = region === 0 ? pick(200) : region === 1 ? copy.length - 1 - pick(200) : pick(copy.length);
    copy[at] = pick(256);
  }
  return copy;
}

function lastIndexOf(haystack: Uint8Array, needle: Uint8Array): number {
  for (let at = haystack.length - needle.length; at >= 0; at--)
    if (needle.every((byte, i) => haystack[at + i] === byte)) return at;
  throw new Error("not found");
}

/** A zip written as a stream with stored entries: sizes come after the data, in data descriptors. */
function streamed(files: Record<string, Uint8Array>): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    chunks.push(chunk);
  });
  for (const [name, bytes] of Object.entries(files)) {
    const entry = new ZipPassThrough(name);
    entry.mtime = mtime;
    zip.add(entry);
    entry.push(bytes, true);
  }
  zip.end();
  return concat(chunks);
}

/** A copy of a zip (whose end record has no comment) with `comment` as its archive comment. */
function withComment(bytes: Uint8Array, comment: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length + comment.length);
  copy.set(bytes);
  copy.set(comment, bytes.length);
  new DataView(copy.buffer).setUint16(bytes.length - 2, comment.length, true);
  return copy;
}

/** Ways to bend zip64Stored's end records. */
interface Zip64Options {
  /** The zip64 end record's size field (44, its fields after the size, unless given). */
  recordSize?: number;
  /** Bytes after the zip64 end record's fields (its "extensible data sector"); its size field counts them. */
  extensible?: number[];
  /** Cut the zip64 end record's fields to what its size field says (with recordSize 0, only signature and size). */
  truncateRecord?: boolean;
  /** Added to where the locator says the zip64 end record is. */
  locatorShift?: number;
  /** The directory size the zip64 end record gives, in place of the real one. */
  zip64Size?: number;
  /** The 32-bit end record holds the real values instead of the markers. */
  endValues?: boolean;
  /** The 32-bit end record's fields, in place of the markers. */
  end?: { entries?: number; size?: number; offset?: number };
}

/** One stored entry written the zip64 way: 32-bit sizes and offsets set to the marker, real ones in extra fields. */
function zip64Stored(name: string, data: Uint8Array, options: Zip64Options = {}): Uint8Array {
  const nameBytes = strToU8(name);
  const crc = crc32(data);
  const u64 = (value: number): number[] => [...u32(value), 0, 0, 0, 0];
  // biome-ignore format: a record's fields read best in rows
  const local = [
    ...u32(0x04034b50), ...u16(45), ...u16(0), ...u16(0), ...u32(0), ...u32(crc),
    ...u32(0xffffffff), ...u32(0xffffffff), ...u16(nameBytes.length), ...u16(20),
    ...nameBytes, ...u16(1), ...u16(16), ...u64(data.length), ...u64(data.length),
    ...data,
  ];
  const directoryStart = local.length;
  // biome-ignore format: a record's fields read best in rows
  const directory = [
    ...u32(0x02014b50), ...u16(45), ...u16(45), ...u16(0), ...u16(0), ...u32(0), ...u32(crc),
    ...u32(0xffffffff), ...u32(0xffffffff), ...u16(nameBytes.length), ...u16(28), ...u16(0), ...u16(0),
    ...u16(0), ...u32(0), ...u32(0xffffffff),
    ...nameBytes, ...u16(1), ...u16(24), ...u64(data.length), ...u64(data.length), ...u64(0),
  ];
  const zip64EndAt = directoryStart + directory.length;
  const extensible = options.extensible ?? [];
  const recordSize = options.recordSize ?? 44 + extensible.length;
  // biome-ignore format: a record's fields read best in rows
  const fullZip64End = [
    ...u32(0x06064b50), ...u64(recordSize), ...u16(45), ...u16(45), ...u32(0), ...u32(0),
    ...u64(1), ...u64(1), ...u64(options.zip64Size ?? directory.length), ...u64(directoryStart), ...extensible,
  ];
  const zip64End = options.truncateRecord ? fullZip64End.slice(0, 12 + recordSize) : fullZip64End;
  const locator = [...u32(0x07064b50), ...u32(0), ...u64(zip64EndAt + (options.locatorShift ?? 0)), ...u32(1)];
  const real = options.endValues ? { entries: 1, size: directory.length, offset: directoryStart } : {};
  const fields = { entries: 0xffff, size: 0xffffffff, offset: 0xffffffff, ...real, ...options.end };
  // biome-ignore format: a record's fields read best in rows
  const end = [
    ...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(fields.entries), ...u16(fields.entries),
    ...u32(fields.size), ...u32(fields.offset), ...u16(0),
  ];
  return new Uint8Array([...local, ...directory, ...zip64End, ...locator, ...end]);
}

function u16(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff];
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  return joined;
}
