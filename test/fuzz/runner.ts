/**
 * Runs one fuzz property with fast-check, seeded: counts the cases tried, times each one (the slowest is reported;
 * no timing is asserted), and on failure returns the shrunk counterexample with the seed and path that replay it.
 */
import fc from "fast-check";
import type { FuzzProperty } from "./properties";

export interface RunOptions {
  seed: number;
  numRuns: number;
  /** Stop generating new cases after this long (the cases tried so far are reported). */
  timeLimitMs?: number;
  /** Replay one case: the path a failure printed. */
  path?: string;
  /** An async case that has not settled after this long fails (a hang); a synchronous one cannot be interrupted. */
  caseTimeoutMs?: number;
  /** Called before each case with its index (a path), so that a watchdog can name a case that never ends. */
  onCase?: (index: number) => void;
}

export interface RunResult {
  name: string;
  seed: number;
  /** Cases generated and checked (shrinking steps not included). */
  cases: number;
  ms: number;
  interrupted: boolean;
  slowest: { ms: number; input: string };
  /** How many cases fell in each class their check named (the corruption kinds, the outcomes), most first. */
  labels: [string, number][];
  failure?: { path: string; counterexample: string; error: string };
}

export async function runProperty<T>(property: FuzzProperty<T>, options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  let slowest = { ms: 0, input: "" };
  let index = 0;
  let shrinking = false;
  const labels = new Map<string, number>();
  const predicate = fc.asyncProperty(property.arbitrary, async (input) => {
    if (!shrinking) options.onCase?.(index++);
    const before = performance.now();
    let label: string | undefined;
    try {
      label = (await property.check(input)) ?? undefined;
    } catch (error) {
      // A case its precondition rejects is skipped, not failed (fast-check draws another).
      if (!fc.PreconditionFailure.isFailure(error)) shrinking = true;
      throw error;
    }
    const ms = performance.now() - before;
    if (shrinking) return;
    if (ms > slowest.ms) slowest = { ms, input: property.describe(input) };
    if (label !== undefined) labels.set(label, (labels.get(label) ?? 0) + 1);
  });
  const details = await fc.check(predicate, {
    seed: options.seed,
    numRuns: options.numRuns,
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.timeLimitMs !== undefined
      ? { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false }
      : {}),
    ...(options.caseTimeoutMs !== undefined ? { timeout: options.caseTimeoutMs } : {}),
  });
  const result: RunResult = {
    name: property.name,
    seed: options.seed,
    cases: details.numRuns,
    ms: performance.now() - started,
    interrupted: details.interrupted,
    slowest,
    labels: [...labels].sort((a, b) => b[1] - a[1]),
  };
  if (details.failed) {
    const [input] = details.counterexample ?? [];
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    let described: string;
    try {
      described = input === undefined ? "(none)" : property.describe(input);
    } catch (cause) {
      described = `(cannot describe: ${cause instanceof Error ? cause.message : String(cause)})`;
    }
    const raw = input === undefined ? "" : fc.stringify(input);
    result.failure = {
      path: details.counterexamplePath ?? "",
      counterexample: `${described}\n  value: ${raw.length > 4000 ? `${raw.slice(0, 4000)}…` : raw}`,
      error,
    };
  }
  return result;
}

/** The failure as printed: the counterexample, the error, and how to replay it. */
export function failureReport(result: RunResult, replay: (result: RunResult) => string): string {
  const failure = result.failure;
  if (!failure) return "";
  return [
    `FAILED: ${result.name}`,
    `  after ${result.cases} cases, seed ${result.seed}, path ${failure.path}`,
    `  counterexample: ${failure.counterexample}`,
    `  error: ${failure.error.split("\n").join("\n  ")}`,
    `  replay: ${replay(result)}`,
  ].join("\n");
}
