import { describe, expect, it } from "vitest";
import { validateSlopeDifference } from "../../src/generated/validators";
import { AnalysisInputError, type ModelInput } from "../../src/analysis/family-input";
import {
  DEFAULT_SLOPE_DIFFERENCE_OPTIONS,
  slopeDifference,
  type SlopeDifferenceInput,
  type SlopeDifferenceOptions,
} from "../../src/analysis/slope-difference";
import { tCritical } from "../../src/analysis/distributions";
import { METRICS } from "../../src/analysis/metrics";
import {
  differenceCells,
  runDifferenceReplicates,
  summariseDifferenceCell,
} from "../../bench/calibrate-slope-difference";
import { defined } from "../defined";
import { seededDraws } from "./helpers";

const LOSS = { name: "loss", direction: "lower_is_better" } as const;
const CONTROL = { role: "control", label: "plain.csv" } as const;
/** Hand-computable cases use 4 examples; the default minimum (30) is checked by the refusals below. */
const SMALL: SlopeDifferenceOptions = { ...DEFAULT_SLOPE_DIFFERENCE_OPTIONS, pairing: "paired", minSharedExamples: 4 };

const model = (id: string, scale: number, values: number[]): ModelInput => ({
  id,
  scale,
  values: Float64Array.from(values),
});

/** Two models a decade apart (log10 9 and 10): the slope per decade is mean(b) − mean(a), per example b − a. */
function twoModels(task: [number[], number[]], control: [number[], number[]]): SlopeDifferenceInput {
  return {
    family: "pair",
    axis: "params",
    metric: LOSS,
    task: [model("a", 1e9, task[0]), model("b", 1e10, task[1])],
    other: { ...CONTROL, models: [model("a", 1e9, control[0]), model("b", 1e10, control[1])] },
  };
}

// Per example, task b − a = 0.5, 0.7, 0.3, 0.5 (slope 0.5); control b − a = 0.1, 0, 0.3, −0.2 (slope 0.05).
const HAND = twoModels(
  [
    [1, 2, 3, 4],
    [1.5, 2.7, 3.3, 4.5],
  ],
  [
    [1, 2, 3, 4],
    [1.1, 2, 3.3, 3.8],
  ],
);

describe("the slope difference on two models, by hand", () => {
  it("paired: the mean and standard error of the per-example differences 0.4, 0.7, 0, 0.7, with n − 1 df", () => {
    const result = slopeDifference(HAND, SMALL);
    expect(result.task.slope).toBeCloseTo(0.5, 12);
    expect(result.otherSlope.slope).toBeCloseTo(0.05, 12);
    expect(result.difference.estimate).toBeCloseTo(0.45, 12);
    // Squared deviations from 0.45 sum to 0.33: variance 0.11, standard error sqrt(0.11 / 4).
    expect(result.difference.standardError).toBeCloseTo(Math.sqrt(0.11 / 4), 12);
    expect(result.difference.degreesOfFreedom).toBe(3);
    const half = tCritical(0.025, 3) * Math.sqrt(0.11 / 4);
    expect(result.difference.test.interval[0]).toBeCloseTo(0.45 - half, 12);
    expect(result.difference.test.interval[1]).toBeCloseTo(0.45 + half, 12);
    expect(result.claim).toBe("includes_zero");
    expect([result.side, result.taskTrend]).toEqual([null, null]);
  });

  it("unpaired: the two slopes' standard errors combined, with Welch's df rounded down", () => {
    const result = slopeDifference(HAND, { ...SMALL, pairing: "unpaired" });
    // Task contrasts' squared deviations sum to 0.08, the control's to 0.13; each SE² is that / 3 / 4.
    const [taskSquared, otherSquared] = [0.08 / 12, 0.13 / 12];
    expect(result.task.standardError).toBeCloseTo(Math.sqrt(taskSquared), 12);
    expect(result.otherSlope.standardError).toBeCloseTo(Math.sqrt(otherSquared), 12);
    expect(result.difference.standardError).toBeCloseTo(Math.sqrt(taskSquared + otherSquared), 12);
    // (0.0175)² / ((0.08 / 12)² / 3 + (0.13 / 12)² / 3) = 5.68.
    expect(result.difference.degreesOfFreedom).toBe(5);
    expect(result.difference.estimate).toBeCloseTo(0.45, 12);
  });

  it("names the models it fitted, the unit, the pairing and what the task is compared with", () => {
    const result = slopeDifference(HAND, SMALL);
    expect(result).toMatchObject({
      models: ["a", "b"],
      axisScale: "log10",
      per: "decade",
      pairing: "paired",
      other: CONTROL,
      task: { examples: 4 },
      otherSlope: { examples: 4 },
    });
  });

  it("is an object the schema accepts", () => {
    expect(validateSlopeDifference(slopeDifference(HAND, SMALL))).toBe(true);
    expect(validateSlopeDifference(slopeDifference(HAND, { ...SMALL, pairing: "unpaired" }))).toBe(true);
  });

  it("takes a metric's whole definition and records only its name, direction and orientation", () => {
    const result = slopeDifference({ ...HAND, metric: METRICS.loss }, SMALL);
    expect(result.metric).toEqual({ name: "loss", direction: "lower_is_better" });
    expect(validateSlopeDifference(result)).toBe(true);
  });

  it("is exactly 0, with a point interval, when the control gives the task's values", () => {
    const same = twoModels(
      [
        [1, 2, 3, 4],
        [1.5, 2.7, 3.3, 4.5],
      ],
      [
        [1, 2, 3, 4],
        [1.5, 2.7, 3.3, 4.5],
      ],
    );
    const { difference, claim } = slopeDifference(same, SMALL);
    expect(difference).toMatchObject({ estimate: 0, standardError: 0, test: { interval: [0, 0] } });
    expect(difference.bootstrap.ci95).toEqual([0, 0]);
    expect(claim).toBe("includes_zero");
  });
});

/**
 * A task and a control of `examples` examples on GPT-3's four sizes, loss in nats. Each example has a difficulty
 * and its own slope shared by all models; paired, the control's example i has the same difficulty and slope as the
 * task's (it is the task's example in a plain format), so they cancel in the per-example difference.
 */
function simulated(examples: number, taskSlope: number, controlSlope: number, seed = 5): SlopeDifferenceInput {
  const { gaussian } = seededDraws(seed);
  const sizes = [
    ["ada", 350e6],
    ["babbage", 1.3e9],
    ["curie", 6.7e9],
    ["davinci", 175e9],
  ] as const;
  const examplesShared = Array.from({ length: examples }, () => ({ difficulty: gaussian(), slope: 0.5 * gaussian() }));
  const slice = (trend: number): ModelInput[] =>
    sizes.map(([id, scale]) => {
      const z = Math.log10(scale) - 9.7;
      return model(
        id,
        scale,
        examplesShared.map(({ difficulty, slope }) => 3 + (trend + slope) * z + difficulty + 0.2 * gaussian()),
      );
    });
  return {
    family: "gpt3",
    axis: "params",
    metric: LOSS,
    task: slice(taskSlope),
    other: { ...CONTROL, models: slice(controlSlope) },
  };
}

const PAIRED: SlopeDifferenceOptions = {
  ...DEFAULT_SLOPE_DIFFERENCE_OPTIONS,
  pairing: "paired",
  bootstrapSamples: 2000,
};
const UNPAIRED: SlopeDifferenceOptions = { ...PAIRED, pairing: "unpaired" };

describe("the slope difference on simulated slices", () => {
  const input = simulated(200, 0.1, -0.1);

  it("paired is narrower than unpaired when the slices' examples are matched", () => {
    const paired = slopeDifference(input, PAIRED);
    const unpaired = slopeDifference(input, UNPAIRED);
    expect(paired.difference.estimate).toBe(unpaired.difference.estimate);
    expect(paired.difference.standardError).toBeLessThan(unpaired.difference.standardError / 2);
    const width = ([low, high]: [number, number]): number => high - low;
    expect(width(paired.difference.bootstrap.ci95)).toBeLessThan(width(unpaired.difference.bootstrap.ci95) / 2);
  });

  it("says the task's trend is worse when its loss rises faster with scale than the control's", () => {
    const result = slopeDifference(input, PAIRED);
    expect([result.claim, result.side, result.taskTrend]).toEqual(["excludes_zero", "above", "worse"]);
    const { estimate, test, bootstrap } = result.difference;
    const [n, low, high, bootLow, bootHigh] = [estimate, ...test.interval, ...bootstrap.ci95].map((v) =>
      v.toPrecision(3),
    );
    expect(result.statement).toBe(
      `The task's trend is worse than the control "plain.csv"'s by ${n} per decade on loss: ` +
        `the task − control slope on loss is ${n} per decade, 95% t interval ${low} to ${high} ` +
        `(paired bootstrap 95% interval ${bootLow} to ${bootHigh}).`,
    );
  });

  it("says the task's trend is worse when its accuracy falls faster (higher is better, difference below 0)", () => {
    const accuracy = { name: "accuracy", direction: "higher_is_better" } as const;
    const falling = { ...simulated(200, -0.1, 0.1), metric: accuracy };
    const result = slopeDifference(falling, PAIRED);
    expect([result.claim, result.side, result.taskTrend]).toEqual(["excludes_zero", "below", "worse"]);
  });

  it("says only which slope is higher for a metric where neither way is better", () => {
    const neither = {
      name: "matching_probability",
      direction: "higher_is_better",
      orientation: "direction_only",
    } as const;
    const result = slopeDifference({ ...input, metric: neither }, PAIRED);
    expect([result.claim, result.side, result.taskTrend]).toEqual(["excludes_zero", "above", null]);
    expect(result.statement).toMatch(/^The task's slope is higher than the control "plain.csv"'s by /);
  });

  it("includes 0 when the task and the control come from the same process", () => {
    const result = slopeDifference(simulated(200, 0.1, 0.1), PAIRED);
    expect(result.claim).toBe("includes_zero");
    expect(result.statement).toMatch(/^No difference shown between the task's trend and the control "plain.csv"'s: /);
  });

  it("draws the same bootstrap bit for bit for the same seed, and another for another seed", () => {
    for (const options of [PAIRED, UNPAIRED]) {
      const first = slopeDifference(input, options).difference.bootstrap;
      const again = slopeDifference(input, options).difference.bootstrap;
      expect(Object.is(first.ci95[0], again.ci95[0]) && Object.is(first.ci95[1], again.ci95[1])).toBe(true);
      expect(slopeDifference(input, { ...options, seed: 7 }).difference.bootstrap.ci95).not.toEqual(first.ci95);
    }
  });

  it("draws fewer resamples for large inputs, within the analysis's budget", () => {
    // 2 × 10⁸ additions over 40,000 examples: 5,000 resamples of the 10,000 asked.
    const large = simulated(40_000, 0.1, 0.1);
    const options = { ...PAIRED, bootstrapSamples: 10_000 };
    expect(slopeDifference(large, options).difference.bootstrap.samples).toBe(5000);
    expect(slopeDifference(input, options).difference.bootstrap.samples).toBe(10_000);
  });
});

describe("flagged examples (NaN)", () => {
  const input = simulated(60, 0.1, 0);
  const flagged = (models: readonly ModelInput[], m: number, at: number[]): ModelInput[] =>
    models.map((one, k) => (k === m ? { ...one, values: one.values.map((v, i) => (at.includes(i) ? NaN : v)) } : one));
  const without = (models: readonly ModelInput[], drop: number[]): ModelInput[] =>
    models.map((one) => ({ ...one, values: one.values.filter((_, i) => !drop.includes(i)) }));

  it("paired: compares the examples both slices share, exactly as if the others were not there", () => {
    const withNaN = {
      ...input,
      task: flagged(input.task, 1, [2, 9]),
      other: { ...input.other, models: flagged(input.other.models, 3, [9, 40]) },
    };
    const removed = {
      ...input,
      task: without(input.task, [2, 9, 40]),
      other: { ...input.other, models: without(input.other.models, [2, 9, 40]) },
    };
    const result = slopeDifference(withNaN, PAIRED);
    expect(result.task.examples).toBe(57);
    expect(result).toEqual(slopeDifference(removed, PAIRED));
  });

  it("unpaired: each slice's slope over its own shared examples", () => {
    const withNaN = { ...input, task: flagged(input.task, 1, [2, 9]) };
    const result = slopeDifference(withNaN, UNPAIRED);
    expect([result.task.examples, result.otherSlope.examples]).toEqual([58, 60]);
    expect(result.warnings).toEqual([
      "the task: ada has 60 examples but only the 58 every model shares are compared",
      "the task: curie has 60 examples but only the 58 every model shares are compared",
      "the task: davinci has 60 examples but only the 58 every model shares are compared",
    ]);
  });
});

describe("models and lines", () => {
  it("fits both slopes to the models in both slices only, and says which were left out", () => {
    const input = simulated(60, 0.1, 0);
    const [ada, babbage, curie] = input.task;
    const result = slopeDifference(
      { ...input, task: input.task.slice(0, 3), other: { ...input.other, models: input.other.models.slice(1) } },
      PAIRED,
    );
    expect(result.models).toEqual([babbage?.id, curie?.id]);
    expect(result.warnings).toEqual([
      `${ada?.id} has results in the task but not in the control "plain.csv": left out of both slopes`,
      `davinci has results in the control "plain.csv" but not in the task: left out of both slopes`,
    ]);
  });

  it("on a grid's line along RLHF steps from 0, gives the slope per 1000 steps", () => {
    // 0 and 2000 steps: positions 0 and 2, so the slope per 1000 steps is half of mean(b) − mean(a).
    const line: SlopeDifferenceInput = {
      family: "grid",
      axis: "rlhf_steps",
      axisScale: "linear",
      fixed: { parameters: 1.3e9 },
      metric: LOSS,
      task: [model("base", 0, [1, 2, 3, 4]), model("tuned", 2000, [2, 3, 3.5, 5])],
      other: { ...CONTROL, models: [model("base", 0, [1, 2, 3, 4]), model("tuned", 2000, [1, 2, 3, 4])] },
    };
    const result = slopeDifference(line, SMALL);
    expect(result).toMatchObject({ axisScale: "linear", per: "1000 RLHF steps", fixed: { parameters: 1.3e9 } });
    expect(result.task.slope).toBeCloseTo(0.4375, 12);
    expect(result.difference.estimate).toBeCloseTo(0.4375, 12);
    expect(result.statement).toContain("per 1000 RLHF steps");
    expect(validateSlopeDifference(result)).toBe(true);
  });

  it("places an RLHF axis from 0 on the linear scale when no axis scale is given", () => {
    const line: SlopeDifferenceInput = {
      family: "rlhf",
      axis: "rlhf_steps",
      metric: LOSS,
      task: [model("base", 0, [1, 2, 3, 4]), model("tuned", 2000, [2, 3, 3.5, 5])],
      other: { ...CONTROL, models: [model("base", 0, [1, 2, 3, 4]), model("tuned", 2000, [1, 2, 3, 4])] },
    };
    expect(slopeDifference(line, SMALL).per).toBe("1000 RLHF steps");
  });
});

describe("refusals (AnalysisInputError, as the analysis refuses)", () => {
  const input = simulated(60, 0.1, 0);
  const refusal = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      if (error instanceof AnalysisInputError) return error.message;
      throw error;
    }
    throw new Error("expected a refusal");
  };

  it("fewer shared examples than the minimum, paired", () => {
    const short = {
      ...input,
      other: {
        ...input.other,
        models: input.other.models.map((one) => ({ ...one, values: one.values.map((v, i) => (i < 35 ? NaN : v)) })),
      },
    };
    expect(refusal(() => slopeDifference(short, PAIRED))).toBe(
      'family gpt3: only 25 examples have a value for every model in both the task and the control "plain.csv"; a paired slope difference needs at least 30',
    );
  });

  it("paired slices of different lengths", () => {
    const longer = {
      ...input,
      other: {
        ...input.other,
        models: input.other.models.map((one) => ({ ...one, values: Float64Array.from([...one.values, 1]) })),
      },
    };
    expect(refusal(() => slopeDifference(longer, PAIRED))).toBe(
      'family gpt3: the task has 60 examples and the control "plain.csv" 61; paired slices must have as many examples, example i of one matching example i of the other',
    );
  });

  it("either slice with too few examples, unpaired", () => {
    const short = { ...input, task: input.task.map((one) => ({ ...one, values: one.values.slice(0, 20) })) };
    expect(refusal(() => slopeDifference(short, UNPAIRED))).toBe(
      "family gpt3: in the task only 20 examples have a value for every compared model; a slope difference needs at least 30",
    );
  });

  it("fewer than two models in both slices", () => {
    const one = { ...input, other: { ...input.other, models: input.other.models.slice(0, 1) } };
    expect(refusal(() => slopeDifference(one, PAIRED))).toBe(
      'family gpt3: 1 model has results in both the task and the control "plain.csv", at 1 scale; a slope difference needs 2 models at different scales in both',
    );
  });

  it("two models in both slices but at one scale, naming the grid line", () => {
    const line: SlopeDifferenceInput = {
      ...twoModels([[1], [2]], [[1], [2]]),
      fixed: { rlhfSteps: 0 },
      task: [model("a", 1e9, [1]), model("b", 1e9, [2])],
      other: { ...CONTROL, models: [model("a", 1e9, [1]), model("b", 1e9, [2])] },
    };
    expect(refusal(() => slopeDifference(line, SMALL))).toMatch(
      /^family pair \(0 RLHF steps\): 2 models have results in both the task and the control "plain.csv", at 1 scale;/,
    );
  });

  it("a model at another scale in the control than in the task", () => {
    const moved = {
      ...input,
      other: { ...input.other, models: input.other.models.map((one, m) => (m === 0 ? { ...one, scale: 1e9 } : one)) },
    };
    expect(refusal(() => slopeDifference(moved, PAIRED))).toBe(
      'family gpt3: model "ada" has scale 350000000 in the task but 1000000000 in the control "plain.csv"',
    );
  });
});

describe("the claim's error rate, by simulation (npm run calibrate runs the full table)", () => {
  const noDifference = differenceCells().filter(
    (cell) => cell.scenario.id === "no-difference" && cell.examples === 300,
  );

  it.each(["paired", "unpaired"])(
    "%s, with no true difference: excludes 0 in at most the 5% the level allows (upper 95% bound under 9%)",
    (pairing) => {
      const cell = defined(
        noDifference.find((one) => one.pairing === pairing),
        `the ${pairing} no-difference cell`,
      );
      const counts = runDifferenceReplicates(cell, 0, 400, { seed: 20221010, bootstrapSamples: 200 });
      const claims = summariseDifferenceCell(cell, counts).claims;
      expect(claims.trials).toBe(400);
      expect(claims.ci95[1]).toBeLessThan(0.09);
      expect(counts.testCovers).toBe(400 - counts.claims);
    },
  );
});
