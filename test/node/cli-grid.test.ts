import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeResultsCsv } from "../../src/analysis/results-csv";
import { analyseCommand } from "../../src/cli/analyse-command";
import { UsageError } from "../../src/cli/args";
import { ROOT } from "./helpers";

/**
 * `isv analyse` on the built-in grid family isv-reference-rlhf (three sizes, each at 0, 250, 500 and 1000 RLHF
 * steps), from behaviour results files: the matching answer's probability on example i is a fixed function of the
 * model's size and steps, rising with steps for every size, so each line along RLHF steps has a known direction.
 */
const family = JSON.parse(readFileSync(join(ROOT, "fixtures/families/reference-rlhf.json"), "utf8")) as {
  models: { id: string; parameters: number; rlhfSteps: number }[];
};
let folder = "";
let files: string[] = [];

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "isv-grid-"));
  const sizes = [...new Set(family.models.map((model) => model.parameters))];
  files = family.models.map((model) => {
    const size = sizes.indexOf(model.parameters);
    const rows = Array.from({ length: 200 }, (_, index) => {
      // Every example moves with steps; examples differ, so the slope has a standard error.
      const p = 0.2 + 0.1 * size + (0.3 * model.rlhfSteps) / 1000 + 0.05 * Math.sin(index);
      return { index, metrics: { logprob_matching: Math.log(p), logprob_not_matching: Math.log(1 - p) } };
    });
    const path = join(folder, `${model.id}.csv`);
    writeFileSync(path, writeResultsCsv("behaviour", rows));
    return path;
  });
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Lines {
  families: { family: string; axis: string; axisScale?: string; fixed?: object; verdict: string; slope: object }[];
}

function analyse(...args: string[]): { out: string; err: string } {
  let out = "";
  let err = "";
  const code = analyseCommand(
    [...files, "--family", "isv-reference-rlhf", "--samples", "200", "--matching", "desired", ...args],
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

describe("isv analyse on a family of sizes x RLHF steps", () => {
  it("analyses along RLHF steps by default: one line per size, on a linear axis", () => {
    const analysis = JSON.parse(analyse("--json").out) as Lines;
    expect(
      analysis.families.map(({ axis, axisScale, fixed, verdict }) => ({ axis, axisScale, fixed, verdict })),
    ).toEqual(
      [572, 8634, 43841].map((parameters) => ({
        axis: "rlhf_steps",
        axisScale: "linear",
        fixed: { parameters },
        verdict: "standard",
      })),
    );
    expect(analysis.families.every((line) => "per1000Steps" in line.slope)).toBe(true);
  });

  it("analyses along size with --axis params: one line per step count, per decade", () => {
    const analysis = JSON.parse(analyse("--json", "--axis", "params").out) as Lines;
    expect(analysis.families.map(({ axis, fixed }) => ({ axis, fixed }))).toEqual(
      [0, 250, 500, 1000].map((rlhfSteps) => ({ axis: "params", fixed: { rlhfSteps } })),
    );
    expect(analysis.families.every((line) => "perDecade" in line.slope)).toBe(true);
  });

  it("names each line by what it holds fixed, with the slope's unit", () => {
    const { out } = analyse();
    expect(out).toContain("isv-reference-rlhf, 43.8K params: Mean probability of the matching answer");
    expect(out).toContain("slope per 1000 RLHF steps");
  });

  it("refuses an axis the family does not have", () => {
    expect(() => analyse("--axis", "flops")).toThrow(
      new UsageError('--axis must be one of rlhf_steps, params for isv-reference-rlhf; got "flops"', {
        prefix: "isv analyse",
        usage: 'Run "isv analyse --help" for usage.',
      }),
    );
  });
});
