import type { CompetitionSettings } from "../generated/types";
import type { ValidationLimits } from "../validate/report";
import { DEFAULT_LIMITS } from "../validate/report";

/** The competition's rules: the type generated from schemas/competition-settings.schema.json. */
export type { CompetitionSettings };

/** One submission window. */
export type Round = CompetitionSettings["rounds"][number];

/** The Worker's vars the defaults come from (wrangler.toml [vars]; strings, as the runtime gives them). */
export interface SettingsVars {
  MIN_EXAMPLES?: string;
  MAX_ROWS?: string;
  MAX_FILE_BYTES?: string;
  DEFAULT_FAMILIES?: string;
}

/** Until an admin saves settings, the Worker's vars (wrangler.toml) are the rules, with no rounds. */
export function defaultSettings(env: SettingsVars): CompetitionSettings {
  return {
    rounds: [],
    minExamples: wholeNumber(env.MIN_EXAMPLES, DEFAULT_LIMITS.minExamples),
    maxFileBytes: wholeNumber(env.MAX_FILE_BYTES, DEFAULT_LIMITS.maxBytes),
    maxRows: wholeNumber(env.MAX_ROWS, DEFAULT_LIMITS.maxRows),
    publicFamilies: (env.DEFAULT_FAMILIES ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
    tokenBudget: null,
  };
}

export function validationLimits(settings: CompetitionSettings): ValidationLimits {
  return {
    ...DEFAULT_LIMITS,
    minExamples: settings.minExamples,
    maxRows: settings.maxRows,
    maxBytes: settings.maxFileBytes,
  };
}

/** What the schema cannot say: each round closes after it opens, rounds are in order, names are unique. */
export function roundProblems(rounds: readonly Round[]): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const names = new Set<string>();
  rounds.forEach((round, i) => {
    if (Date.parse(round.closesAt) <= Date.parse(round.opensAt))
      problems.push({ field: `rounds[${i}].closesAt`, message: "must be after opensAt" });
    const previous = rounds[i - 1];
    if (previous && Date.parse(round.opensAt) < Date.parse(previous.closesAt))
      problems.push({
        field: `rounds[${i}].opensAt`,
        message: `must not be before the previous round closes (${previous.closesAt})`,
      });
    if (names.has(round.name)) problems.push({ field: `rounds[${i}].name`, message: "must be unique" });
    names.add(round.name);
  });
  return problems;
}

export type SubmissionWindow =
  | { open: true; round: Round | null }
  | { open: false; message: string; lastClosedAt: string | null; nextOpensAt: string | null };

/** Whether uploads are open at `now`, and if not, a message naming the deadline that passed or the next opening. */
export function submissionWindow(settings: CompetitionSettings, now: Date): SubmissionWindow {
  if (settings.rounds.length === 0) return { open: true, round: null };
  const at = now.getTime();
  const current = settings.rounds.find((round) => Date.parse(round.opensAt) <= at && at < Date.parse(round.closesAt));
  if (current) return { open: true, round: current };
  const closed = settings.rounds.filter((round) => Date.parse(round.closesAt) <= at).at(-1) ?? null;
  const next = settings.rounds.find((round) => Date.parse(round.opensAt) > at) ?? null;
  const parts = [
    closed ? `Submissions for ${closed.name} closed at ${closed.closesAt}.` : "Submissions are not open yet.",
    next ? `${next.name} opens at ${next.opensAt}.` : "No further round is scheduled.",
  ];
  return {
    open: false,
    message: parts.join(" "),
    lastClosedAt: closed?.closesAt ?? null,
    nextOpensAt: next?.opensAt ?? null,
  };
}

/**
 * Until when a submission made in `roundName` may be edited by its submitter: its round's close. No deadline when
 * the competition has no rounds or the round is no longer configured.
 */
export function editableUntil(settings: CompetitionSettings, roundName: string | null): string | null {
  if (roundName === null) return null;
  return settings.rounds.find((round) => round.name === roundName)?.closesAt ?? null;
}

function wholeNumber(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return text !== undefined && text !== "" && Number.isSafeInteger(value) && value >= 0 ? value : fallback;
}
