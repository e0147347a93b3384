import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  it("reads the GPT-3 path's files, whose total_logprob cells are 1-tuples", async () => {
    const result = await isv("analyse", ...GPT3, "--samples", "200");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^gpt3: Log-odds difference \(nats\), lower is better, 48 examples$/m);
    const coverage = await analysed(...GPT3, "--metric", "coverage");
    expect(coverage.metric).toMatchObject({ name: "coverage", label: "Probability on the offered classes" });
    // Both prompts' classes: the pipeline's total can put more than probability 1 on them.
    for (const model of coverage.families[0]!.models) expect(model.mean).toBeGreaterThan(0);
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
    for (const model of analysis.families[0]!.models) expect(model.mean).toBeGreaterThan(0);
    // With --type, any metric the type's columns carry.
    expect(await analysed(...GPT3, "--type", "logodds", "--metric", "absolute_logodds_difference")).toMatchObject({
      taskType: "logodds",
      role: "secondary",
    });
    expect(await analysed(...GPT3, "--type", "absolute_logodds", "--metric", "logodds_difference")).toMatchObject({
      taskType: "absolute_logodds",
      role: "secondary",
    });
    expect(await analysed(...GPT3, "--metric", "accuracy")).toMatchObject({
      taskType: "logodds",
      role: "secondary",
      metric: { name: "accuracy" },
    });
    expect(await analysed(...GPT3)).toMatchObject({
      taskType: "logodds",
      role: "headline",
      metric: { name: "logodds_difference" },
    });
  });

  it("takes the prize's classification_acc and classification_loss, each defaulting to the metric it is judged on", async () => {
    expect(await analysed(...classification, "--type", "classification_acc")).toMatchObject({
      taskType: "classification",
      role: "headline",
      metric: { name: "accuracy" },
    });
    expect(await analysed(...classification, "--type", "classification_loss")).toMatchObject({
      taskType: "classification",
      role: "headline",
      metric: { name: "loss" },
    });
    expect(await analysed(...classification, "--type", "classification_acc", "--metric", "loss")).toMatchObject({
      role: "secondary",
      metric: { name: "loss" },
    });
    expect(await analysed(...classification)).toMatchObject({
      taskType: "classification",
      role: "headline",
      metric: { name: "loss" },
    });
    expect(await analysed(...classification, "--metric", "accuracy")).toMatchObject({
      taskType: "classification",
      role: "headline",
      metric: { name: "accuracy" },
    });
  });

  it("exits 2 on a type or metric it cannot use, naming the ones it can", async () => {
    const numeric = await isv("analyse", ...GPT3, "--type", "numeric");
    expect(numeric.code).toBe(2);
    expect(numeric.stderr).toContain(
      '--type must be one of classification, sequence_prob, logodds, absolute_logodds, classification_loss, classification_acc; got "numeric"',
    );
    const loss = await isv("analyse", ...GPT3, "--metric", "loss");
    expect(loss.code).toBe(2);
    expect(loss.stderr).toContain(
      'metric "loss" does not apply to logodds tasks; use one of accuracy, logodds_difference, absolute_logodds_difference, coverage',
    );
    const unknown = await isv("analyse", ...classification, "--metric", "brier");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('metric "brier" is not a metric; use one of loss, accuracy, coverage');
    const missing = await isv("analyse", GPT3[0]!, join(dir, "no-such-model.csv"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read");
  });
});
