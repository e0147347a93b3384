-- When the cron job last tried to make a submission's analyses again with new analysis code. It tries the least
-- recently tried first, so a submission whose re-analysis keeps failing cannot hold up the others.
ALTER TABLE submissions ADD COLUMN reanalysed_at TEXT;
