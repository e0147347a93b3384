import type { FamilyDefinition } from "../analysis/family";

/**
 * A family as the evaluator needs it (schemas/model-family.schema.json): the analysis fields plus how to reach the
 * provider. Free of bindings, so the CLI's preflight uses it too.
 */
export interface StoredFamily extends FamilyDefinition {
  adapter: "openai-completions" | "tgi" | "external";
  baseUrl?: string;
  apiKeySecret?: string;
  limits?: { promptsPerRequest?: number; concurrency?: number; requestsPerMinute?: number };
  scoring?: { maxTokens?: 0 | 1 };
  pricing?: { usdPerMillionTokens: number };
}
