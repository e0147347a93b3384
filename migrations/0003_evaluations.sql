-- Model families registered by organisers (schemas/model-family.schema.json).
CREATE TABLE families (
  name TEXT PRIMARY KEY,
  definition_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- One run of a submission on one family. family_json keeps the definition as run, so a re-run or a changed
-- family never rewrites what an earlier evaluation measured.
CREATE TABLE evaluations (
  id TEXT PRIMARY KEY,
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  family TEXT NOT NULL,
  family_json TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'evaluating', 'evaluated', 'partially_evaluated', 'failed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT,
  estimate_json TEXT NOT NULL,
  token_budget INTEGER,
  tokens_used INTEGER NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0,
  cache_hits INTEGER NOT NULL DEFAULT 0,
  reason TEXT
);
CREATE INDEX evaluations_by_submission ON evaluations (submission_id, created_at);
CREATE INDEX evaluations_open ON evaluations (state, updated_at);

-- A shard: one model on a slice of the examples, one queue message.
CREATE TABLE evaluation_shards (
  evaluation_id TEXT NOT NULL REFERENCES evaluations (id),
  model TEXT NOT NULL,
  shard INTEGER NOT NULL,
  first_example INTEGER NOT NULL,
  end_example INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (evaluation_id, model, shard)
);

-- Per-example results; the key makes a redelivered shard rewrite the same rows instead of adding to them.
CREATE TABLE evaluation_results (
  evaluation_id TEXT NOT NULL REFERENCES evaluations (id),
  model TEXT NOT NULL,
  example_index INTEGER NOT NULL,
  flag TEXT,
  metrics_json TEXT,
  PRIMARY KEY (evaluation_id, model, example_index)
);

-- Scored texts by a hash of (base URL, model, adapter version, text): a re-run or a repeated text costs no call.
CREATE TABLE score_cache (
  key TEXT PRIMARY KEY,
  scored_json TEXT NOT NULL,
  created_at TEXT NOT NULL
);
