import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import schema from "../../schemas/files-report.schema.json";
import { validateFilesReport } from "../../src/generated/validators";
import { validateTaskStream } from "../../src/validate/task-file";
import { ROLE_ISSUE_CODES } from "../../src/intake/file-roles";
import { ARCHIVE_ISSUE_SEVERITY } from "../../src/validate/zip/archive-issues";
import { validateZipStream, type FilesReport } from "../../src/validate/zip/zip-validator";
import { fileStream } from "../../src/cli/file-stream";
import { ROOT, chunkedStream, isv, readBytes } from "./helpers";

const ZIPS = join(ROOT, "fixtures", "zips");
const run = promisify(execFile);
const TASKS = join(ROOT, "fixtures", "tasks");

function checkZip(name: string): Promise<FilesReport> {
  return validateZipStream(fileStream(join(ZIPS, name)));
}

/** code@entry for each archive issue, then each file listed: the whole outcome in one readable value. */
function outcome(report: FilesReport): { valid: boolean; issues: string[]; files: string[] } {
  return {
    valid: report.valid,
    issues: report.issues.map((issue) => `${issue.code}@${issue.entry ?? "-"}`),
    files: report.files.map((file) => `${file.name}:${file.report.valid ? "valid" : "invalid"}`),
  };
}

/** The one small task file most refusal fixtures hold: valid but for its single example. */
const SMALL = "invalid";

/** Every fixture and the exact outcome expected under the default limits. */
const CASES: Record<string, ReturnType<typeof outcome>> = {
  "good.zip": {
    valid: true,
    issues: [],
    files: ["task/part-1.csv:valid", "task/part-2.csv:valid", "control/facts-standard.csv:valid"],
  },
  "finder.zip": {
    valid: true,
    issues: ["skipped_directory@task/", "skipped_junk@__MACOSX/task/._part-1.csv", "skipped_junk@task/.DS_Store"],
    files: ["task/part-1.csv:valid", "task/behaviour.jsonl:valid"],
  },
  "bomb.zip": { valid: false, issues: ["compression_ratio_too_high@big.csv"], files: [] },
  "nested.zip": { valid: false, issues: ["nested_archive@inner.zip"], files: [] },
  "disguised-zip.zip": { valid: false, issues: ["nested_archive@part.csv"], files: [] },
  "not-a-task-file.zip": {
    valid: false,
    issues: ["unsupported_file_type@results.xlsx"],
    files: [`part-1.csv:${SMALL}`],
  },
  "duplicate.zip": { valid: false, issues: ["duplicate_entry@task/part.csv"], files: [`task/Part.csv:${SMALL}`] },
  "encrypted.zip": { valid: false, issues: ["encrypted_entry@part.csv"], files: [] },
  "symlink.zip": { valid: false, issues: ["symlink_entry@part.csv"], files: [] },
  "traversal.zip": { valid: false, issues: ["unsafe_name@../../part.csv"], files: [] },
  "absolute.zip": { valid: false, issues: ["unsafe_name@/etc/cron.d/part.csv"], files: [] },
  "backslash.zip": { valid: false, issues: ["unsafe_name@..\\part.csv"], files: [] },
  "drive-letter.zip": { valid: false, issues: ["unsafe_name@C:/part.csv"], files: [] },
  "control-character.zip": { valid: false, issues: ["unsafe_name@part\\u{1b}[2J.csv"], files: [] },
  "unsupported-compression.zip": { valid: false, issues: ["unsupported_compression@part.csv"], files: [] },
  "too-many-entries.zip": {
    valid: false,
    issues: ["too_many_entries@part-33.csv"],
    files: Array.from({ length: 32 }, (_, i) => `part-${i + 1}.csv:${SMALL}`),
  },
  "corrupt.zip": { valid: false, issues: ["corrupt_archive@task/part-1.csv"], files: [] },
  "corrupt-stored.zip": { valid: false, issues: ["corrupt_archive@part.csv"], files: [] },
  "truncated.zip": {
    valid: false,
    issues: ["truncated_archive@task/part-2.csv"],
    files: ["task/part-1.csv:valid"],
  },
  "empty.zip": { valid: false, issues: ["empty_archive@-"], files: [] },
  "hidden-in-comment.zip": { valid: false, issues: ["corrupt_archive@-"], files: [`part.csv:${SMALL}`] },
  "unicode-path.zip": { valid: false, issues: ["unsafe_name@notes.csv"], files: [] },
  "junk-bomb.zip": {
    valid: false,
    issues: ["skipped_junk@__MACOSX/._part.csv", "compression_ratio_too_high@__MACOSX/._part.csv"],
    files: [`part.csv:${SMALL}`],
  },
  "folder-with-data.zip": { valid: false, issues: ["skipped_directory@task/", "corrupt_archive@task/"], files: [] },
  "symlink-dos.zip": { valid: false, issues: ["symlink_entry@part.csv"], files: [] },
  "reserved-name.zip": { valid: false, issues: ["unsafe_name@task/con.csv"], files: [] },
  "unmarked-utf8.zip": { valid: false, issues: ["unsafe_name@caf\u00e9.csv"], files: [] },
  "junk-only.zip": {
    valid: false,
    issues: ["skipped_junk@__MACOSX/._part.csv", "skipped_junk@.DS_Store", "empty_archive@-"],
    files: [],
  },
};

describe("fixtures/zips: each archive's exact outcome", () => {
  it.each(Object.entries(CASES))("%s", async (name, expected) => {
    expect(outcome(await checkZip(name))).toEqual(expected);
  });

  it.each(Object.keys(CASES))("%s: the report is in its schema", async (name) => {
    const report = await checkZip(name);
    expect(validateFilesReport(report), JSON.stringify(validateFilesReport.errors)).toBe(true);
  });

  it("covers every archive issue code", () => {
    const seen = new Set(Object.values(CASES).flatMap(({ issues }) => issues.map((issue) => issue.split("@")[0])));
    // archive_too_large needs 100 MiB of inflated data: it is tested with a lower limit (zip-stream.test.ts).
    expect([...seen, "archive_too_large"].sort()).toEqual(Object.keys(ARCHIVE_ISSUE_SEVERITY).sort());
  });

  it("lists the same codes as the schema: the archive's, then the roles'", () => {
    expect([...Object.keys(ARCHIVE_ISSUE_SEVERITY), ...ROLE_ISSUE_CODES]).toEqual(schema.$defs.code.enum);
  });

  it("are what scripts/generate-zips.mjs makes, byte for byte", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "isv-zips-"));
    try {
      await run(process.execPath, [join(ROOT, "scripts", "generate-zips.mjs"), elsewhere]);
      const made = readdirSync(elsewhere).sort();
      expect(made).toEqual(readdirSync(ZIPS).sort());
      for (const name of made) expect(readBytes(join(elsewhere, name)), name).toEqual(readBytes(join(ZIPS, name)));
    } finally {
      rmSync(elsewhere, { recursive: true });
    }
  });

  it("stops reading at the first archive error: the entries after a refused one are not read", async () => {
    const report = await checkZip("not-a-task-file.zip");
    expect(report.truncated).toBe(true);
    expect(report.stats.entries).toBe(2);
  });
});

describe("the good zip", () => {
  const parts: [string, string][] = [
    ["task/part-1.csv", "reference/memo-trap-inverse.csv"],
    ["task/part-2.csv", "valid/classification.csv"],
    ["control/facts-standard.csv", "reference/facts-standard.csv"],
  ];

  it.each(parts)("reports %s exactly as %s checked alone", async (entry, file) => {
    const report = await checkZip("good.zip");
    const alone = await validateTaskStream(fileStream(join(TASKS, file)), {});
    expect(report.files.find((candidate) => candidate.name === entry)?.report).toEqual(alone.report);
  });

  it("counts the archive's errors and warnings as its files' plus its own", async () => {
    const report = await checkZip("finder.zip");
    expect([report.errorCount, report.warningCount]).toEqual([0, 3]);
  });

  it("reports the model-written evaluation in a zip as that file checked alone", async () => {
    const report = await checkZip("finder.zip");
    const alone = await validateTaskStream(fileStream(join(TASKS, "behaviour", "valid.jsonl")), {});
    const entry = report.files.find((candidate) => candidate.name === "task/behaviour.jsonl");
    expect(entry && { kind: entry.kind, report: entry.report }).toEqual({ kind: "jsonl", report: alone.report });
  });

  it.each([1, 7, 64, 1000, 4096, 65536])("gives the same report fed in %i-byte chunks", async (size) => {
    const bytes = readBytes(join(ZIPS, "good.zip"));
    const whole = await validateZipStream(chunkedStream(bytes, bytes.length));
    expect(await validateZipStream(chunkedStream(bytes, size))).toEqual(whole);
  });

  it("gives the same report for the Finder zip (data descriptors) fed in chunks of 1, 5 and 23 bytes", async () => {
    const bytes = readBytes(join(ZIPS, "finder.zip"));
    const whole = await validateZipStream(chunkedStream(bytes, bytes.length));
    for (const size of [1, 5, 23]) expect(await validateZipStream(chunkedStream(bytes, size))).toEqual(whole);
  });
});

describe("isv validate with zips and several files", () => {
  const zip = (name: string): string => join(ZIPS, name);

  it("prints each file of a zip under its path in the archive, and exits 0 when all are valid", async () => {
    const result = await isv("validate", zip("good.zip"));
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      `${zip("good.zip")}/task/part-1.csv: valid: classification (inferred), 300 examples, 0 errors, 0 warnings`,
      `${zip("good.zip")}/task/part-2.csv: valid: classification (inferred), 400 examples, 0 errors, 0 warnings`,
      `${zip("good.zip")}/control/facts-standard.csv: valid: sequence_prob (inferred), 350 examples, 0 errors, 0 warnings`,
      `${zip("good.zip")}: valid: 3 task files, 3 valid, 0 errors, 0 warnings`,
    ]);
  });

  it("names the file inside the zip on every issue line (name:line), and exits 1", async () => {
    const result = await isv("validate", zip("not-a-task-file.zip"));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `error unsupported_file_type: ${zip("not-a-task-file.zip")}/results.xlsx: Not a task file`,
    );
    expect(result.stdout).toContain(`  ${zip("not-a-task-file.zip")}/part-1.csv:-  file: `);
  });

  it("never prints a name's control characters raw", async () => {
    const result = await isv("validate", zip("control-character.zip"));
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("\u001b");
    expect(result.stdout).toContain("part\\u{1b}[2J.csv");
  });

  it("checks several files in turn, exits 1 when any is invalid, and ends with a count", async () => {
    const valid = join(TASKS, "valid", "classification.csv");
    const result = await isv("validate", valid, zip("bomb.zip"), join(TASKS, "behaviour", "valid.jsonl"));
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split("\n").at(-1)).toBe("3 files checked: 2 valid, 1 INVALID");
    expect(result.stdout).toContain(`${valid}: valid: classification (inferred), 400 examples`);
  });

  it("prints one report per file with --json, each under its path", async () => {
    const valid = join(TASKS, "valid", "classification.csv");
    const result = await isv("validate", valid, zip("good.zip"), "--json");
    expect(result.code).toBe(0);
    const printed: { file: string; report: { valid: boolean } }[] = JSON.parse(result.stdout);
    expect(printed.map(({ file, report }) => [file, report.valid])).toEqual([
      [valid, true],
      [zip("good.zip"), true],
    ]);
    expect(validateFilesReport(printed[1]?.report)).toBe(true);
  });

  it("prints a single zip's report as the archive report with --json", async () => {
    const result = await isv("validate", zip("good.zip"), "--json");
    expect(JSON.parse(result.stdout)).toEqual(await checkZip("good.zip"));
  });

  it("keeps the output of one plain file as it was (no count line)", async () => {
    const file = join(TASKS, "valid", "classification.csv");
    const result = await isv("validate", file);
    expect(result.stdout).toBe(`${file}: valid: classification (inferred), 400 examples, 0 errors, 0 warnings\n`);
  });

  it("refuses --format with a zip as a usage error", async () => {
    const result = await isv("validate", zip("good.zip"), "--format", "csv");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--format does not apply to a zip");
  });

  it("exits 2 before checking anything when any file cannot be read", async () => {
    const result = await isv("validate", zip("good.zip"), join(ZIPS, "missing.zip"));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
  });

  it("reads a file named .zip that is not one as a corrupt archive", async () => {
    const notZip = join(tmpdir(), `isv-not-a-zip-${process.pid}.zip`);
    writeFileSync(notZip, "prompt,completion\nA, b\n");
    try {
      const result = await isv("validate", notZip);
      expect(result.code).toBe(1);
      expect(result.stdout.split("\n")[0]).toBe(
        `error corrupt_archive: ${notZip}: This is not a zip archive: it does not start with a zip entry or end record.`,
      );
    } finally {
      rmSync(notZip);
    }
  });
});
