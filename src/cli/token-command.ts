import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { newToken } from "../util/secret-tokens";
import { insertApiTokenSql, type Role } from "../storage/api-token-records";
import { sha256Hex } from "../util/hash";
import { UsageError, parseCommandArgs, type CommandUsage } from "./args";

export const TOKEN_USAGE = `Usage: isv token create --role organiser|admin [--label TEXT] [--persist-to DIR] [--remote]

Creates an organiser or admin API token in the service's D1 database (the local one, as npm start uses, unless
--remote) and prints it once, alone on stdout. Only its SHA-256 hash is stored.`;

const TOKEN: CommandUsage = { prefix: "isv token", usage: TOKEN_USAGE };

const ATTEMPTS = 3;
/** A local wrangler command takes 2-5 s; one that has not finished in 30 s is stuck, not slow. */
const LOCAL_ATTEMPT_MS = 30_000;
const REMOTE_ATTEMPT_MS = 120_000;

/**
 * Runs a command in its own process group and kills the whole group (wrangler and the workerd it starts) if it
 * outlives `limitMs`. Resolves with the exit status (null when killed) and the combined output.
 */
export function runBounded(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  limitMs: number,
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: projectRoot(), env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n(no answer after ${limitMs / 1000} s: stopped)`;
      try {
        // Without a pid the child never started (its error event says so); the negative pid is its process group.
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, limitMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ status: null, output: output + String(error) });
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/** The project the CLI was installed in: dist/isv.mjs sits one level below it. */
const projectRoot = (): string => join(dirname(fileURLToPath(import.meta.url)), "..");

export async function tokenCommand(
  args: string[],
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const [action, ...rest] = args;
  if (action !== "create")
    throw new UsageError(action ? `unknown token action "${action}"` : "say what to do: isv token create", TOKEN);
  const { values } = parseCommandArgs(TOKEN, {
    args: rest,
    options: {
      role: { type: "string" },
      label: { type: "string", default: "" },
      "persist-to": { type: "string" },
      remote: { type: "boolean", default: false },
    },
  });
  if (values.role !== "organiser" && values.role !== "admin")
    throw new UsageError("--role must be organiser or admin", TOKEN);
  const role: Role = values.role;
  const token = newToken("isv_ot_");
  const sql = insertApiTokenSql({
    id: crypto.randomUUID(),
    tokenHash: await sha256Hex(token),
    role,
    label: values.label ?? "",
    createdAt: new Date().toISOString(),
  });

  const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
  const where = values.remote
    ? ["--remote"]
    : ["--local", ...(values["persist-to"] ? ["--persist-to", values["persist-to"]] : [])];
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    NO_COLOR: "1",
  };
  const run = async (wranglerArgs: string[]): Promise<void> => {
    // A local database busy with a running service's writes can refuse briefly, and a local wrangler command can
    // hang outright (wrangler has no time limit of its own): each attempt is bounded, then retried.
    let result = await runBounded(
      process.execPath,
      [wrangler, ...wranglerArgs],
      env,
      values.remote ? REMOTE_ATTEMPT_MS : LOCAL_ATTEMPT_MS,
    );
    for (let attempt = 1; result.status !== 0 && attempt < ATTEMPTS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      result = await runBounded(
        process.execPath,
        [wrangler, ...wranglerArgs],
        env,
        values.remote ? REMOTE_ATTEMPT_MS : LOCAL_ATTEMPT_MS,
      );
    }
    if (result.status !== 0)
      throw new Error(`wrangler ${wranglerArgs.slice(0, 3).join(" ")} failed:\n${result.output}`);
  };
  if (!values.remote) {
    await run(["d1", "migrations", "apply", "DB", ...where]);
    err("isv: local D1 migrations are applied");
  }
  await run(["d1", "execute", "DB", ...where, "--command", sql]);
  err(`isv: created an ${role} token${values.label ? ` (${values.label})` : ""}; it is shown only now:`);
  out(token);
  return 0;
}
