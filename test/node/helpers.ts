import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { mulberry32 } from "../../src/analysis/contrasts";
import { validateStream, type ValidatorOptions } from "../../src/validate/validator";
import type { ModelResults } from "../../src/analysis/results-csv";
import type { ValidationReport } from "../../src/validate/report";
import { fileStream } from "../../src/cli/file-stream";

export const ROOT = join(import.meta.dirname, "..", "..");
/** Real prize-era files, read in place from ../shared (never copied into the project). */
export const REAL_TASKS = join(ROOT, "..", "shared", "samples", "real", "tasks");

export function validateFile(path: string, options: ValidatorOptions = {}): Promise<ValidationReport> {
  return validateStream(fileStream(path), options);
}

/** Feeds bytes in fixed-size chunks, to show results do not depend on where chunks split quotes or newlines. */
export function validateInChunks(
  bytes: Uint8Array,
  chunkSize: number,
  options: ValidatorOptions = {},
): Promise<ValidationReport> {
  return validateStream(chunkedStream(bytes, chunkSize), options);
}

/** A stream of `bytes` in pieces of `chunkSize`. */
export function chunkedStream(bytes: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** One model's behaviour results, each example given by its matching probability p (lm = log p, ln = log(1 - p)). */
export function fromProbabilities(probabilities: number[]): ModelResults {
  return {
    rows: probabilities.length,
    columns: {
      logprob_matching: Float64Array.from(probabilities, (p) => Math.log(p)),
      logprob_not_matching: Float64Array.from(probabilities, (p) => Math.log(1 - p)),
    },
  };
}

export const readBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** code@line/row/column for each listed issue: one string that shows the whole outcome in a failed assertion. */
export const where = (report: ValidationReport): string[] =>
  report.issues.map((issue) => `${issue.code}@${issue.line ?? "-"}/${issue.row ?? "-"}/${issue.column ?? "-"}`);

export { freePort } from "../../scripts/dev-server.mjs";

const run = promisify(execFile);
const CLI = join(ROOT, "bin", "isv.mjs");

/** Runs the built CLI as `npx isv` does, and returns its exit code and output. */
export async function isv(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Seeded uniform and normal (Box–Muller) draws, so every synthetic test input is fixed. */
export function seededDraws(seed: number): { uniform: () => number; gaussian: () => number } {
  const uniform = mulberry32(seed);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, gaussian };
}

/** `isv token create` against the local D1 state in `persistTo`, as an organiser sets up a token: stdout and stderr. */
export function createTokenWithCli(
  role: "organiser" | "admin",
  persistTo: string,
  label?: string,
): Promise<{ stdout: string; stderr: string }> {
  const args = [
    "token",
    "create",
    "--role",
    role,
    ...(label === undefined ? [] : ["--label", label]),
    "--persist-to",
    persistTo,
  ];
  return run(process.execPath, [CLI, ...args]);
}
