import { ProviderError, adapterFor, type ScoringAdapter } from "../evaluate/adapters";
import { PROBE_TIMEOUT_MS, checkFamily, type FamilyCheck } from "../evaluate/preflight";
import { workerAccess, type ProviderBindings } from "../evaluate/provider-access";
import { appendAudit } from "../storage/audit";
import { getFamily } from "../storage/families";

export type FamilyCheckOutcome =
  | { kind: "checked"; check: FamilyCheck }
  | { kind: "not_found" }
  | { kind: "not_checkable"; reason: string };

/**
 * The preflight of a registered family, with its API key from the Worker's secrets. It sends requests a provider
 * may bill and sends a secret to the family's host, so every run is audited with who ran it, the host, the
 * secret's name (never its value) and which models failed. The outbound policy and the secret's hosts are checked
 * again here (a family stored before them is refused), and before each request.
 */
export async function checkRegisteredFamily(
  env: ProviderBindings & { DB: D1Database },
  name: string,
  actor: string,
): Promise<FamilyCheckOutcome> {
  const family = await getFamily(env.DB, name);
  if (!family) return { kind: "not_found" };
  let adapter: ScoringAdapter;
  try {
    adapter = adapterFor(family, workerAccess(env), undefined, PROBE_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof ProviderError) return { kind: "not_checkable", reason: error.message };
    throw error;
  }
  const check = await checkFamily(family, adapter);
  const failed = check.models.filter((model) => !model.ok).map((model) => model.model);
  await appendAudit(env.DB, {
    at: new Date().toISOString(),
    actor,
    action: "family.check",
    submissionId: null,
    detail: {
      family: family.name,
      baseUrl: family.baseUrl,
      apiKeySecret: family.apiKeySecret ?? null,
      ok: check.ok,
      failed,
    },
  }).run();
  return { kind: "checked", check };
}
