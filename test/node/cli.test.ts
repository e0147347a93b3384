import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { defined } from "../defined";
import { REAL_TASKS, ROOT, isv } from "./helpers";

describe("isv validate (the built CLI, as npx runs it)", () => {
  it("exits 0 on a valid file and prints a summary line", async () => {
    const result = await isv("validate", join(REAL_TASKS, "lambada-1k.csv"));
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n").at(-1)).toMatch(
      /lambada-1k\.csv: valid: sequence_prob \(inferred\), 1000 examples, 0 errors, 0 warnings$/,
    );
  });

  it("exits 1 on an invalid file, grouping issues by code with their lines", async () => {
    const result = await isv(
      "validate",
      join(ROOT, "fixtures/tasks/invalid/answer_index_invalid.csv"),
      "--min-examples",
      "0",
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("error answer_index_invalid (2)");
    expect(result.stdout).toMatch(/answer_index_invalid\.csv:3 {2}line 3, column answer_index: answer_index "x"/);
    expect(result.stdout).toMatch(/INVALID: classification \(inferred\), 1 examples, 2 errors, 0 warnings/);
  });

  it("prints only the report object with --json, honouring --type", async () => {
    const result = await isv("validate", join(REAL_TASKS, "QA_bias-v2.csv"), "--type", "logodds", "--json");
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ valid: false, taskType: "logodds", counts: { too_few_examples: 1 } });
  });

  it.each([
    ["no command", []],
    ["validate without a file", ["validate"]],
    ["an option value that is not a number", ["validate", "a.csv", "--min-examples", "many"]],
  ])("exits 2 on a usage error: %s", async (_, args) => {
    expect((await isv(...args)).code).toBe(2);
  });

  it("exits 2 on a file it cannot read, saying so", async () => {
    const missing = await isv("validate", join(ROOT, "no-such-file.csv"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read");
  });
});

describe("isv analyse", () => {
  const RESULTS = join(ROOT, "..", "shared", "samples", "real", "results", "lambada-1k_gpt3");
  const resultsFile = (model: string): string => join(RESULTS, `${model}.csv`);
  const files = ["ada", "babbage", "curie", "davinci"].map(resultsFile);

  it("finds the GPT-3 family from the file names and prints the table and verdict", async () => {
    const result = await isv("analyse", ...files, "--samples", "1000");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^gpt3: Loss \(nats\), lower is better, 1000 examples$/m);
    expect(result.stdout).toMatch(/^ {2}davinci +175B +2\.7257 /m);
    expect(result.stdout).toContain("verdict: STANDARD.");
  });

  describe("with --json", () => {
    const plot = join(tmpdir(), `isv-plot-${process.pid}.svg`);
    let first: Awaited<ReturnType<typeof isv>>;
    let second: Awaited<ReturnType<typeof isv>>;

    beforeAll(async () => {
      first = await isv("analyse", ...files, "--json", "--seed", "5", "--samples", "500", "--plot", plot);
      second = await isv("analyse", ...files, "--json", "--seed", "5", "--samples", "500");
    });

    it("prints an analysis in its schema", async () => {
      const { validateAnalysis } = await import("../../src/generated/validators");
      expect(first.code).toBe(0);
      const analysis = JSON.parse(first.stdout);
      expect(validateAnalysis(analysis), JSON.stringify(validateAnalysis.errors)).toBe(true);
      expect(analysis).toMatchObject({
        seed: 5,
        bootstrapSamples: 500,
        families: [{ family: "gpt3", verdict: "standard" }],
      });
    });

    it("prints the same analysis for the same seed", () => {
      expect(first.stdout).toBe(second.stdout);
    });

    it("writes the plot with --plot", () => {
      expect(readFileSync(plot, "utf8")).toMatch(/^<svg [^>]*role="img"/);
    });
  });

  it("takes scales from --scale and a family file", async () => {
    const scaled = await isv(
      "analyse",
      resultsFile("ada"),
      resultsFile("davinci"),
      "--scale",
      "ada=350M",
      "--scale",
      "davinci=175B",
      "--family",
      join(ROOT, "fixtures/families/opt.json"),
      "--samples",
      "200",
    );
    expect(scaled.code).toBe(0);
    expect(scaled.stdout).toContain("opt: Loss");
  });

  it("exits 2 naming a model it has no scale for", async () => {
    const noScale = await isv("analyse", resultsFile("ada"), resultsFile("babbage"), "--family", "opt");
    expect(noScale.code).toBe(2);
    expect(noScale.stderr).toContain('no scale for model "ada"');
  });

  it("exits 2 on a metric the task type does not have", async () => {
    const wrongMetric = await isv("analyse", ...files, "--metric", "accuracy");
    expect(wrongMetric.code).toBe(2);
    expect(wrongMetric.stderr).toContain('metric "accuracy" does not apply to sequence_prob tasks');
  });

  it("exits 2 on a single results file: it needs one per model, at least two", async () => {
    expect((await isv("analyse", resultsFile("ada"))).code).toBe(2);
  });
});

describe("isv token create's wrangler calls", () => {
  it("are stopped with everything they started when they hang, so a stuck local wrangler cannot hang the CLI", async () => {
    const { runBounded } = await import("../../src/cli/token-command");
    // A parent that starts a child (as wrangler starts workerd), prints the child's pid, and never ends.
    const script =
      "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000);";
    const started = Date.now();
    const result = await runBounded(process.execPath, ["-e", script], process.env, 1_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBeNull();
    expect(result.output).toContain("(no answer after 1 s: stopped)");
    const grandchild = Number.parseInt(result.output, 10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Gone, or a zombie waiting for init to reap it (its parent was killed too): either way, not running.
    const state = existsSync(`/proc/${grandchild}/stat`)
      ? defined(readFileSync(`/proc/${grandchild}/stat`, "utf8").split(") ")[1], "the fields after the command name")[0]
      : "gone";
    expect(["gone", "Z", "X"]).toContain(state);
  });

  it("report a finished command's status and output", async () => {
    const { runBounded } = await import("../../src/cli/token-command");
    expect(
      await runBounded(process.execPath, ["-e", "console.log('done'); process.exit(3)"], process.env, 10_000),
    ).toEqual({ status: 3, output: "done\n", stdout: "done\n" });
  });
});
