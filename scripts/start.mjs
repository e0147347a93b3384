#!/usr/bin/env node
// `npm start`: the service on local D1/R2 (state in .wrangler/state), migrations applied, URL printed.
// ISV_PORT (default 8787) and ISV_HOST (default 127.0.0.1) choose where it listens.
import { startDevServer } from "./dev-server.mjs";

const port = Number(process.env.ISV_PORT ?? 8787);
const host = process.env.ISV_HOST ?? "127.0.0.1";
const server = await startDevServer({ port, host, log: (line) => console.log(`[wrangler] ${line}`) });
console.log(`\nisv is running at ${server.url}  (API document: ${server.url}/openapi.json; Ctrl-C stops it)\n`);
const shutdown = async () => {
  await server.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
