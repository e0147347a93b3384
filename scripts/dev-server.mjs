// Starts the service locally as `npm start` does: applies D1 migrations to the local state, then runs
// `wrangler dev` and waits until it answers. Shared by scripts/start.mjs and the end-to-end test.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** Offline and quiet: wrangler otherwise tries the network for telemetry and update checks (../shared/STACK.md). */
export const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  NO_COLOR: "1",
};

/** How often the dev server calls the service's scheduled handler, as the deployed cron runs (wrangler.toml). */
export const LOCAL_CRON_MS = 60_000;

/**
 * The cron name of the dev server's first call, once wrangler dev has started (src/evaluate/local-restart.ts has the
 * same name): a restart loses the local queue's messages and every consumer, so the service sends again at once every
 * shard that was pending, instead of waiting for their leases to run out.
 */
export const LOCAL_RESTART_CRON = "local-restart";

/** The reference model family's Worker (its own wrangler config, no storage). */
export const REFERENCE_CONFIG = join(root, "src", "reference", "wrangler.toml");

/**
 * `scheduledEveryMs`: call the Worker's scheduled handler at start (as LOCAL_RESTART_CRON) and then this often
 * (wrangler dev runs no cron triggers). `processGroup`: run wrangler dev in a process group of its own, so that
 * `kill()` ends it and the runtime it started at once (SIGKILL to the group), as a crash would, and `stop()` asks
 * both to shut down. (Off for `npm start`, whose terminal signals reach them directly.)
 * @param {{ config?: string, port?: number, host?: string, persistTo?: string, vars?: Record<string, string>, log?: (line: string) => void, scheduledEveryMs?: number, processGroup?: boolean }} options
 * @returns {Promise<{ url: string, stop: () => Promise<void>, kill: () => Promise<void> }>}
 */
export async function startDevServer({
  config,
  port = 8787,
  host = "127.0.0.1",
  persistTo,
  vars = {},
  log = () => {},
  scheduledEveryMs,
  processGroup = false,
} = {}) {
  const persist = persistTo ? ["--persist-to", persistTo] : [];
  const configArgs = config ? ["--config", config] : [];
  if (!config) {
    const migrate = spawnSync(process.execPath, [wrangler, "d1", "migrations", "apply", "DB", "--local", ...persist], {
      cwd: root,
      env: WRANGLER_ENV,
      encoding: "utf8",
    });
    if (migrate.status !== 0) throw new Error(`applying D1 migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
    log("D1 migrations applied to the local database");
  }

  const varArgs = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const child = spawn(
    process.execPath,
    [
      wrangler,
      "dev",
      ...configArgs,
      "--ip",
      host,
      "--port",
      String(port),
      "--inspector-port",
      "0",
      "--show-interactive-dev-session=false",
      ...persist,
      ...varArgs,
    ],
    { cwd: root, env: WRANGLER_ENV, stdio: ["ignore", "pipe", "pipe"], detached: processGroup },
  );
  let output = "";
  const collect = (chunk) => {
    output += chunk;
    for (const line of String(chunk).split("\n")) if (line.trim()) log(line);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise((resolve) => child.once("exit", resolve));

  const url = `http://${host}:${port}`;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let cron;
  /** Signals wrangler dev, and with `processGroup` the runtime it started too (as Ctrl-C in a terminal does). */
  const signal = async (name) => {
    clearInterval(cron);
    if (child.exitCode === null && child.pid !== undefined) {
      if (processGroup) process.kill(-child.pid, name);
      else child.kill(name);
    }
    await exited;
  };
  const stop = () => signal("SIGTERM");
  const kill = () => signal("SIGKILL");
  const runScheduled = (cronName = "* * * * *") =>
    fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(cronName)}`).then(
      (response) => response.body?.cancel(),
      (error) => log(`scheduled handler not reached: ${error}`),
    );
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/`)).ok) {
        if (scheduledEveryMs !== undefined) {
          // Before anyone else uses it: a shard started from now on is not one the restart left behind.
          await runScheduled(LOCAL_RESTART_CRON);
          cron = setInterval(runScheduled, scheduledEveryMs);
          cron.unref();
        }
        return { url, stop, kill };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url} within 60 s:\n${output}`);
}

/** A port nothing listens on now, for a server a test or benchmark starts. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
