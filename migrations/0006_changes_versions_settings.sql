-- Review can ask for changes; submitters replace the file, and earlier versions are kept; competition settings.
-- SQLite cannot alter a CHECK constraint, so the submissions table is rebuilt (the pattern D1 documents: foreign
-- keys from evaluations, analyses and external results are checked at commit, when the name resolves again).
PRAGMA defer_foreign_keys = on;

CREATE TABLE submissions_next (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('valid', 'changes_requested', 'accepted', 'rejected', 'withdrawn')),
  task_type TEXT NOT NULL,
  title TEXT NOT NULL,
  metadata_json TEXT NOT NULL,
  csv_sha256 TEXT NOT NULL UNIQUE,
  csv_key TEXT NOT NULL,
  csv_bytes INTEGER NOT NULL,
  examples_key TEXT NOT NULL,
  example_count INTEGER NOT NULL,
  report_json TEXT NOT NULL,
  submitter_token_hash TEXT NOT NULL,
  reviewed_at TEXT,
  review_note TEXT,
  -- Which file is current: 1 at upload, one more per replacement (earlier ones are in submission_versions).
  file_version INTEGER NOT NULL DEFAULT 1,
  -- The competition round open at upload (NULL when no rounds are configured): its close ends editing.
  round TEXT
);
INSERT INTO submissions_next (id, created_at, updated_at, state, task_type, title, metadata_json, csv_sha256, csv_key, csv_bytes,
    examples_key, example_count, report_json, submitter_token_hash, reviewed_at, review_note)
  SELECT id, created_at, updated_at, state, task_type, title, metadata_json, csv_sha256, csv_key, csv_bytes,
    examples_key, example_count, report_json, submitter_token_hash, reviewed_at, review_note
  FROM submissions;
DROP TABLE submissions;
ALTER TABLE submissions_next RENAME TO submissions;
CREATE INDEX submissions_by_state ON submissions (state, created_at);

PRAGMA defer_foreign_keys = off;

-- Files a submission no longer uses; their bytes stay in R2 under the same content-addressed keys.
CREATE TABLE submission_versions (
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  version INTEGER NOT NULL,
  csv_sha256 TEXT NOT NULL,
  csv_key TEXT NOT NULL,
  csv_bytes INTEGER NOT NULL,
  examples_key TEXT NOT NULL,
  example_count INTEGER NOT NULL,
  report_json TEXT NOT NULL,
  replaced_at TEXT NOT NULL,
  PRIMARY KEY (submission_id, version)
);

-- Results belong to the file they were computed on: after a replacement, only the current version's count.
ALTER TABLE evaluations ADD COLUMN file_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE external_results ADD COLUMN file_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE analyses ADD COLUMN file_version INTEGER NOT NULL DEFAULT 1;

-- Competition settings, edited by admins: append-only, the newest row is in force.
CREATE TABLE competition_settings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  actor TEXT NOT NULL,
  settings_json TEXT NOT NULL
);
