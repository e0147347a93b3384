import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { newToken, ORGANISER_TOKEN_PREFIX } from "../util/secret-tokens";
import {
  type ApiTokenListing,
  insertApiTokenSql,
  LIST_API_TOKENS_SQL,
  revokeApiTokenSql,
  type Role,
} from "../storage/api-token-records";
import { sha256Hex } from "../util/hash";
import { UsageError, parseCommandArgs, type CommandUsage } from "./args";

export const TOKEN_USAGE = `Usage: isv token create --role organiser|admin [--label TEXT] [WHERE]
       isv token list [WHERE]
       isv token revoke ID [WHERE]
WHERE: [--persist-to DIR] [--remote]

Manages organiser and admin API tokens in the service's D1 database (the local one, as npm start uses, unless
--remote). create prints the new token once, alone on stdout (its id on stderr); only its SHA-256 hash is stored.
list prints every token's id, role, label, creation and revocation time (never a hash). revoke ID stops that token
at once; its record stays for the audit trail. To rotate, create a new token, then revoke the old one.`;

const TOKEN: CommandUsage = { prefix: "isv token", usage: TOKEN_USAGE };

const ATTEMPTS = 3;
/** A local wrangler command takes 2-5 s; one that has not finished in 30 s is stuck, not slow. */
const LOCAL_ATTEMPT_MS = 30_000;
const REMOTE_ATTEMPT_MS = 120_000;

/**
 * Runs a command in its own process group and kills the whole group (wrangler and the workerd it starts) if it
 * outlives `limitMs`. Resolves with the exit status (null when killed), the combined output and stdout alone.
 */
export function runBounded(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  limitMs: number,
): Promise<{ status: number | null; output: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: projectRoot(), env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
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
      resolve({ status: null, output: output + String(error), stdout });
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output, stdout });
    });
  });
}

/** The project the CLI was installed in: dist/isv.mjs sits one level below it. */
const projectRoot = (): string => join(dirname(fileURLToPath(import.meta.url)), "..");

interface Where {
  remote: boolean;
  persistTo: string | undefined;
}

const WHERE_OPTIONS = {
  "persist-to": { type: "string" },
  remote: { type: "boolean", default: false },
} as const;

export async function tokenCommand(
  args: string[],
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const [action, ...rest] = args;
  if (action === "create") return createToken(rest, out, err);
  if (action === "list") return listTokens(rest, out, err);
  if (action === "revoke") return revokeToken(rest, out, err);
  throw new UsageError(action ? `unknown token action "${action}"` : "say what to do: create, list or revoke", TOKEN);
}

async function createToken(args: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { values } = parseCommandArgs(TOKEN, {
    args,
    options: { role: { type: "string" }, label: { type: "string", default: "" }, ...WHERE_OPTIONS },
  });
  if (values.role !== "organiser" && values.role !== "admin")
    throw new UsageError("--role must be organiser or admin", TOKEN);
  const role: Role = values.role;
  const token = newToken(ORGANISER_TOKEN_PREFIX);
  const id = crypto.randomUUID();
  const sql = insertApiTokenSql({
    id,
    tokenHash: await sha256Hex(token),
    role,
    label: values.label ?? "",
    createdAt: new Date().toISOString(),
  });
  await executeSql({ remote: values.remote, persistTo: values["persist-to"] }, sql, err);
  err(`isv: created an ${role} token${values.label ? ` (${values.label})` : ""}, id ${id}; it is shown only now:`);
  out(token);
  return 0;
}

async function listTokens(args: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { values } = parseCommandArgs(TOKEN, { args, options: WHERE_OPTIONS });
  const rows = await executeSql({ remote: values.remote, persistTo: values["persist-to"] }, LIST_API_TOKENS_SQL, err);
  out(formatTokenList(rows.filter(isTokenListing)));
  return 0;
}

async function revokeToken(args: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(TOKEN, { args, options: WHERE_OPTIONS, allowPositionals: true });
  const [id, ...extra] = positionals;
  if (id === undefined || extra.length > 0) throw new UsageError("give exactly one token ID (isv token list)", TOKEN);
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new UsageError(`${id} is not a token id (isv token list shows them)`, TOKEN);
  const where = { remote: values.remote, persistTo: values["persist-to"] };
  await executeSql(where, revokeApiTokenSql(id, new Date().toISOString()), err);
  const [record] = (await executeSql(where, LIST_API_TOKENS_SQL, err))
    .filter(isTokenListing)
    .filter((row) => row.id === id);
  if (!record) {
    err(`isv: no token has the id ${id}`);
    return 1;
  }
  out(`revoked ${id} (${record.role}${record.label ? `, ${record.label}` : ""}) at ${record.revokedAt ?? "?"}`);
  return 0;
}

const isTokenListing = (row: unknown): row is ApiTokenListing =>
  typeof row === "object" &&
  row !== null &&
  "id" in row &&
  typeof row.id === "string" &&
  "role" in row &&
  (row.role === "organiser" || row.role === "admin") &&
  "label" in row &&
  typeof row.label === "string" &&
  "createdAt" in row &&
  typeof row.createdAt === "string" &&
  "revokedAt" in row &&
  (row.revokedAt === null || typeof row.revokedAt === "string");

/** One line per token, live ones marked, for a terminal. */
export function formatTokenList(tokens: ApiTokenListing[]): string {
  if (tokens.length === 0) return "no tokens";
  return tokens
    .map((token) =>
      [
        token.id,
        token.role.padEnd(9),
        token.revokedAt ? `revoked ${token.revokedAt}` : "live",
        `created ${token.createdAt}`,
        token.label,
      ]
        .filter(Boolean)
        .join("  "),
    )
    .join("\n");
}

/** Local databases this process has migrated: once is enough. */
const migrated = new Set<string>();

/**
 * Runs one SQL statement through wrangler on the local (migrated first) or remote database, and returns the rows
 * it read. A local database busy with a running service's writes can refuse briefly, and a local wrangler command
 * can hang outright (wrangler has no time limit of its own): each attempt is bounded, then retried.
 */
async function executeSql(where: Where, sql: string, err: (text: string) => void): Promise<unknown[]> {
  const location = where.remote
    ? ["--remote"]
    : ["--local", ...(where.persistTo ? ["--persist-to", where.persistTo] : [])];
  if (!where.remote && !migrated.has(where.persistTo ?? "")) {
    await runWrangler(["d1", "migrations", "apply", "DB", ...location], where.remote);
    migrated.add(where.persistTo ?? "");
    err("isv: local D1 migrations are applied");
  }
  const output = await runWrangler(["d1", "execute", "DB", ...location, "--json", "--command", sql], where.remote);
  return rowsOf(output);
}

/** The rows of `wrangler d1 execute --json`'s answer: an array of statement results, each with `results`. */
function rowsOf(output: string): unknown[] {
  const start = output.indexOf("[");
  if (start < 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.slice(start));
  } catch {
    throw new Error(`wrangler d1 execute gave no JSON:\n${output}`);
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((statement: unknown) =>
    typeof statement === "object" && statement !== null && "results" in statement && Array.isArray(statement.results)
      ? statement.results
      : [],
  );
}

async function runWrangler(wranglerArgs: string[], remote: boolean): Promise<string> {
  const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    NO_COLOR: "1",
  };
  const limit = remote ? REMOTE_ATTEMPT_MS : LOCAL_ATTEMPT_MS;
  let result = await runBounded(process.execPath, [wrangler, ...wranglerArgs], env, limit);
  for (let attempt = 1; result.status !== 0 && attempt < ATTEMPTS; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    result = await runBounded(process.execPath, [wrangler, ...wranglerArgs], env, limit);
  }
  if (result.status !== 0) throw new Error(`wrangler ${wranglerArgs.slice(0, 3).join(" ")} failed:\n${result.output}`);
  return result.stdout;
}
