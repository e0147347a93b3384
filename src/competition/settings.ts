import type { CompetitionSettings as SettingsDocument } from "../generated/types";
import type { ValidationLimits } from "../validate/report";
import { DEFAULT_LIMITS } from "../validate/report";

/**
 * The settings document as admins send it and as it is stored (schemas/competition-settings.schema.json): the
 * intake and spend limits may be left out, and take the defaults.
 */
export type { SettingsDocument };

/** The competition's rules in force: a settings document with every field, the left-out ones from the defaults. */
export type CompetitionSettings = Required<SettingsDocument>;

/** One submission window. */
export type Round = CompetitionSettings["rounds"][number];

/** The Worker's vars the defaults come from (wrangler.toml [vars]; strings, as the runtime gives them). */
export interface SettingsVars {
  MIN_EXAMPLES?: string;
  MAX_ROWS?: string;
  MAX_FILE_BYTES?: string;
  DEFAULT_FAMILIES?: string;
  UPLOADS_PER_HOUR?: string;
  AUTO_EVALUATIONS_PER_DAY?: string;
  AUTO_EVALUATIONS_PER_CLIENT_PER_DAY?: string;
  AUTO_TOKEN_BUDGET?: string;
  SPEND_CEILING_TOKENS?: string;
  SPEND_CEILING_USD?: string;
}

/**
 * The intake and spend limits when neither the vars nor an admin set them: ten uploads a client an hour; a
 * hundred automatic evaluations a day, three of them a client (three uploads' worth on one public family), each
 * refused if estimated over five million tokens; half a billion tokens in all; no ceiling in dollars (families
 * rarely carry a price).
 */
export const DEFAULT_INTAKE_LIMITS = {
  uploadsPerHour: 10,
  automaticEvaluationsPerDay: 100,
  automaticEvaluationsPerClientPerDay: 3,
  tokenBudget: 5_000_000,
  spendCeilingTokens: 500_000_000,
  spendCeilingUsd: null,
} as const satisfies Partial<CompetitionSettings>;

/** Until an admin saves settings, the Worker's vars (wrangler.toml) are the rules, with no rounds. */
export function defaultSettings(env: SettingsVars): CompetitionSettings {
  const limits = DEFAULT_INTAKE_LIMITS;
  return {
    rounds: [],
    minExamples: wholeNumber(env.MIN_EXAMPLES, DEFAULT_LIMITS.minExamples),
    maxFileBytes: wholeNumber(env.MAX_FILE_BYTES, DEFAULT_LIMITS.maxBytes),
    maxRows: wholeNumber(env.MAX_ROWS, DEFAULT_LIMITS.maxRows),
    publicFamilies: (env.DEFAULT_FAMILIES ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
    tokenBudget: limitOrNone(env.AUTO_TOKEN_BUDGET, limits.tokenBudget, 1, true),
    uploadsPerHour: limitOrNone(env.UPLOADS_PER_HOUR, limits.uploadsPerHour, 1, true) ?? limits.uploadsPerHour,
    automaticEvaluationsPerDay: limitOrNone(env.AUTO_EVALUATIONS_PER_DAY, limits.automaticEvaluationsPerDay, 0, true),
    automaticEvaluationsPerClientPerDay: limitOrNone(
      env.AUTO_EVALUATIONS_PER_CLIENT_PER_DAY,
      limits.automaticEvaluationsPerClientPerDay,
      0,
      true,
    ),
    spendCeilingTokens: limitOrNone(env.SPEND_CEILING_TOKENS, limits.spendCeilingTokens, 0, true),
    spendCeilingUsd: limitOrNone(env.SPEND_CEILING_USD, limits.spendCeilingUsd, 0, false),
  };
}

/** A settings document as read back from storage: one saved before the intake limits may lack its budget. */
export type StoredSettingsDocument = Omit<SettingsDocument, "tokenBudget"> &
  Partial<Pick<SettingsDocument, "tokenBudget">>;

/**
 * A stored settings document, upgraded. Documents are not versioned by schema, so one saved before the intake and
 * spend limits (migration 0011) is known by their absence: it lacks `uploadsPerHour`, which every document saved
 * since has (left-out limits are saved with the defaults). Such a document had to carry `tokenBudget`, and null was
 * the old default, so its null means "never set": it is dropped, and the default budget applies. A budget it set
 * is kept, and a null in a newer document is an admin's choice of no budget (README, "Competition settings").
 */
export function storedDocument(document: SettingsDocument): StoredSettingsDocument {
  if ("uploadsPerHour" in document || document.tokenBudget !== null) return document;
  const { tokenBudget: _unset, ...upgraded } = document;
  return upgraded;
}

/** An admin's document with the fields it leaves out taken from the defaults (the vars, else the built-in ones). */
export function completeSettings(document: StoredSettingsDocument, env: SettingsVars): CompetitionSettings {
  return { ...defaultSettings(env), ...document };
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

/**
 * A limit from a var: "none" for no limit, a number (a whole one where `whole`) of at least `minimum`, or else the
 * built-in `fallback`.
 */
function limitOrNone(text: string | undefined, fallback: number | null, minimum: number, whole: boolean) {
  if (text?.trim().toLowerCase() === "none") return null;
  const value = Number(text);
  const valid = text !== undefined && text.trim() !== "" && Number.isFinite(value) && value >= minimum;
  return valid && (!whole || Number.isSafeInteger(value)) ? value : fallback;
}
