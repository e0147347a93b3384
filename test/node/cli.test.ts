import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REAL_TASKS, ROOT } from "./helpers";

const run = promisify(execFile);
const CLI = join(ROOT, "bin", "isv.mjs");

async function isv(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("isv validate (the built CLI, as npx runs it)", () => {
  it("exits 0 on a valid file and prints a summary line", async () => {
    const result = await isv("validate", join(REAL_TASKS, "lambada-1k.csv"));
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n").at(-1)).toMatch(/lambada-1k\.csv: valid: sequence_prob \(inferred\), 1000 examples, 0 errors, 0 warnings$/);
  });

  it("exits 1 on an invalid file, grouping issues by code with their lines", async () => {
    const result = await isv("validate", join(ROOT, "fixtures/tasks/invalid/answer_index_invalid.csv"), "--min-examples", "0");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("error answer_index_invalid (2)");
    expect(result.stdout).toMatch(/answer_index_invalid\.csv:3 {2}line 3, column answer_index: answer_index "x"/);
    expect(result.stdout).toMatch(/INVALID: classification \(inferred\), 1 examples, 2 errors, 0 warnings/);
  });

  it("prints only the report object with --json, honouring --type", async () => {
    const result = await isv("validate", join(REAL_TASKS, "QA_bias-v2.csv"), "--type", "logodds", "--json");
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ valid: false, taskType: "logodds", counts: { too_few_examples: 1 } });
  });

  it("exits 2 on usage errors and unreadable files", async () => {
    expect((await isv()).code).toBe(2);
    expect((await isv("validate")).code).toBe(2);
    expect((await isv("validate", "a.csv", "--min-examples", "many")).code).toBe(2);
    const missing = await isv("validate", join(ROOT, "no-such-file.csv"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read");
  });
});
