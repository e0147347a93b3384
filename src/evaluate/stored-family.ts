import type { FamilyDefinition } from "../analysis/family";
import type { ModelFamily } from "../generated/types";

/**
 * A family as the evaluator needs it (schemas/model-family.schema.json): the analysis fields plus how to reach the
 * provider. Free of bindings, so the CLI's preflight uses it too. Narrower than ModelFamily (no displayName or
 * source, models as a plain array) so hand-built families in the CLI and tests need only what evaluation reads; a
 * validated ModelFamily is assignable to it.
 */
export interface StoredFamily
  extends FamilyDefinition,
    Pick<ModelFamily, "adapter" | "baseUrl" | "apiKeySecret" | "limits" | "scoring" | "pricing"> {}
