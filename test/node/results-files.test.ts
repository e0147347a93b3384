import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { METRICS, chooseMetric } from "../../src/analysis/metrics";
import {
  RESULT_COLUMNS,
  RESULT_FILE_COLUMNS,
  type AnalysedType,
  type ReadColumn,
} from "../../src/analysis/results-columns";
import {
  MAX_RESULT_EXAMPLES,
  parseResultsCsv,
  writeResultsCsv,
  type ResultsParse,
  type ResultsRow,
} from "../../src/analysis/results-csv";
import { defined } from "../defined";
import { ROOT } from "./helpers";

const RESULTS = join(ROOT, "fixtures", "results");
const MODELS = ["ada", "babbage", "curie", "davinci"];

const values = (parsed: ResultsParse, column: ReadColumn): number[] => {
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  return Array.from(parsed.results.columns[column] ?? []);
};
const problems = (parsed: ResultsParse): string[] => (parsed.ok ? [] : parsed.problems);

describe("results files in the pipeline's formats", () => {
  it("reads the GPT-3 path's 1-tuple cells, quoted as csv writes them, as the number inside", () => {
    const text =
      'index,logodds_difference,correct,total_logprob\r\n0,-0.05,1,"(-0.8235153257846832,)"\r\n1,0.42,0,"(0.125,)"\r\n';
    const parsed = parseResultsCsv(text, "logodds", 2);
    expect(values(parsed, "total_logprob")).toEqual([-0.8235153257846832, 0.125]);
    expect(parsed.ok && parsed.warnings).toEqual([]);
    // Any numeric column, with or without spaces inside.
    expect(values(parseResultsCsv('index,loss,correct\n0,"( 1.5 ,)","(1,)"\n', "classification", 1), "loss")).toEqual([
      1.5,
    ]);
    expect(
      values(parseResultsCsv('index,loss,correct\n0,"( 1.5 ,)","(1,)"\n', "classification", 1), "correct"),
    ).toEqual([1]);
  });

  it.each([
    ['"(1, 2)"', '"(1, 2)"'],
    ['"(1,2,)"', '"(1,2,)"'],
    ['"(,)"', '"(,)"'],
    ['"( ,)"', '"( ,)"'],
    ['"()"', '"()"'],
    ['"(1)"', '"(1)"'],
    ['"(inf,)"', '"(inf,)"'],
    ['"(Infinity,)"', '"(Infinity,)"'],
    ['"((1,),)"', '"((1,),)"'],
    // Unquoted, the tuple's comma splits the cell: the value is "(1.5" and the row has a cell too many.
    ["(1.5,)", '"(1.5"'],
  ])("refuses any other tuple-like cell: %s", (cell, shown) => {
    const found = problems(
      parseResultsCsv(`index,logodds_difference,correct,total_logprob\n0,0.5,1,${cell}\n`, "logodds", 1),
    );
    expect(found).toEqual([`line 2: total_logprob ${shown} is not a finite number`]);
  });

  it("refuses a 1-tuple in correct that is not 0 or 1", () => {
    const correct = problems(parseResultsCsv('index,loss,correct\n0,1,"(2,)"\n', "classification", 1));
    expect(correct).toEqual(['line 2: correct "(2,)" is not a finite number']);
  });

  describe("the older per-prompt logodds format", () => {
    const parsed = parseResultsCsv(
      "index,logodds,correct,total_logprob\r\n0,1.25,1,-0.5\r\n1,-0.75,0,-0.9\r\n",
      "logodds",
    );

    it("is paired into examples: the difference of the pair's log-odds, the second row's correct, their total", () => {
      expect(values(parsed, "logodds_difference")).toEqual([2]);
      expect(values(parsed, "correct")).toEqual([0]);
      expect(values(parsed, "total_logprob")[0]).toBeCloseTo(Math.log(Math.exp(-0.5) + Math.exp(-0.9)), 15);
    });

    it("is marked as giving unsigned log-odds", () => {
      expect(parsed.ok && parsed.results.unsignedLogodds).toBe(true);
    });

    it("is read with a warning that says how", () => {
      expect(parsed.ok && parsed.warnings[0]).toMatch(
        /^column "logodds": the pipeline's format before April 2022, one row per prompt/,
      );
    });
  });

  it("refuses an older per-prompt file with an odd number of rows", () => {
    expect(problems(parseResultsCsv("index,logodds,correct\n0,2,1\n", "absolute_logodds"))).toEqual([
      'a per-prompt "logodds" file needs an even number of rows (a prompt and its other prompt); it has 1',
    ]);
  });

  it("refuses the older per-prompt format where the task's examples are known (an upload), saying how to convert", () => {
    expect(problems(parseResultsCsv("index,logodds,correct\n0,2,1\n1,1,0\n", "logodds", 1))[0]).toMatch(
      /^column "logodds" is the pipeline's format before April 2022/,
    );
  });

  it("reads the current column when a file has both names, silently", () => {
    const both = parseResultsCsv("index,logodds,logodds_difference,correct\n0,9,0.5,1\n", "logodds");
    expect(values(both, "logodds_difference")).toEqual([0.5]);
    expect(both.ok && both.warnings).toEqual([]);
  });

  it("does not read the predicted column, whether it holds the class text (the pipeline) or an index (isv's export)", () => {
    // csv.DictWriter quotes a class holding a comma, a quote or a newline.
    const pipeline =
      'index,loss,correct,predicted,total_logprob\r\n0,0.5,1, Yes,-0.1\r\n1,0.7,0," No, never",-0.2\r\n2,0.9,1," ""Maybe""",-0.3\r\n3,1.1,0," two\r\nlines",-0.4\r\n4,1.3,1,,-0.5\r\n';
    const parsed = parseResultsCsv(pipeline, "classification", 5);
    expect(values(parsed, "loss")).toEqual([0.5, 0.7, 0.9, 1.1, 1.3]);
    expect(values(parsed, "total_logprob")).toEqual([-0.1, -0.2, -0.3, -0.4, -0.5]);
    const isv = "index,loss,correct,predicted,total_logprob\n0,0.5,1,0,-0.1\n1,0.7,0,1,-0.2\n";
    expect(values(parseResultsCsv(isv, "classification", 2), "correct")).toEqual([1, 0]);
    // A quoted newline counts for the line numbers after it.
    const after = parseResultsCsv(pipeline.replace("4,1.3,1", "4,x,1"), "classification", 5);
    expect(problems(after)).toEqual(['line 7: loss "x" is not a finite number']);
  });

  it("has a file per model in fixtures/results/pipeline-gpt3-logodds", () => {
    expect(
      readdirSync(join(RESULTS, "pipeline-gpt3-logodds"))
        .filter((name) => name.endsWith(".csv"))
        .sort(),
    ).toEqual(MODELS.map((model) => `${model}.csv`));
  });

  it.each(MODELS)(
    "parses %s.csv in fixtures/results/pipeline-gpt3-logodds: 48 examples, finite, no warning",
    (model) => {
      const text = readFileSync(join(RESULTS, "pipeline-gpt3-logodds", `${model}.csv`), "utf8");
      expect(text.split("\r\n").length - 2, "CRLF rows, as csv.DictWriter writes them").toBe(48);
      const parsed = parseResultsCsv(text, "logodds", 48);
      expect(parsed.ok, problems(parsed).join("; ")).toBe(true);
      for (const column of ["logodds_difference", "correct", "total_logprob"] as const)
        expect(values(parsed, column).every(Number.isFinite)).toBe(true);
      expect(parsed.ok && parsed.warnings).toEqual([]);
    },
  );

  it("pairs every model's file in fixtures/results/pipeline-legacy-logodds into 48 examples", () => {
    for (const model of MODELS) {
      const parsed = parseResultsCsv(
        readFileSync(join(RESULTS, "pipeline-legacy-logodds", `${model}.csv`), "utf8"),
        "logodds",
      );
      expect(parsed.ok, problems(parsed).join("; ")).toBe(true);
      for (const column of ["logodds_difference", "correct", "total_logprob"] as const)
        expect(values(parsed, column)).toHaveLength(48);
    }
  });
});

describe("results files: the checks", () => {
  it.each([
    ["an empty file", "", "sequence_prob", undefined, ["the file is empty"]],
    ["a file of blank rows", "\n \n,,\n", "sequence_prob", undefined, ["the file is empty"]],
    [
      "a first column that is not the index",
      "row,loss\n0,1\n",
      "sequence_prob",
      undefined,
      ['no row index: the first column must be "index" (or unnamed, as pandas writes it)'],
    ],
    [
      "a classification file without correct",
      "index,loss\n0,1\n",
      "classification",
      undefined,
      ['missing column "correct" (a classification results file has loss, correct)'],
    ],
    [
      "a logodds file without logodds_difference",
      "index,correct\n0,1\n",
      "logodds",
      undefined,
      ['missing column "logodds_difference" (a logodds results file has logodds_difference, correct)'],
    ],
    [
      "a numeric task's file",
      "index,loss\n0,1\n",
      "numeric",
      undefined,
      ["numeric tasks are out of scope for analysis"],
    ],
    [
      "indices that are not whole, repeated or past the task, and cells that are not numbers",
      [
        "index,loss,correct",
        "0,1,1",
        "1.0,1,1",
        "-1,1,1",
        ",1,1",
        "0,2,1",
        "5,1,1",
        "2,x,1",
        "3,Infinity,1",
        "4,1,2",
        "6, ,1",
        "7,1,maybe",
      ].join("\n"),
      "classification",
      8,
      [
        'line 3: index "1.0" is not a whole number',
        'line 4: index "-1" is not a whole number',
        'line 5: index "" is not a whole number',
        "line 6: index 0 appears twice",
        'line 8: loss "x" is not a finite number',
        'line 9: loss "Infinity" is not a finite number',
        'line 10: correct "2" is not a finite number',
        'line 11: loss " " is not a finite number',
        'line 12: correct "maybe" is not a finite number',
        "1 example has no row (indices 1)",
      ],
    ],
    [
      "an index past the task's examples",
      "index,loss\n0,1\n5,1\n",
      "sequence_prob",
      3,
      ["line 3: index 5 is past the task's 3 examples", "2 examples have no row (indices 1, 2)"],
    ],
    [
      "many examples without a row (the first ten are listed)",
      "index,loss\n0,1\n",
      "sequence_prob",
      13,
      ["12 examples have no row (indices 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...)"],
    ],
  ] as const)("refuses %s, with its message", (_, text, taskType, examples, expected) => {
    expect(problems(parseResultsCsv(text, taskType, examples))).toEqual(expected);
  });

  it("reads True/False and 0/1 (also as 1.0) in correct, pads quoted and spaced cells, and skips blank rows", () => {
    const text = '\ufeff\n index , loss ,correct\r\n0, 1.5 ,True\r\n\r\n,,\n1,"2.5",false\r2,3.5,1.0\n"3",-0,"0"\n';
    const parsed = parseResultsCsv(text, "classification", 4);
    expect(values(parsed, "loss")).toEqual([1.5, 2.5, 3.5, -0]);
    expect(values(parsed, "correct")).toEqual([1, 0, 1, 0]);
    expect(parsed.ok && parsed.results.rows).toBe(4);
    // Line numbers count the blank lines too.
    expect(problems(parseResultsCsv("index,loss\n\n0,1\n\n1,x\n", "sequence_prob"))).toEqual([
      'line 5: loss "x" is not a finite number',
    ]);
  });

  describe("without the task's count", () => {
    it("covers indices up to the largest seen, NaN where a row is absent", () => {
      expect(values(parseResultsCsv("index,loss\n3,1.5\n0,0.5\n", "sequence_prob"), "loss")).toEqual([
        0.5,
        NaN,
        NaN,
        1.5,
      ]);
    });

    // Far past the line count, the arrays grow; a lone CR ends rows, so there is no line feed to count at all.
    it("grows the arrays for an index far past the line count", () => {
      const grown = parseResultsCsv("index,loss\r0,1\r40000,2\r", "sequence_prob");
      expect(grown.ok && grown.results.columns.loss?.length).toBe(40001);
      expect(values(grown, "loss")[40000]).toBe(2);
    });

    it("refuses an index past the most a results file may cover", () => {
      expect(problems(parseResultsCsv(`index,loss\n${MAX_RESULT_EXAMPLES},1\n`, "sequence_prob"))).toEqual([
        `line 2: index ${MAX_RESULT_EXAMPLES} is past the ${MAX_RESULT_EXAMPLES} examples a results file may cover`,
      ]);
    });

    it("reads a file with a header only as no rows", () => {
      expect(parseResultsCsv("index,loss\n", "sequence_prob")).toEqual({
        ok: true,
        results: { columns: { loss: new Float64Array(0) }, rows: 0 },
        warnings: [],
      });
    });
  });

  it("stops at 20 problems", () => {
    const text = ["index,loss", ...Array.from({ length: 100 }, (_, i) => `${i},x`)].join("\n");
    const found = problems(parseResultsCsv(text, "sequence_prob", 100));
    expect(found).toHaveLength(20);
    expect(found.at(-1)).toBe('line 21: loss "x" is not a finite number');
  });

  it("says where a quoted cell is broken", () => {
    expect(problems(parseResultsCsv('index,loss\n0,1\n1,"2\n2,3\n', "sequence_prob"))).toEqual([
      "line 3: a quoted cell is never closed",
    ]);
    expect(problems(parseResultsCsv('index,loss\n0,"1"x\n', "sequence_prob"))).toEqual([
      "line 2: text after a quoted cell's closing quote",
    ]);
    expect(problems(parseResultsCsv('"index,loss\n0,1\n', "sequence_prob"))).toEqual([
      "line 1: a quoted cell is never closed",
    ]);
    // Spaces after a closing quote are fine, as papaparse had them.
    expect(values(parseResultsCsv('index,loss\n0,"1"  \n1,"2" ,\n', "sequence_prob", 2), "loss")).toEqual([1, 2]);
  });

  it("reads the same numbers papaparse does from well-formed files, whatever the quoting and line endings", () => {
    let seed = 5;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + Math.floor(random() * 30);
      const pick = (options: string[]): string =>
        defined(options[Math.floor(random() * options.length)], "a random choice");
      const ending = (): string => pick(["\n", "\r\n", "\r"]);
      const quote = (cell: string): string => (random() < 0.3 ? `"${cell.replaceAll('"', '""')}"` : cell);
      const predicted = (): string => `"${pick([" Yes", ' a "b", c', " x\ny", ""]).replaceAll('"', '""')}"`;
      const lines = [",loss,correct,predicted,total_logprob"];
      const order = Array.from({ length: rows }, (_, i) => i).sort(() => random() - 0.5);
      for (const index of order) {
        const loss = (random() * 10).toString();
        const total = random() < 0.5 ? `"(${-random() * 5},)"` : quote((-random() * 5).toExponential());
        lines.push(
          [quote(String(index)), quote(loss), quote(random() < 0.5 ? "1" : "False"), predicted(), total].join(","),
        );
      }
      const text = lines.map((line) => line + ending()).join("");
      const parsed = parseResultsCsv(text, "classification", rows);
      const reference = Papa.parse<string[]>(text.replace(/\r\n?/g, "\n"), { skipEmptyLines: true }).data.slice(1);
      const expected = {
        loss: new Array<number>(rows),
        correct: new Array<number>(rows),
        total_logprob: new Array<number>(rows),
      };
      for (const row of reference) {
        const index = Number(row[0]);
        expected.loss[index] = Number(row[1]);
        expected.correct[index] = row[2] === "False" ? 0 : Number(row[2]);
        expected.total_logprob[index] = Number(
          defined(row[4], `row ${index}'s total_logprob`).replace(/^\((.*),\)$/, "$1"),
        );
      }
      expect(values(parsed, "loss")).toEqual(expected.loss);
      expect(values(parsed, "correct")).toEqual(expected.correct);
      expect(values(parsed, "total_logprob")).toEqual(expected.total_logprob);
    }
  });
});

describe("results files: the writer", () => {
  /** Numbers that a careless writer would round or mangle, with metrics the file does not carry. */
  const rowsFor = (taskType: AnalysedType): ResultsRow[] =>
    [-0.8235153257846832, 1e-20, 0.1 + 0.2, 5e-324, 12345.678901234567].map((value, index) => {
      const metrics: Partial<Record<string, number>> = {
        correct: index % 2,
        predicted: index % 3,
        total_logprob: -Math.abs(value) - 0.5,
        correct_probability: 0.25,
      };
      for (const column of RESULT_FILE_COLUMNS[taskType]) if (!(column in metrics)) metrics[column] = value;
      return { index, metrics };
    });

  it("writes a file that parseResultsCsv reads back to the same numbers, for every task type", () => {
    for (const taskType of Object.keys(RESULT_FILE_COLUMNS) as AnalysedType[]) {
      const rows = rowsFor(taskType);
      const parsed = parseResultsCsv(writeResultsCsv(taskType, rows), taskType, rows.length);
      expect(parsed.ok, problems(parsed).join("; ")).toBe(true);
      for (const column of RESULT_COLUMNS[taskType]) {
        expect(values(parsed, column), `${taskType} ${column}`).toEqual(
          rows.map(({ metrics }) => metrics[column] ?? NaN),
        );
      }
    }
  });

  it("writes the header from the one column table, a row per example in the order given, LF line ends", () => {
    const rows = rowsFor("classification").slice(2, 4).reverse();
    expect(writeResultsCsv("classification", rows)).toBe(
      "index,loss,correct,predicted,total_logprob\n3,5e-324,1,0,-0.5\n2,0.30000000000000004,0,2,-0.8\n",
    );
    expect(writeResultsCsv("sequence_prob", [])).toBe("index,loss\n");
    expect(writeResultsCsv("absolute_logodds", [{ index: 0, metrics: { logodds_difference: 1.5, correct: 1 } }])).toBe(
      "index,logodds_difference,correct,total_logprob\n0,1.5,1,\n",
    );
  });

  it("escapes a text cell a spreadsheet would run as a formula, one with a line break too, but never a number", () => {
    const text = (cell: string): ResultsRow => ({ index: 0, metrics: { loss: cell as unknown as number } });
    expect(writeResultsCsv("sequence_prob", [text("=1+1")])).toBe('index,loss\n0,"\'=1+1"\n');
    expect(writeResultsCsv("sequence_prob", [text("=HYPERLINK(1)\nx")])).toBe('index,loss\n0,"\'=HYPERLINK(1)\nx"\n');
    expect(writeResultsCsv("sequence_prob", [text("@x\r\ny")])).toBe('index,loss\n0,"\'@x\r\ny"\n');
    expect(writeResultsCsv("sequence_prob", [{ index: 0, metrics: { loss: -0.5 } }])).toBe("index,loss\n0,-0.5\n");
  });
});

describe("metrics read from results", () => {
  it("coverage is the pipeline's mean probability on the offered classes: exp of each example's total_logprob", () => {
    expect(METRICS.coverage).toMatchObject({
      column: "total_logprob",
      direction: "higher_is_better",
      label: "Probability on the offered classes",
    });
    expect(METRICS.coverage.transform(Math.log(0.25))).toBeCloseTo(0.25, 15);
  });

  it("absolute_logodds_difference is the size of the difference; logodds_difference is read as it stands", () => {
    expect(METRICS.absolute_logodds_difference.transform(-1.5)).toBe(1.5);
    expect("transform" in METRICS.logodds_difference).toBe(false);
  });

  const choosable = (taskType: Parameters<typeof chooseMetric>[0]): string[] =>
    Object.keys(METRICS).filter((name) => chooseMetric(taskType, name).ok);

  it.each([
    ["logodds", ["accuracy", "logodds_difference", "absolute_logodds_difference", "coverage"]],
    ["absolute_logodds", ["accuracy", "logodds_difference", "absolute_logodds_difference", "coverage"]],
    ["classification", ["loss", "accuracy", "coverage"]],
    ["sequence_prob", ["loss"]],
  ] as const)("any metric whose column %s results carry can be chosen", (taskType, names) => {
    expect(choosable(taskType)).toEqual(names);
  });

  it("a metric the task type's results do not carry is refused, naming those that can be chosen", () => {
    const refused = chooseMetric("sequence_prob", "accuracy");
    expect(!refused.ok && refused.message).toBe(
      'metric "accuracy" does not apply to sequence_prob tasks; use one of loss',
    );
  });

  it.each(["toString", "__proto__", "constructor", "Loss"])("%s is not a metric", (name) => {
    const unknown = chooseMetric("classification", name);
    expect(!unknown.ok && unknown.message).toBe(
      `metric "${name}" is not a metric; use one of loss, accuracy, coverage`,
    );
  });

  it("no metric can be chosen for a numeric task", () => {
    expect(chooseMetric("numeric").ok).toBe(false);
  });
});
