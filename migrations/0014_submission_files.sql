-- The files of a submission sent as several (a zip, or several upload parts): each file's role and where its
-- examples sit in the submission's one list of examples (the files' examples concatenated in the metadata's
-- order, evaluated once). A submission of one file has no rows here. Kept per file version, like the file itself.
CREATE TABLE submission_files (
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  file_version INTEGER NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('part', 'control', 'variant')),
  label TEXT,
  paired INTEGER NOT NULL CHECK (paired IN (0, 1)),
  sha256 TEXT NOT NULL,
  file_key TEXT NOT NULL,
  examples_key TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  first_example INTEGER NOT NULL,
  example_count INTEGER NOT NULL,
  PRIMARY KEY (submission_id, file_version, position)
);

-- Whether a file's stored bytes are still used by some submission, before they are deleted.
CREATE INDEX submission_files_sha256 ON submission_files (sha256);

-- The analysis of a submission's slices, made with its analyses: each file, the task (its parts together), each
-- control and variant, each group of the task's examples, on the headline metric, and the task-minus-control (or
-- variant) slope differences. One document per analysis run (schemas/slices-analysis.schema.json); the newest on
-- the current file version is read.
CREATE TABLE slice_analyses (
  id TEXT PRIMARY KEY,
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  file_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  analysis_json TEXT NOT NULL
);

CREATE INDEX slice_analyses_latest ON slice_analyses (submission_id, file_version, created_at);
