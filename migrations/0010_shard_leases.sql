-- Shard leases, so a shard whose message was lost (a local queue loses its messages on restart) or whose consumer
-- died is sent again within a minute, and a shard is never run by two consumers at once.
-- leased_until (milliseconds since the epoch) is the time by which a pending shard must show a sign of life:
--   - leased_by set: a consumer holds the shard and renews its lease while it works;
--   - leased_by NULL: the shard's message is in the queue, and must be picked up by then.
-- The cron job sends again the pending shards past their time (resends: how many times, each waiting longer).
ALTER TABLE evaluation_shards ADD COLUMN leased_by TEXT;
ALTER TABLE evaluation_shards ADD COLUMN leased_until INTEGER;
ALTER TABLE evaluation_shards ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;

-- Shards pending before leases existed are due at once: the next cron run sends them again (shards are idempotent).
UPDATE evaluation_shards SET leased_until = 0 WHERE state = 'pending';

-- Only pending shards are ever due, and they are few: the cron job's query reads this small index.
CREATE INDEX evaluation_shards_due ON evaluation_shards (leased_until) WHERE state = 'pending';
