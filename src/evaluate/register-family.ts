import { appendAudit } from "../storage/audit";
import { putFamilyStatement } from "../storage/families";
import type { StoredFamily } from "../storage/evaluations";
import { familyRefusal, type AccessRefusal, type ProviderBindings } from "./provider-access";
import { BUILT_IN_FAMILIES } from "./start";

export type RegisterFamilyOutcome =
  | { kind: "registered"; family: StoredFamily }
  /** The name is a built-in family's (isv-reference): replacing it would redirect every public evaluation. */
  | { kind: "built_in"; name: string }
  /** A URL the family would call is refused, or its secret may not go there, or the rules cannot be read. */
  | ({ kind: "refused" } & AccessRefusal);

/**
 * Registers (or replaces) a model family by name, with its audit entry, in one D1 batch, once its URLs pass the
 * outbound policy and its API key secret is declared for their hosts (provider-access.ts). Nothing is stored
 * otherwise. The secret's value is not read here: it may be set after the family is registered.
 */
export async function registerFamily(
  bindings: ProviderBindings & { DB: D1Database },
  family: StoredFamily,
  actor: string,
): Promise<RegisterFamilyOutcome> {
  if (BUILT_IN_FAMILIES.includes(family.name)) return { kind: "built_in", name: family.name };
  const refusal = familyRefusal(bindings, family);
  if (refusal) return { kind: "refused", ...refusal };
  const now = new Date().toISOString();
  await bindings.DB.batch([
    putFamilyStatement(bindings.DB, family),
    appendAudit(bindings.DB, { at: now, actor, action: "family.put", submissionId: null, detail: { family } }),
  ]);
  return { kind: "registered", family };
}
