#!/usr/bin/env node
// `npm start`: the reference model family (port 8788) and the service (port 8787) on local D1/R2, migrations
// applied, URLs printed. ISV_HOST (default 127.0.0.1), ISV_PORT (8787) and ISV_REFERENCE_PORT (8788) choose
// where they listen; the service is told the reference family's URL.
import { LOCAL_CRON_MS, REFERENCE_CONFIG, startDevServer } from "./dev-server.mjs";

const host = process.env.ISV_HOST ?? "127.0.0.1";
const port = Number(process.env.ISV_PORT ?? 8787);
const referencePort = Number(process.env.ISV_REFERENCE_PORT ?? 8788);

const reference = await startDevServer({
  config: REFERENCE_CONFIG,
  host,
  port: referencePort,
  log: (line) => console.log(`[reference] ${line}`),
});
const service = await startDevServer({
  host,
  port,
  vars: { REFERENCE_BASE_URL: `${reference.url}/v1` },
  log: (line) => console.log(`[isv] ${line}`),
  // The cron trigger's work (resuming evaluations a restart left behind), which wrangler dev does not run.
  scheduledEveryMs: LOCAL_CRON_MS,
}).catch(async (error) => {
  await reference.stop();
  throw error;
});

console.log(`
isv is running at           ${service.url}   (API document: ${service.url}/openapi.json)
reference models at         ${reference.url}/v1   (GET /v1/models, POST /v1/completions)
Ctrl-C stops both.
`);
const shutdown = async () => {
  await Promise.all([service.stop(), reference.stop()]);
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
