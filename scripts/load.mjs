#!/usr/bin/env node
// `npm run load`: drives the local stack (`wrangler dev`, as `npm start` runs it) from this second process with
// autocannon, one route at a time, each for LOAD_SECONDS (default 10) with LOAD_CONNECTIONS (default 10) open
// connections. Prints requests/s, p50/p99 latency and errors per route, and the leaderboard's throughput as a
// ratio to a trivial route of the same Worker measured in the same run; writes bench/out/load.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { freePort, startDevServer } from "./dev-server.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const SECONDS = Number(process.env.LOAD_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 10);
const OUT = join(ROOT, "bench", "out");

const METADATA = JSON.parse(readFileSync(join(ROOT, "fixtures", "metadata", "classification.json"), "utf8"));
const TASK = readFileSync(join(ROOT, "fixtures", "tasks", "valid", "classification.csv"), "utf8");

/** A multipart upload of the valid classification task with one extra example, so its bytes are new each time. */
function uploadBody(tag) {
  const boundary = `----isvload${tag.replace(/-/g, "")}`;
  const csv = `${TASK.trimEnd()}\n99999,"Load test ${tag}: is this a new example?","[' yes', ' no']",0\n`;
  const body = [
    `--${boundary}`,
    'Content-Disposition: form-data; name="metadata"',
    "Content-Type: application/json",
    "",
    JSON.stringify({ ...METADATA, title: `Load ${tag}` }),
    `--${boundary}`,
    'Content-Disposition: form-data; name="file"; filename="task.csv"',
    "Content-Type: text/csv",
    "",
    csv,
    `--${boundary}--`,
    "",
  ].join("\r\n");
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

function run(name, options) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options }, (error, result) => {
      if (error) reject(error);
      else
        resolve({
          route: name,
          requestsPerSecond: result.requests.average,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          requests: result.requests.total,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          statusCounts: result.statusCodeStats,
        });
    });
  });
}

const state = mkdtempSync(join(tmpdir(), "isv-load-"));
// No automatic evaluations (this measures the HTTP side) and, since every request comes from this one address,
// room for every upload the run makes (the per-client limit is tested, not measured, here).
const server = await startDevServer({
  port: await freePort(),
  persistTo: state,
  vars: { DEFAULT_FAMILIES: "", UPLOADS_PER_HOUR: "1000000", ...JSON.parse(process.env.LOAD_VARS ?? "{}") },
});
try {
  const seeded = uploadBody(crypto.randomUUID());
  const created = await fetch(`${server.url}/v1/submissions`, {
    method: "POST",
    body: seeded.body,
    headers: { "content-type": seeded.contentType },
  });
  if (created.status !== 201) throw new Error(`seeding upload answered ${created.status}: ${await created.text()}`);
  const { id, submitterToken } = await created.json();

  const results = [];
  const routes = [
    ["GET /healthz (trivial route, the baseline)", { url: `${server.url}/healthz` }],
    ["GET /v1/leaderboard (JSON)", { url: `${server.url}/v1/leaderboard` }],
    ["GET / (leaderboard page)", { url: `${server.url}/` }],
    [
      "GET /v1/submissions/{id} (status, submitter token)",
      { url: `${server.url}/v1/submissions/${id}`, headers: { authorization: `Bearer ${submitterToken}` } },
    ],
    [
      "POST /v1/submissions (distinct uploads)",
      {
        url: `${server.url}/v1/submissions`,
        method: "POST",
        requests: [
          {
            setupRequest: (request) => {
              const upload = uploadBody(crypto.randomUUID());
              return { ...request, body: upload.body, headers: { "content-type": upload.contentType } };
            },
          },
        ],
      },
    ],
  ];
  for (const [name, options] of routes) {
    process.stderr.write(`load: ${name} for ${SECONDS} s with ${CONNECTIONS} connections\n`);
    results.push(await run(name, options));
  }
  const [trivial, leaderboard] = results;
  const ratio = leaderboard.requestsPerSecond / trivial.requestsPerSecond;
  console.log("| route | requests/s | p50 ms | p99 ms | requests | errors | non-2xx |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results)
    console.log(
      `| ${r.route} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms} | ${r.p99Ms} | ${r.requests} | ${r.errors} | ${r.non2xx} |`,
    );
  console.log(`\nleaderboard JSON throughput / trivial route: ${ratio.toFixed(2)}x (target >= 0.8x)`);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(
    join(OUT, "load.json"),
    JSON.stringify(
      { date: new Date().toISOString(), seconds: SECONDS, connections: CONNECTIONS, leaderboardRatio: ratio, results },
      null,
      2,
    ),
  );
} finally {
  await server.stop();
  rmSync(state, { recursive: true, force: true });
}
