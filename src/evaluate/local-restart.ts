/**
 * The cron name the local dev server (scripts/dev-server.mjs, which has the same name) gives the scheduled handler
 * once wrangler dev has started: a local restart loses the queue's messages and every consumer, so every pending
 * shard is sent again at once. Deployed, the handler only ever gets wrangler.toml's crons.
 */
export const LOCAL_RESTART_CRON = "local-restart";
