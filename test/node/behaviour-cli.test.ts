import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeResultsCsv } from "../../src/analysis/results-csv";
import { analyseCommand } from "../../src/cli/analyse-command";
import { defined } from "../defined";

/**
 * Four models' behaviour results files over 400 examples: fewer examples favour the matching answer (320, 240,
 * 160, 80) while the winners grow surer (0.51 to 0.999) and the losers less sure (0.01 to 0.49), so the mean
 * matching probability rises (0.41 to 0.59) and the win rate falls (80% to 20%).
 */
const WINNERS = [320, 240, 160, 80];
const SCALES = ["--scale", "m0=100M", "--scale", "m1=1B", "--scale", "m2=10B", "--scale", "m3=100B"];
let folder = "";
let files: string[] = [];

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "isv-behaviour-"));
  files = WINNERS.map((winners, k) => {
    const winning = 0.51 + 0.163 * k;
    const losing = 0.01 + 0.16 * k;
    const rows = Array.from({ length: 400 }, (_, index) => {
      const p = index < winners ? winning : losing;
      return { index, metrics: { logprob_matching: Math.log(p), logprob_not_matching: Math.log(1 - p) } };
    });
    const path = join(folder, `m${k}.csv`);
    writeFileSync(path, writeResultsCsv("behaviour", rows));
    return path;
  });
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Run {
  out: string;
  err: string;
}

function run(...args: string[]): Run {
  let out = "";
  let err = "";
  const code = analyseCommand(
    [...files, ...SCALES, "--samples", "200", ...args],
    (text) => {
      out += text;
    },
    (text) => {
      err += text;
    },
  );
  expect(code).toBe(0);
  return { out, err };
}

interface AnalysisJson {
  taskType: string;
  metric: { name: string; direction: string; label: string; orientation?: string };
  families: { verdict: string; models: { mean: number }[] }[];
  summary: { text: string };
  disagreements?: { text: string }[];
}

const json = (...args: string[]): AnalysisJson => JSON.parse(run(...args, "--json").out) as AnalysisJson;
const means = (analysis: AnalysisJson): number[] =>
  defined(analysis.families[0], "a family").models.map((model) => model.mean);

describe("isv analyse on behaviour results files", () => {
  it("knows them by their columns and analyses the mean matching probability by default, lower being better", () => {
    const { out, err } = run();
    expect(err).toBe("");
    expect(out).toMatch(/^custom: Mean probability of the matching answer, lower is better, 400 examples$/m);
    expect(out).toMatch(/^ {2}verdict: INVERSE\. Performance falls with scale/m);
  });

  it("--metric matching_probability: the hand-computed means, 0.8 x 0.51 + 0.2 x 0.01 = 0.41 first", () => {
    const analysis = json("--metric", "matching_probability");
    expect(analysis).toMatchObject({ taskType: "behaviour", metric: { name: "matching_probability" } });
    const expected = WINNERS.map(
      (winners, k) => (winners * (0.51 + 0.163 * k) + (400 - winners) * (0.01 + 0.16 * k)) / 400,
    );
    for (const [k, mean] of means(analysis).entries()) expect(mean).toBeCloseTo(defined(expected[k], "a mean"), 12);
  });

  it("--metric matching_win_rate: the share of winners, 80% down to 20%, standard scaling", () => {
    const analysis = json("--metric", "matching_win_rate");
    expect(analysis.metric).toMatchObject({
      label: "Share of examples where the matching answer is more probable",
      direction: "lower_is_better",
    });
    expect(means(analysis)).toEqual([0.8, 0.6, 0.4, 0.2]);
    expect(analysis.families.map((family) => family.verdict)).toEqual(["standard"]);
  });

  it("--metric loss: the loss toward the desired side, here -log(1 - p) with matching undesired", () => {
    const analysis = json("--metric", "loss");
    expect(analysis.metric).toMatchObject({ name: "loss", direction: "lower_is_better" });
    expect(means(analysis)[0]).toBeCloseTo(0.8 * -Math.log(0.49) + 0.2 * -Math.log(0.99), 12);
  });

  it("says, beside the metric asked for, where the other matching metric's verdict points a different way", () => {
    const sentence =
      "On custom the two matching metrics point different ways: the mean probability of the matching answer shows " +
      "inverse scaling, while the share of examples where the matching answer is more probable shows standard scaling.";
    expect(run().out).toContain(`summary: inverse in 1 of 1 family. ${sentence} (false-claim rate`);
    expect(json("--metric", "matching_win_rate").disagreements?.map((d) => d.text)).toEqual([sentence]);
    expect(json("--metric", "loss").disagreements).toBeUndefined();
  });

  it("--matching desired turns the verdicts around", () => {
    expect(json("--matching", "desired").families.map((family) => family.verdict)).toEqual(["standard"]);
    const winRate = json("--matching", "desired", "--metric", "matching_win_rate");
    expect([winRate.metric.direction, winRate.families.map((family) => family.verdict)]).toEqual([
      "higher_is_better",
      ["inverse"],
    ]);
  });

  it("--matching neither reports the direction only, in the table as in the JSON", () => {
    const { out } = run("--matching", "neither");
    expect(out).toMatch(/^custom: Mean probability of the matching answer, direction only \(neither way is better\)/m);
    expect(out).toMatch(/^ {2}trend: rises with scale\. The mean probability of the matching answer rises with scale/m);
    expect(out).toMatch(/^ {2}Kendall's tau \(scale vs value, descriptive\)/m);
    expect(out.replace("(neither way is better)", "")).not.toMatch(
      /verdict|inverse|standard|better|worse|performance/i,
    );
    expect(json("--matching", "neither", "--metric", "matching_win_rate").metric.orientation).toBe("direction_only");
  });

  it("refuses the loss under neither, --matching on other results, and an unknown matching behaviour", () => {
    expect(() => run("--matching", "neither", "--metric", "loss")).toThrow(
      /metric "loss" is toward the desired answers, and with matching behaviour "neither" no side is desired/,
    );
    expect(() => run("--matching", "sometimes")).toThrow(
      '--matching must be one of undesired, desired, neither; got "sometimes"',
    );
    expect(() => run("--type", "classification", "--matching", "desired")).toThrow(
      "--matching applies to behaviour results only",
    );
  });
});
