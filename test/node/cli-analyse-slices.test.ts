import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import gpt3 from "../../fixtures/families/gpt3.json";
import { DEFAULT_SLOPE_DIFFERENCE_OPTIONS, slopeDifference } from "../../src/analysis/slope-difference";
import type { SlicesAnalysis } from "../../src/generated/types";
import { validateSlicesAnalysis } from "../../src/generated/validators";
import { defined } from "../defined";
import { isv, seededDraws } from "./helpers";

/**
 * `isv analyse` of a task with parts and a control, from a results directory per file (one RESULT.csv per model):
 * made-up losses on GPT-3's four sizes, rising with size on the task (inverse scaling) and falling on the control.
 */
const MODELS = gpt3.models.map((model) => ({ id: model.id, scale: model.parameters }));
const EXAMPLES = 60;
const SAMPLES = "200";

/** Each model's loss per example: a difficulty shared by all models, a trend of `perStep` per size step, noise. */
function losses(seed: number, perStep: number, count = EXAMPLES): Float64Array[] {
  const { uniform, gaussian } = seededDraws(seed);
  const difficulty = Array.from({ length: count }, () => 0.5 + uniform());
  return MODELS.map((_, step) => Float64Array.from(difficulty, (base) => base + perStep * step + 0.15 * gaussian()));
}

/** A results directory: one classification RESULT.csv per model, in the prize pipeline's format. */
function writeResults(dir: string, values: readonly Float64Array[]): string {
  mkdirSync(dir, { recursive: true });
  for (const [m, model] of MODELS.entries()) {
    const rows = Array.from(defined(values[m], "a model's losses"), (loss, index) => {
      const correct = loss < 0.69 ? 1 : 0;
      return `${index},${loss},${correct},${correct ? " Yes" : " No"},-1`;
    });
    writeFileSync(
      join(dir, `${model.id}.csv`),
      `${["index,loss,correct,predicted,total_logprob", ...rows].join("\n")}\n`,
    );
  }
  return dir;
}

const concat = (first: readonly Float64Array[], second: readonly Float64Array[]): Float64Array[] =>
  first.map((values, m) => Float64Array.from([...values, ...defined(second[m], "the second part's model")]));

async function slicesJson(...args: string[]): Promise<SlicesAnalysis> {
  const result = await isv("analyse", ...args, "--json", "--samples", SAMPLES);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SlicesAnalysis;
}

describe("isv analyse with a control's results directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "isv-analyse-slices-"));
  const task = losses(1, 0.08);
  const control = losses(2, -0.08);
  let taskDir: string;
  let controlDir: string;
  beforeAll(() => {
    taskDir = writeResults(join(dir, "task"), task);
    controlDir = writeResults(join(dir, "facts"), control);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the slope difference the service's code gives for the same values, unpaired", async () => {
    const analysis = await slicesJson("--task", taskDir, "--control", controlDir);
    const expected = slopeDifference(
      {
        family: "gpt3",
        axis: "params",
        metric: { name: "loss", direction: "lower_is_better" },
        task: MODELS.map((model, m) => ({ ...model, values: defined(task[m], "task values") })),
        other: {
          role: "control",
          label: "facts",
          models: MODELS.map((model, m) => ({ ...model, values: defined(control[m], "control values") })),
        },
      },
      { ...DEFAULT_SLOPE_DIFFERENCE_OPTIONS, bootstrapSamples: Number(SAMPLES), pairing: "unpaired" },
    );
    expect(analysis.contrasts).toEqual([expected]);
  });

  it("finds the task worse than the control, and says so", async () => {
    const analysis = await slicesJson("--task", taskDir, "--control", controlDir);
    expect(analysis.contrasts.map((contrast) => [contrast.claim, contrast.taskTrend])).toEqual([
      ["excludes_zero", "worse"],
    ]);
  });

  it("prints each slice's verdict, then the contrast's estimate, interval, unit, claim and statement", async () => {
    const analysis = await slicesJson("--task", taskDir, "--control", controlDir);
    const contrast = defined(analysis.contrasts[0], "the contrast");
    const [low, high] = contrast.difference.test.interval;
    const result = await isv("analyse", "--task", taskDir, "--control", controlDir, "--samples", SAMPLES);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toEqual([
      "slices, on loss (the headline metric):",
      "  the task (60 examples):",
      expect.stringMatching(/^ {4}gpt3: INVERSE \(slope 0\.\d{4} per decade, 95% CI 0\.\d{4} to 0\.\d{4}\)$/),
      "  control facts (60 examples):",
      expect.stringMatching(/^ {4}gpt3: STANDARD \(slope -0\.\d{4} per decade, 95% CI -0\.\d{4} to -0\.\d{4}\)$/),
      "task − control or variant:",
      `  control facts, gpt3: ${contrast.difference.estimate.toFixed(4)} per decade (95% t interval ${low.toFixed(4)} to ${high.toFixed(4)}, unpaired): excludes 0`,
      `    ${contrast.statement}`,
    ]);
  });

  it("pairs the control with the task example by example with --paired", async () => {
    const analysis = await slicesJson("--task", taskDir, "--control", controlDir, "--paired");
    expect(analysis.contrasts.map((contrast) => contrast.pairing)).toEqual(["paired"]);
  });

  it("prints an object in the slices analysis schema with --json", async () => {
    const analysis = await slicesJson("--task", taskDir, "--variant", `few-shot=${controlDir}`);
    expect(validateSlicesAnalysis(analysis), JSON.stringify(validateSlicesAnalysis.errors)).toBe(true);
    expect(analysis.slices.map((slice) => [slice.kind, slice.name, slice.examples])).toEqual([
      ["task", "the task", 60],
      ["variant", "few-shot", 60],
    ]);
  });

  it("takes the task as RESULT.csv files, as isv analyse always has", async () => {
    const files = MODELS.map((model) => join(taskDir, `${model.id}.csv`));
    const fromFiles = await slicesJson(...files, "--control", controlDir);
    const fromDirectory = await slicesJson("--task", taskDir, "--control", controlDir);
    expect(fromFiles).toEqual(fromDirectory);
  });
});

describe("isv analyse with two parts", () => {
  const dir = mkdtempSync(join(tmpdir(), "isv-analyse-parts-"));
  const first = losses(3, 0.08, 40);
  const second = losses(4, 0.08, 50);
  const control = losses(5, -0.08);
  let parts: string[];
  let controlDir: string;
  let wholeDir: string;
  beforeAll(() => {
    parts = [writeResults(join(dir, "part-1"), first), writeResults(join(dir, "part-2"), second)];
    controlDir = writeResults(join(dir, "control"), control);
    wholeDir = writeResults(join(dir, "whole"), concat(concat(first, second), control));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("analyses the task as the parts together: the analysis of their results joined into one file", async () => {
    const slices = await slicesJson("--task", defined(parts[0], "part 1"), "--task", defined(parts[1], "part 2"));
    const joined = join(dir, "joined");
    writeResults(joined, concat(first, second));
    const alone = await isv(
      "analyse",
      ...MODELS.map((model) => join(joined, `${model.id}.csv`)),
      "--json",
      "--samples",
      SAMPLES,
    );
    expect(slices.slices.map((slice) => [slice.kind, slice.name, slice.examples])).toEqual([
      ["task", "the task", 90],
      ["part", "part-1", 40],
      ["part", "part-2", 50],
    ]);
    expect(slices.slices[0]?.analysis).toEqual(JSON.parse(alone.stdout));
  });

  it("gives the same slices from results over the whole submission and its files' ranges (--files)", async () => {
    const described = join(dir, "files.json");
    writeFileSync(
      described,
      JSON.stringify({
        files: [
          { name: "part-1", role: "part", paired: false, firstExample: 0, examples: 40 },
          { name: "part-2", role: "part", paired: false, firstExample: 40, examples: 50 },
          { name: "control", role: "control", paired: false, firstExample: 90, examples: 60 },
        ],
      }),
    );
    const whole = MODELS.map((model) => join(wholeDir, `${model.id}.csv`));
    const fromRanges = await slicesJson("--files", described, ...whole);
    const fromDirectories = await slicesJson(...parts.flatMap((part) => ["--task", part]), "--control", controlDir);
    expect(fromRanges).toEqual(fromDirectories);
  });
});

describe("isv analyse with slices: usage", () => {
  it.each([
    [
      "a variant without its label",
      ["--task", ".", "--variant", "few-shot"],
      '--variant takes LABEL=DIR; got "few-shot"',
    ],
    ["nothing to compare", ["--task", "."], "give a --control or --variant to compare with, or two --task parts"],
    [
      "a directory that is not there",
      ["--task", "/no/such/dir", "--control", "."],
      "cannot read the directory /no/such/dir",
    ],
    [
      "the task twice over",
      ["a.csv", "b.csv", "--task", ".", "--control", "."],
      "give the task as --task DIR or as RESULT.csv files, not both",
    ],
  ])("exits 2 on %s, saying why", async (_, args, message) => {
    const result = await isv("analyse", ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("documents the slices form in isv analyse --help", async () => {
    const result = await isv("analyse", "--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--control DIR          a control: data on which models should scale normally");
    expect(result.stdout).toContain("--files FILES.json");
  });
});
