-- An evaluation that ends (evaluated, partially or not, failed, superseded by a replaced file) takes its pending
-- shards out of the due index: no consumer holds them and no time is kept, so the cron job's sweep never reads them
-- again. The database does it itself, in the statement that ends the evaluation, whichever statement that is.
CREATE TRIGGER evaluation_end_frees_its_shards AFTER UPDATE OF state ON evaluations
WHEN OLD.state IN ('queued', 'evaluating') AND NEW.state NOT IN ('queued', 'evaluating')
BEGIN
  UPDATE evaluation_shards SET leased_by = NULL, leased_until = NULL WHERE evaluation_id = NEW.id AND state = 'pending';
END;

-- Pending shards of evaluations that ended before this migration leave it too.
UPDATE evaluation_shards SET leased_by = NULL, leased_until = NULL
WHERE state = 'pending' AND evaluation_id IN (SELECT id FROM evaluations WHERE state NOT IN ('queued', 'evaluating'));

-- The due index keeps only pending shards with a time: those of open evaluations. The sweep's query
-- (leased_until < now) implies leased_until IS NOT NULL, so it reads this index.
DROP INDEX evaluation_shards_due;
CREATE INDEX evaluation_shards_due ON evaluation_shards (leased_until) WHERE state = 'pending' AND leased_until IS NOT NULL;
