import { ProviderError, adapterFor } from "../evaluate/adapters";
import { checkFamily, type FamilyCheck } from "../evaluate/preflight";
import { appendAudit } from "../storage/analyses";
import { getFamily } from "../storage/evaluations";

export type FamilyCheckOutcome = { kind: "checked"; check: FamilyCheck } | { kind: "not_found" } | { kind: "not_checkable"; reason: string };

/**
 * The preflight of a registered family, with its API key from the Worker's secrets. It sends requests a provider
 * may bill, so every run is audited with who ran it and which models failed.
 */
export async function checkRegisteredFamily(env: { DB: D1Database }, name: string, actor: string): Promise<FamilyCheckOutcome> {
  const family = await getFamily(env.DB, name);
  if (!family) return { kind: "not_found" };
  let adapter;
  try {
    adapter = adapterFor(family, env);
  } catch (error) {
    if (error instanceof ProviderError) return { kind: "not_checkable", reason: error.message };
    throw error;
  }
  const check = await checkFamily(family, adapter);
  const failed = check.models.filter((model) => !model.ok).map((model) => model.model);
  await appendAudit(env.DB, { at: new Date().toISOString(), actor, action: "family.check", submissionId: null, detail: { family: family.name, ok: check.ok, failed } }).run();
  return { kind: "checked", check };
}
