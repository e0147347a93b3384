/**
 * Why an evaluation may be refused before queueing (also the `refused` column's CHECK in migration 0012). No
 * imports, so the API document can list them without the storage code that applies them.
 */
export const REFUSALS = ["over_budget", "client_daily_cap", "daily_cap", "spend_ceiling", "spend_ceiling_usd"] as const;
export type Refusal = (typeof REFUSALS)[number];
