-- Intake and spend limits (README, "Competition settings"). Each evaluation records how it was started (automatic:
-- an upload's start on the public families; requested: an organiser's), why it was refused before queueing if it
-- was (it is then kept, failed with the reason, without shards), and what it counts against the spend ceilings:
-- the tokens it reserves (its estimate, at most its budget) and its family's price per million tokens.
ALTER TABLE evaluations ADD COLUMN origin TEXT NOT NULL DEFAULT 'requested' CHECK (origin IN ('automatic', 'requested'));
ALTER TABLE evaluations ADD COLUMN refused TEXT CHECK (refused IN ('over_budget', 'daily_cap', 'spend_ceiling', 'spend_ceiling_usd'));
ALTER TABLE evaluations ADD COLUMN reserved_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE evaluations ADD COLUMN usd_per_million_tokens REAL;

-- Earlier evaluations reserve their estimate, at most their budget, at their family's price.
UPDATE evaluations SET
  reserved_tokens = MIN(
    (SELECT COALESCE(SUM(json_extract(value, '$.tokens')), 0) FROM json_each(evaluations.estimate_json)),
    COALESCE(token_budget, 9223372036854775807)
  ),
  usd_per_million_tokens = json_extract(family_json, '$.pricing.usdPerMillionTokens');

-- The daily cap counts one day's automatic starts.
CREATE INDEX evaluations_by_origin ON evaluations (origin, created_at);
