import { describe, expect, it } from "vitest";
import { type Leaderboard, leaderboardCsv } from "../../src/leaderboard/build";

type Entry = Leaderboard["tasks"][number];

const entry = (changes: Partial<Entry>): Entry => ({
  rank: 1,
  id: "sub_1",
  title: "A task",
  taskType: "classification",
  examples: 300,
  authors: [{ name: "Ada" }],
  dataLicence: "CC-BY-4.0",
  acceptedAt: "2026-11-30T10:00:00.000Z",
  inverseStrength: 0.25,
  metric: "loss",
  families: [],
  plotUrl: "/v1/leaderboard/sub_1/plot.svg",
  ...changes,
});

const board = (...tasks: Entry[]): Leaderboard => ({
  schemaVersion: 1,
  generatedAt: "2026-11-30T10:00:00.000Z",
  ordering: "strongest first",
  tasks,
});

/** The CSV's row for the one task on the board, as text. */
const rowOf = (task: Entry): string => leaderboardCsv(board(task)).split("\n")[1] ?? "";

describe("the leaderboard as CSV", () => {
  it("writes a negative inverse strength as a number a spreadsheet reads as one", () => {
    expect(rowOf(entry({ inverseStrength: -0.123456 }))).toContain(",-0.1235,");
  });

  it("neutralises a title a spreadsheet would run as a formula", () => {
    expect(rowOf(entry({ title: "-2+3" }))).toContain(`,"'-2+3",`);
  });

  it("neutralises a formula that spans lines, quoting the cell", () => {
    expect(leaderboardCsv(board(entry({ title: "=1+1\nsecond line" })))).toContain(`,"'=1+1\nsecond line",`);
  });

  it("leaves an empty cell for a task without an analysis", () => {
    expect(rowOf(entry({ inverseStrength: null, metric: null }))).toBe(
      "1,A task,classification,300,Ada,,,,CC-BY-4.0,2026-11-30T10:00:00.000Z,sub_1",
    );
  });
});

describe("the leaderboard CSV's verdicts on a grid family", () => {
  it("names each line by what it holds fixed, so lines of one family stay apart", () => {
    const line = (fixed: { parameters: number } | { rlhfSteps: number }, verdict: "inverse" | "flat") => ({
      family: "grid",
      axis: "parameters" in fixed ? ("rlhf_steps" as const) : ("params" as const),
      fixed,
      verdict,
      slopePerDecade: 0.1,
      slopeCi95: [0, 0.2] as [number, number],
      models: [],
    });
    const row = rowOf(entry({ families: [line({ parameters: 1.3e9 }, "inverse"), line({ rlhfSteps: 500 }, "flat")] }));
    expect(row).toContain(`,"grid, 1.3B params: inverse; grid, 500 RLHF steps: flat",`);
  });

  it("lists no behaviour dataset: its rows would need two metrics and no rank", () => {
    const behaviour = {
      id: "sub_behaviour",
      title: "Sycophancy",
      examples: 300,
      authors: [],
      dataLicence: "CC-BY-4.0",
      acceptedAt: "2026-11-30T10:00:00.000Z",
      matchingBehaviour: "undesired" as const,
      metrics: [],
      disagreements: [],
    };
    const csv = leaderboardCsv({ ...board(entry({})), behaviours: [behaviour] });
    expect([csv.trimEnd().split("\n").length, csv.includes("sub_behaviour")]).toEqual([2, false]);
  });
});
