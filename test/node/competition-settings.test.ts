import { describe, expect, it } from "vitest";
import {
  completeSettings,
  storedDocument,
  defaultSettings,
  editableUntil,
  roundProblems,
  submissionWindow,
  type CompetitionSettings,
} from "../../src/competition/settings";

const settings: CompetitionSettings = {
  ...defaultSettings({
    MIN_EXAMPLES: "300",
    MAX_ROWS: "200000",
    MAX_FILE_BYTES: "1048576",
    DEFAULT_FAMILIES: "isv-reference, gpt3",
  }),
  rounds: [
    { name: "Round 1", opensAt: "2022-05-27T00:00:00Z", closesAt: "2022-08-27T23:59:59Z" },
    { name: "Round 2", opensAt: "2022-09-01T00:00:00Z", closesAt: "2022-10-27T23:59:59Z" },
  ],
};

describe("competition rounds", () => {
  it("take their defaults from the Worker's vars, with no rounds", () => {
    expect(
      defaultSettings({
        MIN_EXAMPLES: "300",
        MAX_ROWS: "",
        MAX_FILE_BYTES: "1048576",
        DEFAULT_FAMILIES: "isv-reference, gpt3",
      }),
    ).toEqual({
      rounds: [],
      minExamples: 300,
      maxFileBytes: 1048576,
      maxRows: 200000,
      publicFamilies: ["isv-reference", "gpt3"],
      tokenBudget: 5_000_000,
      uploadsPerHour: 10,
      automaticEvaluationsPerDay: 100,
      automaticEvaluationsPerClientPerDay: 3,
      spendCeilingTokens: 500_000_000,
      spendCeilingUsd: null,
    });
  });

  it("take their intake and spend limits from the Worker's vars, where set", () => {
    expect(
      defaultSettings({
        UPLOADS_PER_HOUR: "25",
        AUTO_EVALUATIONS_PER_DAY: "7",
        AUTO_EVALUATIONS_PER_CLIENT_PER_DAY: "2",
        AUTO_TOKEN_BUDGET: "120000",
        SPEND_CEILING_TOKENS: "9000000",
        SPEND_CEILING_USD: "12.5",
      }),
    ).toMatchObject({
      uploadsPerHour: 25,
      automaticEvaluationsPerDay: 7,
      automaticEvaluationsPerClientPerDay: 2,
      tokenBudget: 120_000,
      spendCeilingTokens: 9_000_000,
      spendCeilingUsd: 12.5,
    });
  });

  it('have no budget, cap or ceiling where a var says "none"', () => {
    expect(
      defaultSettings({
        AUTO_EVALUATIONS_PER_DAY: "none",
        AUTO_TOKEN_BUDGET: "none",
        SPEND_CEILING_TOKENS: "none",
        SPEND_CEILING_USD: "none",
      }),
    ).toMatchObject({
      automaticEvaluationsPerDay: null,
      tokenBudget: null,
      spendCeilingTokens: null,
      spendCeilingUsd: null,
    });
  });

  it("keep the built-in limits where a var is not a number", () => {
    expect(
      defaultSettings({ UPLOADS_PER_HOUR: "0", AUTO_TOKEN_BUDGET: "lots", SPEND_CEILING_USD: "-1" }),
    ).toMatchObject({
      uploadsPerHour: 10,
      tokenBudget: 5_000_000,
      spendCeilingUsd: null,
    });
  });

  it("fill the fields an admin's document leaves out from the defaults, and keep the ones it sets", () => {
    const { uploadsPerHour: _left, spendCeilingUsd: _out, ...partial } = settings;
    expect(completeSettings({ ...partial, tokenBudget: null }, { UPLOADS_PER_HOUR: "40" })).toEqual({
      ...settings,
      tokenBudget: null,
      uploadsPerHour: 40,
      spendCeilingUsd: null,
    });
  });

  it("give a document saved before the intake limits (no uploadsPerHour) the default budget, not its null", () => {
    const {
      uploadsPerHour: _u,
      automaticEvaluationsPerDay: _a,
      automaticEvaluationsPerClientPerDay: _c,
      ...old
    } = settings;
    const { spendCeilingTokens: _t, spendCeilingUsd: _d, ...legacy } = old;
    expect(completeSettings(storedDocument({ ...legacy, tokenBudget: null }), { AUTO_TOKEN_BUDGET: "70000" })).toEqual({
      ...settings,
      tokenBudget: 70_000,
    });
  });

  it("keep a null budget in a document saved with the intake limits: no budget, as the admin chose", () => {
    expect(completeSettings(storedDocument({ ...settings, tokenBudget: null }), {}).tokenBudget).toBeNull();
  });

  it("keep the budget a document saved before the intake limits set", () => {
    const { uploadsPerHour: _u, ...legacy } = settings;
    expect(completeSettings(storedDocument({ ...legacy, tokenBudget: 1234 }), {}).tokenBudget).toBe(1234);
  });

  it.each([
    ["2022-05-01T00:00:00Z", "Submissions are not open yet. Round 1 opens at 2022-05-27T00:00:00Z."],
    [
      "2022-08-30T12:00:00Z",
      "Submissions for Round 1 closed at 2022-08-27T23:59:59Z. Round 2 opens at 2022-09-01T00:00:00Z.",
    ],
    ["2022-10-27T23:59:59Z", "Submissions for Round 2 closed at 2022-10-27T23:59:59Z. No further round is scheduled."],
  ])("are closed at %s, saying why", (now, message) => {
    expect(submissionWindow(settings, new Date(now))).toMatchObject({ open: false, message });
  });

  it("are open from the opening instant to just before the close, naming the round", () => {
    expect(submissionWindow(settings, new Date("2022-05-27T00:00:00Z"))).toEqual({
      open: true,
      round: settings.rounds[0],
    });
    expect(submissionWindow(settings, new Date("2022-10-27T23:59:58Z"))).toEqual({
      open: true,
      round: settings.rounds[1],
    });
    expect(submissionWindow({ ...settings, rounds: [] }, new Date())).toEqual({ open: true, round: null });
  });

  it("end editing at the submission's own round, and not at all without rounds", () => {
    expect(editableUntil(settings, "Round 2")).toBe("2022-10-27T23:59:59Z");
    expect(editableUntil(settings, null)).toBeNull();
    expect(editableUntil(settings, "A round since removed")).toBeNull();
  });

  it("must be in order, each closing after it opens, with unique names", () => {
    expect(roundProblems(settings.rounds)).toEqual([]);
    expect(roundProblems(settings.rounds.toReversed())).toEqual([
      { field: "rounds[1].opensAt", message: "must not be before the previous round closes (2022-10-27T23:59:59Z)" },
    ]);
  });
});
