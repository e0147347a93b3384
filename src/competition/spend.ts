import { settingsInForce } from "../storage/settings";
import { automaticStartsSince, spendByFamily, type FamilySpend } from "../storage/spend";
import type { SettingsVars } from "./settings";

/** A total against its ceiling: what was used, what open evaluations still reserve, and what is left. */
export interface SpendTotal {
  used: number;
  reserved: number;
  ceiling: number | null;
  /** ceiling − used − reserved, at least 0; null without a ceiling. */
  remaining: number | null;
}

/** What the competition's evaluations have spent, for admins (GET /v1/review/spend). */
export interface SpendView {
  tokens: SpendTotal;
  /** Estimated at each evaluation's family's pricing; families without pricing count nothing here. */
  usd: SpendTotal;
  /** Today's (UTC) automatic evaluations: started, refused before queueing, and the cap. */
  automaticEvaluations: { day: string; started: number; refused: number; cap: number | null };
  families: (FamilySpend & { usdUsed: number | null; usdReserved: number | null })[];
}

export async function currentSpend(env: { DB: D1Database } & SettingsVars, now: Date): Promise<SpendView> {
  const day = now.toISOString().slice(0, 10);
  const [settings, byFamily, today] = await Promise.all([
    settingsInForce(env),
    spendByFamily(env.DB),
    automaticStartsSince(env.DB, `${day}T00:00:00.000Z`),
  ]);
  const families = byFamily.map((family) => {
    const price = family.usdPerMillionTokens;
    return {
      ...family,
      usdUsed: price === null ? null : (family.tokensUsed * price) / 1e6,
      usdReserved: price === null ? null : (family.tokensReserved * price) / 1e6,
    };
  });
  const sum = (values: (number | null)[]) => values.reduce<number>((total, value) => total + (value ?? 0), 0);
  return {
    tokens: total(
      sum(families.map((family) => family.tokensUsed)),
      sum(families.map((family) => family.tokensReserved)),
      settings.spendCeilingTokens,
    ),
    usd: total(
      sum(families.map((family) => family.usdUsed)),
      sum(families.map((family) => family.usdReserved)),
      settings.spendCeilingUsd,
    ),
    automaticEvaluations: { day, ...today, cap: settings.automaticEvaluationsPerDay },
    families,
  };
}

function total(used: number, reserved: number, ceiling: number | null): SpendTotal {
  return { used, reserved, ceiling, remaining: ceiling === null ? null : Math.max(0, ceiling - used - reserved) };
}
