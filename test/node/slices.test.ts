import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyseMetrics, type FamilyResults, type MetricToAnalyse } from "../../src/analysis/analyse";
import { METRICS } from "../../src/analysis/metrics";
import type { ModelResults } from "../../src/analysis/results-csv";
import { exampleRange, groupIndices, sliceFamilyResults, sliceResults } from "../../src/analysis/slices";
import { DEFAULT_OPTIONS } from "../../src/analysis/statistics";
import { seededDraws } from "./helpers";

/** Every metric a classification task's results carry, the headline first: the analyses a submission stores. */
const CLASSIFICATION_METRICS: MetricToAnalyse[] = Object.values(METRICS)
  .filter((metric) => metric.taskTypes.includes("classification"))
  .map((metric, k) => ({ metric, role: k === 0 ? "headline" : "secondary" }));

/** Two lines as a submission's families give them: GPT-3 sizes, and a grid's line along RLHF steps (linear axis). */
const LINES = [
  {
    family: "gpt3",
    axis: "params",
    fixed: undefined,
    models: [
      ["ada", 350e6],
      ["babbage", 1.3e9],
      ["curie", 6.7e9],
      ["davinci", 175e9],
    ],
  },
  {
    family: "grid",
    axis: "rlhf_steps",
    fixed: { parameters: 1e9 },
    models: [
      ["grid-1b-0", 0],
      ["grid-1b-500", 500],
      ["grid-1b-2000", 2000],
    ],
  },
] as const;

interface Cell {
  loss: number;
  correct: number;
  totalLogprob: number;
}

/**
 * Per-example classification results for every model of both lines, as an evaluation stores them: loss rising with
 * scale on a shared difficulty, correct when the loss is small, the probability on the classes, and flagged examples
 * (NaN in every column) for one model every 11th example and for all models at example 5.
 */
function simulatedCells(examples: number, seed: number): Map<string, Cell[]> {
  const { gaussian } = seededDraws(seed);
  const difficulty = Array.from({ length: examples }, () => gaussian());
  const cells = new Map<string, Cell[]>();
  for (const line of LINES) {
    for (const [m, [id]] of line.models.entries()) {
      cells.set(
        id,
        difficulty.map((d, i) => {
          if (i === 5 || (m === 1 && i % 11 === 3)) return { loss: NaN, correct: NaN, totalLogprob: NaN };
          const loss = Math.abs(1 + 0.08 * m + 0.6 * d + 0.3 * gaussian());
          return { loss, correct: loss < 1 ? 1 : 0, totalLogprob: -0.05 * Math.abs(gaussian()) };
        }),
      );
    }
  }
  return cells;
}

/** One model's results from its cells, built afresh (not sliced), as a file of just these examples would give. */
function resultsOf(cells: readonly Cell[]): ModelResults {
  return {
    rows: cells.length,
    columns: {
      loss: Float64Array.from(cells, (cell) => cell.loss),
      correct: Float64Array.from(cells, (cell) => cell.correct),
      total_logprob: Float64Array.from(cells, (cell) => cell.totalLogprob),
    },
  };
}

/** Both lines' results, each model's from `pick` of its cells. */
function linesOf(cells: Map<string, Cell[]>, pick: (all: Cell[]) => Cell[]): FamilyResults[] {
  return LINES.map((line) => ({
    family: line.family,
    axis: line.axis,
    ...(line.fixed && { fixed: line.fixed, axisScale: "linear" as const }),
    models: line.models.map(([id, scale]) => ({ id, scale, results: resultsOf(pick(cells.get(id) ?? [])) })),
  }));
}

const analysed = (lines: FamilyResults[]) =>
  analyseMetrics("classification", CLASSIFICATION_METRICS, lines, DEFAULT_OPTIONS);
const range = (from: number, to: number): number[] => exampleRange(from, to - from);

describe("a slice of results", () => {
  const results: ModelResults = {
    rows: 4,
    columns: { loss: Float64Array.of(0.5, NaN, 1.5, 2.5), correct: Float64Array.of(1, NaN, 0, 0) },
    unsignedLogodds: true,
  };

  it("holds each column's values at the indices, in their order, NaN kept, and as many rows as indices", () => {
    expect(sliceResults(results, [3, 1, 0])).toEqual({
      rows: 3,
      columns: { loss: Float64Array.of(2.5, NaN, 0.5), correct: Float64Array.of(0, NaN, 1) },
      unsignedLogodds: true,
    });
  });

  it("leaves the sliced results as they were", () => {
    sliceResults(results, [0])?.columns.loss?.fill(9);
    expect(results.columns.loss).toEqual(Float64Array.of(0.5, NaN, 1.5, 2.5));
  });

  it("a slice of a slice is the slice at the composed indices (a part's group is a group of the task)", () => {
    const values = fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constant(Number.NaN)), {
      minLength: 1,
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        values.chain((column) =>
          fc.tuple(
            fc.constant(column),
            fc
              .array(fc.nat(column.length - 1), { maxLength: 30 })
              .chain((outer) =>
                fc.tuple(fc.constant(outer), outer.length === 0 ? fc.constant([]) : fc.array(fc.nat(outer.length - 1))),
              ),
          ),
        ),
        ([column, [outer, inner]]) => {
          const whole: ModelResults = { rows: column.length, columns: { loss: Float64Array.from(column) } };
          const composed = inner.map((k) => outer[k] ?? -1);
          expect(sliceResults(sliceResults(whole, outer), inner)).toEqual(sliceResults(whole, composed));
        },
      ),
    );
  });

  it.each([[[4]], [[-1]], [[1.5]]])(
    "refuses an index outside the examples (%j) rather than read it as missing",
    (indices) => {
      expect(() => sliceResults(results, indices)).toThrow(RangeError);
    },
  );

  it("slices every model of every line alike and keeps the lines' families, axes and what they hold fixed", () => {
    const lines = linesOf(simulatedCells(12, 1), (all) => all);
    const sliced = sliceFamilyResults(lines, [2, 7]);
    expect(sliced.map(({ family, axis, fixed, axisScale }) => ({ family, axis, fixed, axisScale }))).toEqual([
      { family: "gpt3", axis: "params", fixed: undefined, axisScale: undefined },
      { family: "grid", axis: "rlhf_steps", fixed: { parameters: 1e9 }, axisScale: "linear" },
    ]);
    for (const [l, line] of sliced.entries()) {
      for (const [m, model] of line.models.entries()) {
        const whole = lines[l]?.models[m]?.results.columns.loss;
        expect(model.results.columns.loss).toEqual(Float64Array.of(whole?.[2] ?? -1, whole?.[7] ?? -1));
      }
    }
  });
});

describe("analyses of slices of a two-part submission", () => {
  // Part A (70 examples) then part B (55), stored as one list of 125 examples, as the lead's evaluation does.
  const partA = simulatedCells(70, 11);
  const partB = simulatedCells(55, 12);
  const concatenated = new Map([...partA].map(([id, cells]) => [id, [...cells, ...(partB.get(id) ?? [])]]));
  const whole = linesOf(concatenated, (all) => all);

  it("the task (all of A, then all of B) is the analysis of the concatenation, bit for bit", () => {
    expect(analysed(sliceFamilyResults(whole, range(0, 125)))).toEqual(analysed(whole));
  });

  it("part A's slice is the analysis of part A alone, every metric and line", () => {
    const alone = analysed(linesOf(partA, (all) => all));
    expect(alone.flatMap((analysis) => analysis.families).length).toBe(6);
    expect(analysed(sliceFamilyResults(whole, range(0, 70)))).toEqual(alone);
  });

  it("part B's slice is the analysis of part B alone, every metric and line", () => {
    expect(analysed(sliceFamilyResults(whole, range(70, 125)))).toEqual(analysed(linesOf(partB, (all) => all)));
  });
});

describe("analyses of the groups of a grouped file", () => {
  const examples = 150;
  const cells = simulatedCells(examples, 21);
  // A difficulty column as a submitter writes it: not in blocks, so each group's indices are spread over the file.
  const { uniform } = seededDraws(22);
  const groups = Array.from({ length: examples }, () => ["easy", "medium", "hard"][Math.floor(uniform() * 3)] ?? "");
  const whole = linesOf(cells, (all) => all);

  it.each(["easy", "medium", "hard"])("the %s group's slice is the analysis of a file of its rows alone", (group) => {
    const indices = groupIndices(groups).get(group) ?? [];
    const split = linesOf(cells, (all) => all.filter((_, i) => groups[i] === group));
    const alone = analysed(split);
    expect(alone.every((analysis) => analysis.families.length === 2)).toBe(true);
    expect(analysed(sliceFamilyResults(whole, indices))).toEqual(alone);
  });

  it("a group's slice differs from the whole file's analysis (the comparison can fail)", () => {
    const indices = range(0, examples).filter((i) => groups[i] === "easy");
    expect(analysed(sliceFamilyResults(whole, indices))).not.toEqual(analysed(whole));
  });
});

describe("the indices of a slice", () => {
  it("a file's range: count indices from its start", () => {
    expect(exampleRange(70, 3)).toEqual([70, 71, 72]);
    expect(exampleRange(5, 0)).toEqual([]);
  });

  it("each group's indices in file order, groups in order of first appearance, ungrouped examples in none", () => {
    expect([...groupIndices(["hard", "easy", undefined, "hard", "easy", "hard"])]).toEqual([
      ["hard", [0, 3, 5]],
      ["easy", [1, 4]],
    ]);
  });
});
