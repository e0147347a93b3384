-- Submissions: one row per accepted upload. The CSV bytes and normalised examples live in R2 under
-- content-addressed keys; csv_sha256 is unique so the same bytes never make a second submission.
CREATE TABLE submissions (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('valid', 'queued', 'evaluating', 'evaluated', 'partially_evaluated', 'failed', 'accepted', 'rejected', 'withdrawn')),
  task_type TEXT NOT NULL,
  title TEXT NOT NULL,
  metadata_json TEXT NOT NULL,
  csv_sha256 TEXT NOT NULL UNIQUE,
  csv_key TEXT NOT NULL,
  csv_bytes INTEGER NOT NULL,
  examples_key TEXT NOT NULL,
  example_count INTEGER NOT NULL,
  report_json TEXT NOT NULL,
  submitter_token_hash TEXT NOT NULL
);

CREATE INDEX submissions_by_state ON submissions (state, created_at);
