import { readFileSync } from "node:fs";
import { join } from "node:path";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { trainReferenceFamily } from "../../src/reference/family";
import { classificationLoss, familyTrends } from "../../src/reference/trends";
import { parseClassesLiteral } from "../../src/validate/classes-literal";
import { defined } from "../defined";
import { ROOT } from "./helpers";

/** The family's designed trends, from its real computations on the fixture tasks. */
const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
const rows = (name: string): string[][] =>
  Papa.parse<string[]>(readFileSync(join(ROOT, "fixtures/tasks/reference", name), "utf8"), {
    skipEmptyLines: true,
  }).data.slice(1);

const facts = rows("facts-standard.csv").map(([prompt, completion], i) => ({
  prompt: defined(prompt, `facts row ${i}'s prompt`),
  completion: defined(completion, `facts row ${i}'s completion`),
}));
const memo = rows("memo-trap-inverse.csv").map(([prompt, classes, answer], i) => {
  const parsed = parseClassesLiteral(defined(classes, `memo-trap row ${i}'s classes`));
  if (!parsed.ok) throw new Error(parsed.message);
  return { prompt: defined(prompt, `memo-trap row ${i}'s prompt`), classes: parsed.classes, answer: Number(answer) };
});
const trends = familyTrends(family, facts, memo);
/** The loss of the member with n-gram order `order` (1 to 5), from one loss per member in order. */
const lossOf = (losses: number[], order: number): number => defined(losses[order - 1], `order ${order}'s loss`);

describe("known scaling on the fixture tasks", () => {
  it("computes the prize's classification loss (hand-checked values)", () => {
    expect(classificationLoss([Math.log(0.75), Math.log(0.25)], 0)).toBeCloseTo(-Math.log(0.75), 12);
    expect(classificationLoss([-1, -1, -1], 2)).toBeCloseTo(Math.log(3), 12);
    expect(classificationLoss([-1000, -1001], 1)).toBeCloseTo(Math.log(1 + Math.E), 9);
  });

  it("facts-standard.csv: loss falls with every step in size (standard scaling)", () => {
    const losses = trends.map((trend) => trend.sequenceLoss);
    for (let order = 2; order <= losses.length; order++)
      expect(lossOf(losses, order), `order ${order} vs ${order - 1}`).toBeLessThan(lossOf(losses, order - 1) - 0.5);
    expect(lossOf(losses, 1) - lossOf(losses, 5)).toBeGreaterThan(5);
  });

  it("memo-trap-inverse.csv: loss rises with size and accuracy falls from 100% to 0% (inverse scaling)", () => {
    const losses = trends.map((trend) => trend.classificationLoss);
    // Orders 1 and 2 cannot see the proverb and agree to within 0.01; each longer context recalls more of it.
    expect(Math.abs(lossOf(losses, 2) - lossOf(losses, 1))).toBeLessThan(0.01);
    for (let order = 3; order <= losses.length; order++)
      expect(lossOf(losses, order), `order ${order}`).toBeGreaterThan(lossOf(losses, order - 1) + 0.5);
    expect(trends.map((trend) => trend.classificationAccuracy)).toEqual([1, 1, 2 / 3, 1 / 3, 0]);
  });
});
