import { appendAudit } from "../storage/audit";
import { putFamilyStatement } from "../storage/families";
import type { StoredFamily } from "../storage/evaluations";

export type RegisterFamilyOutcome = { kind: "registered"; family: StoredFamily };

/** Registers (or replaces) a model family by name, with its audit entry, in one D1 batch. */
export async function registerFamily(
  db: D1Database,
  family: StoredFamily,
  actor: string,
): Promise<RegisterFamilyOutcome> {
  const now = new Date().toISOString();
  await db.batch([
    putFamilyStatement(db, family),
    appendAudit(db, { at: now, actor, action: "family.put", submissionId: null, detail: { family } }),
  ]);
  return { kind: "registered", family };
}
