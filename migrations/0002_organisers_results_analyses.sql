-- Organiser and admin API tokens, stored only as SHA-256 hashes.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('organiser', 'admin')),
  label TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  revoked_at TEXT
);

-- Per-example results of models run elsewhere, uploaded by an organiser: one row per submission and family.
-- The CSV files live in R2 under results_prefix; a new upload for the same family replaces them.
CREATE TABLE external_results (
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  family TEXT NOT NULL,
  family_json TEXT NOT NULL,
  results_prefix TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  uploaded_at TEXT NOT NULL,
  PRIMARY KEY (submission_id, family)
);

-- Every analysis ever computed; the newest per submission and metric is current. Never edited in place.
CREATE TABLE analyses (
  id TEXT PRIMARY KEY,
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  metric TEXT NOT NULL,
  created_at TEXT NOT NULL,
  analysis_json TEXT NOT NULL
);
CREATE INDEX analyses_latest ON analyses (submission_id, metric, created_at);

-- What organisers did: who, when, what, to which submission. Append only.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  submission_id TEXT,
  detail_json TEXT NOT NULL
);
