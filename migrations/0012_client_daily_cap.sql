-- A refusal for a client's own allowance of automatic evaluations (README, "Competition settings":
-- automaticEvaluationsPerClientPerDay). SQLite cannot change a column's CHECK, so the `refused` column is made
-- again with the new value allowed, keeping every row's refusal.
ALTER TABLE evaluations ADD COLUMN refused_new TEXT
  CHECK (refused_new IN ('over_budget', 'client_daily_cap', 'daily_cap', 'spend_ceiling', 'spend_ceiling_usd'));
UPDATE evaluations SET refused_new = refused;
ALTER TABLE evaluations DROP COLUMN refused;
ALTER TABLE evaluations RENAME COLUMN refused_new TO refused;
