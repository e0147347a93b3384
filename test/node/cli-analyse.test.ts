import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defined } from "../defined";
import { ROOT, isv } from "./helpers";

const MODELS = ["ada", "babbage", "curie", "davinci"];
const filesIn = (folder: string): string[] => MODELS.map((model) => join(folder, `${model}.csv`));
const GPT3 = filesIn(join(ROOT, "fixtures", "results", "pipeline-gpt3-logodds"));
const LEGACY = filesIn(join(ROOT, "fixtures", "results", "pipeline-legacy-logodds"));

interface AnalysisJson {
  taskType: string;
  role: string;
  metric: { name: string; label: string };
  families: { family: string; models: { id: string; mean: number }[] }[];
}

async function analysed(...args: string[]): Promise<AnalysisJson> {
  const result = await isv("analyse", ...args, "--json", "--samples", "200");
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as AnalysisJson;
}

describe("isv analyse on the prize pipeline's own results files", () => {
  it("reads the GPT-3 path's files, whose total_logprob cells are 1-tuples, without a warning", async () => {
    const result = await isv("analyse", ...GPT3, "--samples", "200");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^gpt3: Log-odds difference \(nats\), lower is better, 48 examples$/m);
  });

  it("reads coverage from those 1-tuples", async () => {
    const coverage = await analysed(...GPT3, "--metric", "coverage");
    expect(coverage.metric).toMatchObject({ name: "coverage", label: "Probability on the offered classes" });
    // Both prompts' classes: the pipeline's total can put more than probability 1 on them.
    for (const model of defined(coverage.families[0], "a family's coverage").models)
      expect(model.mean).toBeGreaterThan(0);
  });

  it("analyses the size of older files' per-prompt log-odds, warning on stderr before the analysis", async () => {
    const result = await isv("analyse", ...LEGACY, "--metric", "absolute_logodds_difference", "--samples", "200");
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stderr.trim().split("\n");
    expect(warnings).toHaveLength(4);
    for (const [i, model] of MODELS.entries()) {
      expect(warnings[i]).toMatch(
        new RegExp(`^warning: .*${model}\\.csv: column "logodds": the pipeline's format before April 2022`),
      );
    }
    expect(result.stdout).toMatch(/^gpt3: Absolute log-odds difference \(nats\)/);
  });

  it("keeps warnings out of the JSON", async () => {
    const json = await isv(
      "analyse",
      ...LEGACY,
      "--metric",
      "absolute_logodds_difference",
      "--json",
      "--samples",
      "200",
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      taskType: "absolute_logodds",
      metric: { name: "absolute_logodds_difference" },
    });
    expect(json.stderr).toContain("warning: ");
  });

  it("refuses the signed log-odds difference of older files, which they cannot give", async () => {
    const result = await isv("analyse", ...LEGACY, "--samples", "200");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "per-prompt format, which gives the log-odds difference without its sign; analyse absolute_logodds_difference instead",
    );
  });
});

describe("isv analyse: task type and metric", () => {
  let dir: string;
  let classification: string[];
  beforeAll(() => {
    // A small classification task in the pipeline's format: the predicted class as text, quoted where it holds a comma.
    dir = mkdtempSync(join(tmpdir(), "isv-cli-analyse-"));
    let seed = 11;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    classification = MODELS.map((model, m) => {
      const rows = Array.from({ length: 40 }, (_, index) => {
        const correct = random() < 0.5 + 0.1 * m ? 1 : 0;
        const loss = correct ? random() * 0.7 : 0.7 + random();
        return `${index},${loss},${correct},${correct ? " Yes" : '" No, never"'},${-random()}`;
      });
      const path = join(dir, `${model}.csv`);
      writeFileSync(path, `${["index,loss,correct,predicted,total_logprob", ...rows].join("\r\n")}\r\n`);
      return path;
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("analyses a logodds file on absolute_logodds_difference without --type: the metric picks the type", async () => {
    const analysis = await analysed(...GPT3, "--metric", "absolute_logodds_difference");
    expect(analysis).toMatchObject({
      taskType: "absolute_logodds",
      role: "headline",
      metric: { name: "absolute_logodds_difference" },
    });
    for (const model of defined(analysis.families[0], "a family's analysis").models)
      expect(model.mean).toBeGreaterThan(0);
  });

  // With --type, any metric the type's columns carry; without either, the type the columns say.
  it.each([
    [
      "a logodds file, --type logodds, on absolute_logodds_difference as secondary",
      ["--type", "logodds", "--metric", "absolute_logodds_difference"],
      { taskType: "logodds", role: "secondary" },
    ],
    [
      "a logodds file, --type absolute_logodds, on logodds_difference as secondary",
      ["--type", "absolute_logodds", "--metric", "logodds_difference"],
      { taskType: "absolute_logodds", role: "secondary" },
    ],
    [
      "a logodds file on accuracy as secondary",
      ["--metric", "accuracy"],
      { taskType: "logodds", role: "secondary", metric: { name: "accuracy" } },
    ],
    [
      "a logodds file, with neither, as logodds on its headline logodds_difference",
      [],
      { taskType: "logodds", role: "headline", metric: { name: "logodds_difference" } },
    ],
  ])("analyses %s", async (_, args, expected) => {
    expect(await analysed(...GPT3, ...args)).toMatchObject(expected);
  });

  it.each([
    [
      "classification_acc, judged on accuracy",
      ["--type", "classification_acc"],
      { taskType: "classification", role: "headline", metric: { name: "accuracy" } },
    ],
    [
      "classification_loss, judged on loss",
      ["--type", "classification_loss"],
      { taskType: "classification", role: "headline", metric: { name: "loss" } },
    ],
    [
      "classification_acc on loss, as secondary",
      ["--type", "classification_acc", "--metric", "loss"],
      { role: "secondary", metric: { name: "loss" } },
    ],
    [
      "a classification file without --type, on loss",
      [],
      { taskType: "classification", role: "headline", metric: { name: "loss" } },
    ],
    [
      "a classification file without --type, on accuracy when asked",
      ["--metric", "accuracy"],
      { taskType: "classification", role: "headline", metric: { name: "accuracy" } },
    ],
  ])("takes the prize's %s", async (_, args, expected) => {
    expect(await analysed(...classification, ...args)).toMatchObject(expected);
  });

  it.each([
    [
      "a type it cannot analyse",
      () => [...GPT3, "--type", "numeric"],
      '--type must be one of classification, sequence_prob, logodds, absolute_logodds, behaviour, classification_loss, classification_acc; got "numeric"',
    ],
    [
      "a metric the type's files do not carry",
      () => [...GPT3, "--metric", "loss"],
      'metric "loss" does not apply to logodds tasks; use one of accuracy, logodds_difference, absolute_logodds_difference, coverage',
    ],
    [
      "a name that is not a metric",
      () => [...classification, "--metric", "brier"],
      'metric "brier" is not a metric; use one of loss, accuracy, coverage',
    ],
    [
      "a file it cannot read",
      () => [defined(GPT3[0], "a GPT-3 results file"), join(dir, "no-such-model.csv")],
      "cannot read",
    ],
  ])("exits 2 on %s, saying what it can use", async (_, args, message) => {
    const result = await isv("analyse", ...args());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
