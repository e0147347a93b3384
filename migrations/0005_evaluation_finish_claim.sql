-- When the last shards of an evaluation settle together, every consumer that settled one sees "none pending".
-- One of them claims the ending (analysis, then the final state); the others leave it. A claim older than a few
-- minutes (its consumer died) can be taken over, by a later consumer or the cron resume.
ALTER TABLE evaluations ADD COLUMN finishing_at TEXT;
