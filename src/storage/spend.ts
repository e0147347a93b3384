/**
 * What evaluations spend, and the admission of a new one against the competition's limits: columns of the
 * evaluations table added by migrations/0011_intake_limits.sql.
 */
import type { Refusal } from "../competition/refusals";

export { REFUSALS, type Refusal } from "../competition/refusals";

/** How an evaluation was started: by an upload on the public families, or by an organiser. */
export type EvaluationOrigin = "automatic" | "requested";

/**
 * The tokens an evaluation counts against the ceilings: what it used (with what its running shards were charged
 * before scoring), and while it is open what it reserved beyond that (its budget, else its estimate). A finished
 * evaluation counts only what it used.
 */
const COMMITTED_TOKENS =
  "tokens_used + CASE WHEN state IN ('queued', 'evaluating') THEN MAX(reserved_tokens - tokens_used, 0) ELSE 0 END";

export interface Admission {
  evaluationId: string;
  origin: EvaluationOrigin;
  /** The tokens the evaluation may use: its budget (which its shards' charges enforce), else its estimate. */
  reservedTokens: number;
  usdPerMillionTokens: number | null;
  /** Decided before: the estimate exceeds an automatic evaluation's budget. */
  overBudget: boolean;
  /** Decided before: the client that started an automatic evaluation has used up its allowance. */
  clientCapped: boolean;
  /** Automatic evaluations only: the most started since `dayStart`. */
  dailyCap: number | null;
  dayStart: string;
  ceilingTokens: number | null;
  ceilingUsd: number | null;
  /** The reason recorded for each refusal. */
  reasons: Record<Refusal, string>;
  at: string;
}

/**
 * Statements to append, in the same batch, to an evaluation's insert: they decide whether it is admitted against
 * the limits, counting every other evaluation, and if not, end it as failed with the reason and remove its shards
 * (and, for an organiser's request, the evaluation itself). D1 runs a batch as one transaction, one at a time, so
 * two starts can never both take the last of a cap or ceiling. The first statement returns `refused`.
 */
export function admissionStatements(db: D1Database, admission: Admission): D1PreparedStatement[] {
  const { evaluationId: id, reasons } = admission;
  return [
    db
      .prepare(
        `UPDATE evaluations SET origin = ?2, reserved_tokens = ?3, usd_per_million_tokens = ?4, refused = CASE
           WHEN ?5 = 1 THEN 'over_budget'
           WHEN ?10 = 1 THEN 'client_daily_cap'
           WHEN ?6 IS NOT NULL AND (SELECT COUNT(*) FROM evaluations
             WHERE origin = 'automatic' AND refused IS NULL AND created_at >= ?7 AND id <> ?1) >= ?6 THEN 'daily_cap'
           WHEN ?8 IS NOT NULL AND ?3 + (SELECT COALESCE(SUM(${COMMITTED_TOKENS}), 0) FROM evaluations
             WHERE id <> ?1) > ?8 THEN 'spend_ceiling'
           WHEN ?9 IS NOT NULL AND (?3 * COALESCE(?4, 0) + (SELECT COALESCE(SUM((${COMMITTED_TOKENS}) *
             COALESCE(usd_per_million_tokens, 0)), 0) FROM evaluations WHERE id <> ?1)) / 1e6 > ?9
             THEN 'spend_ceiling_usd'
           ELSE NULL END
         WHERE id = ?1 RETURNING refused`,
      )
      .bind(
        id,
        admission.origin,
        admission.reservedTokens,
        admission.usdPerMillionTokens,
        admission.overBudget ? 1 : 0,
        admission.dailyCap,
        admission.dayStart,
        admission.ceilingTokens,
        admission.ceilingUsd,
        admission.clientCapped ? 1 : 0,
      ),
    db
      .prepare(
        `UPDATE evaluations SET state = 'failed', finished_at = ?2, updated_at = ?2, reason = CASE refused
           WHEN 'over_budget' THEN ?3 WHEN 'daily_cap' THEN ?4 WHEN 'spend_ceiling' THEN ?5
           WHEN 'client_daily_cap' THEN ?7 ELSE ?6 END
         WHERE id = ?1 AND refused IS NOT NULL`,
      )
      .bind(
        id,
        admission.at,
        reasons.over_budget,
        reasons.daily_cap,
        reasons.spend_ceiling,
        reasons.spend_ceiling_usd,
        reasons.client_daily_cap,
      ),
    db
      .prepare(
        "DELETE FROM evaluation_shards WHERE evaluation_id = ?1 AND EXISTS (SELECT 1 FROM evaluations WHERE id = ?1 AND refused IS NOT NULL)",
      )
      .bind(id),
    db.prepare("DELETE FROM evaluations WHERE id = ?1 AND refused IS NOT NULL AND origin = 'requested'").bind(id),
  ];
}

/** The refusal the first admission statement returned, or null: admitted. */
export function refusalOf(result: D1Result | undefined): Refusal | null {
  const row = result?.results[0] as { refused: Refusal | null } | undefined;
  if (!row) throw new Error("the admission statement returned no row for its evaluation");
  return row.refused;
}

/** Spend per family (and price, which an evaluation keeps from its start), over evaluations that were admitted. */
export interface FamilySpend {
  family: string;
  usdPerMillionTokens: number | null;
  evaluations: number;
  tokensUsed: number;
  /** Reserved by open evaluations beyond what they have used. */
  tokensReserved: number;
}

export async function spendByFamily(db: D1Database): Promise<FamilySpend[]> {
  const { results } = await db
    .prepare(
      `SELECT family, usd_per_million_tokens AS usdPerMillionTokens, COUNT(*) AS evaluations,
         SUM(tokens_used) AS tokensUsed,
         SUM(CASE WHEN state IN ('queued', 'evaluating') THEN MAX(reserved_tokens - tokens_used, 0) ELSE 0 END)
           AS tokensReserved
       FROM evaluations WHERE refused IS NULL
       GROUP BY family, usd_per_million_tokens ORDER BY family, usd_per_million_tokens`,
    )
    .all<FamilySpend>();
  return results;
}

/** Automatic evaluations created since `since` (an ISO instant): started, and refused before queueing. */
export async function automaticStartsSince(
  db: D1Database,
  since: string,
): Promise<{ started: number; refused: number }> {
  const row = await db
    .prepare(
      `SELECT COALESCE(SUM(refused IS NULL), 0) AS started, COALESCE(SUM(refused IS NOT NULL), 0) AS refused
       FROM evaluations WHERE origin = 'automatic' AND created_at >= ?1`,
    )
    .bind(since)
    .first<{ started: number; refused: number }>();
  return row ?? { started: 0, refused: 0 };
}
