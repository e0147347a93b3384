import { describe, expect, it } from "vitest";
import { backoffSeconds } from "../../src/evaluate/queue";
import { mulberry32 } from "../../src/analysis/contrasts";

/**
 * The queue's retry delay: exponential in the attempt (1, 2, 4 … seconds, at most 300), jittered between half and
 * all of that ceiling, and never sooner than the provider's Retry-After. The random draw is injected, so the bounds
 * are exact: a draw of 0 gives the lower bound, a draw just under 1 the upper one. (In workerd, where the queue
 * consumer runs it; it is pure, so these tests need no bindings.)
 */
const LOWEST = () => 0;
const HIGHEST = () => 1 - Number.EPSILON;
const ceilingOf = (attempt: number): number => Math.min(300, 2 ** Math.max(0, attempt - 1));
const ATTEMPTS = Array.from({ length: 12 }, (_, i) => i + 1);

describe("backoffSeconds: exponential", () => {
  it("doubles the longest wait with each attempt: 1, 2, 4 … 256 seconds over the first nine", () => {
    expect(ATTEMPTS.slice(0, 9).map((attempt) => backoffSeconds(attempt, undefined, HIGHEST))).toEqual([
      1, 2, 4, 8, 16, 32, 64, 128, 256,
    ]);
  });

  it("caps the longest wait at five minutes from the tenth attempt on", () => {
    expect([10, 11, 12, 50, 1000].map((attempt) => backoffSeconds(attempt, undefined, HIGHEST))).toEqual([
      300, 300, 300, 300, 300,
    ]);
  });

  it("treats attempt 0 (or less) as the first attempt", () => {
    expect([0, -3].map((attempt) => backoffSeconds(attempt, undefined, HIGHEST))).toEqual([1, 1]);
  });
});

describe("backoffSeconds: jitter", () => {
  it("waits half the ceiling, rounded up to a whole second, on the lowest draw", () => {
    expect(ATTEMPTS.map((attempt) => backoffSeconds(attempt, undefined, LOWEST))).toEqual([
      1, 1, 2, 4, 8, 16, 32, 64, 128, 150, 150, 150,
    ]);
  });

  it("waits the whole ceiling on the highest draw", () => {
    expect(ATTEMPTS.map((attempt) => backoffSeconds(attempt, undefined, HIGHEST))).toEqual(ATTEMPTS.map(ceilingOf));
  });

  it("moves linearly between the two: a draw of one half waits three quarters of the ceiling", () => {
    expect([4, 7, 10].map((attempt) => backoffSeconds(attempt, undefined, () => 0.5))).toEqual([6, 48, 225]);
  });

  it("stays within [ceil(ceiling / 2), ceiling] whole seconds for 10,000 seeded draws per attempt", () => {
    const uniform = mulberry32(7);
    const outside: string[] = [];
    for (const attempt of ATTEMPTS)
      for (let i = 0; i < 10_000; i++) {
        const seconds = backoffSeconds(attempt, undefined, uniform);
        const ceiling = ceilingOf(attempt);
        if (!Number.isInteger(seconds) || seconds < Math.ceil(ceiling / 2) || seconds > ceiling)
          outside.push(`attempt ${attempt}: ${seconds}`);
      }
    expect(outside).toEqual([]);
  });

  it("spreads the waits over every whole second of the range, so the retries of one outage do not arrive together", () => {
    // Only a draw of exactly 0 gives 150; every other draw rounds up into 151…300.
    const uniform = mulberry32(11);
    const waits = new Set(Array.from({ length: 10_000 }, () => backoffSeconds(10, undefined, uniform)));
    expect([Math.min(...waits), Math.max(...waits), waits.size]).toEqual([151, 300, 150]);
  });

  it("draws from Math.random when no draw is given, within the same bounds", () => {
    const waits = Array.from({ length: 10_000 }, () => backoffSeconds(6));
    expect(waits.filter((seconds) => !Number.isInteger(seconds) || seconds < 16 || seconds > 32)).toEqual([]);
  });
});

describe("backoffSeconds: Retry-After", () => {
  it("never retries sooner than Retry-After, even when the backoff is shorter", () => {
    expect(backoffSeconds(1, 90_000, HIGHEST)).toBe(90);
  });

  it("rounds Retry-After up to a whole second", () => {
    expect([1, 1_001, 1_500, 2_000].map((ms) => backoffSeconds(1, ms, LOWEST))).toEqual([1, 2, 2, 2]);
  });

  it("keeps the backoff when Retry-After is shorter", () => {
    expect(backoffSeconds(6, 3_000, LOWEST)).toBe(16);
  });

  it("honours a Retry-After beyond the five-minute cap", () => {
    expect(backoffSeconds(12, 600_000, HIGHEST)).toBe(600);
  });

  it("treats a Retry-After of 0 as none", () => {
    expect(backoffSeconds(3, 0, LOWEST)).toBe(backoffSeconds(3, undefined, LOWEST));
  });
});
