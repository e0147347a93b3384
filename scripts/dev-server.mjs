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

/** The reference model family's Worker (its own wrangler config, no storage). */
export const REFERENCE_CONFIG = join(root, "src", "reference", "wrangler.toml");

/**
 * @param {{ config?: string, port?: number, host?: string, persistTo?: string, vars?: Record<string, string>, log?: (line: string) => void }} options
 * @returns {Promise<{ url: string, stop: () => Promise<void> }>}
 */
export async function startDevServer({
  config,
  port = 8787,
  host = "127.0.0.1",
  persistTo,
  vars = {},
  log = () => {},
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
    { cwd: root, env: WRANGLER_ENV, stdio: ["ignore", "pipe", "pipe"] },
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
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/`)).ok) return { url, stop };
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
