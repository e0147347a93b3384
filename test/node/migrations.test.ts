import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WRANGLER_ENV } from "../../scripts/dev-server.mjs";
import { defined } from "../defined";
import { ROOT } from "./helpers";

/**
 * The headline-metric migration, run by wrangler's own migration runner (as `npm start` and deployments run it) on
 * a local database that already holds submissions: first every migration before it, then rows as earlier
 * versions wrote them, then the rest.
 */
const HEADLINE_MIGRATION = "0008_headline_metric.sql";
const run = promisify(execFile);
const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** Existing rows: id → [task_type, the metadata's taskType (the declared name, or none)]. */
const EXISTING: Record<string, [string, string | null]> = {
  "declared-acc": ["classification", "classification_acc"],
  "declared-loss": ["classification", "classification_loss"],
  "declared-plain": ["classification", "classification"],
  "no-declared-name": ["classification", null],
  sequence: ["sequence_prob", "sequence_prob"],
  logodds: ["logodds", "logodds"],
  absolute: ["absolute_logodds", "absolute_logodds"],
  numeric: ["numeric", "numeric"],
};

describe(`migration ${HEADLINE_MIGRATION}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "isv-migrations-"));
  const migrations = join(dir, "migrations");
  const state = join(dir, "state");
  const config = join(dir, "wrangler.toml");
  const d1 = (...args: string[]) =>
    run(process.execPath, [wrangler, "d1", ...args, "DB", "--local", "--config", config, "--persist-to", state], {
      cwd: dir,
      env: WRANGLER_ENV,
    });
  const query = async <T>(sql: string): Promise<T[]> => {
    const { stdout } = await d1("execute", "--json", "--command", sql);
    const [statement] = JSON.parse(stdout) as { results: T[] }[];
    return defined(statement, `wrangler's results for ${sql}`).results;
  };
  let headline: Map<string, string | null>;
  let applied: string[];

  beforeAll(async () => {
    mkdirSync(migrations);
    writeFileSync(
      config,
      `name = "isv-migrations-test"\ncompatibility_date = "2026-04-20"\n\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "isv"\ndatabase_id = "00000000-0000-4000-8000-000000000000"\nmigrations_dir = "migrations"\n`,
    );
    const all = readdirSync(join(ROOT, "migrations"))
      .filter((name) => name.endsWith(".sql"))
      .sort();
    const copy = (names: string[]) => {
      for (const name of names) copyFileSync(join(ROOT, "migrations", name), join(migrations, name));
    };
    copy(all.filter((name) => name < HEADLINE_MIGRATION));
    await d1("migrations", "apply");
    const rows = Object.entries(EXISTING).map(([id, [taskType, declared]], i) => {
      const metadata = JSON.stringify({ title: `Existing ${id}`, ...(declared ? { taskType: declared } : {}) }).replace(
        /'/g,
        "''",
      );
      return `('${id}', '2026-01-0${i + 1}T00:00:00Z', '2026-01-0${i + 1}T00:00:00Z', 'valid', '${taskType}', 'Existing ${id}', '${metadata}', '${"0".repeat(63)}${i}', 'csv/${i}.csv', 10, 'examples/${i}.jsonl', 300, '{}', 'hash')`;
    });
    await d1(
      "execute",
      "--command",
      `INSERT INTO submissions (id, created_at, updated_at, state, task_type, title, metadata_json, csv_sha256, csv_key, csv_bytes, examples_key, example_count, report_json, submitter_token_hash) VALUES ${rows.join(", ")}`,
    );
    copy(all.filter((name) => name >= HEADLINE_MIGRATION));
    await d1("migrations", "apply");
    headline = new Map(
      (await query<{ id: string; headline_metric: string | null }>("SELECT id, headline_metric FROM submissions")).map(
        (row) => [row.id, row.headline_metric],
      ),
    );
    applied = (await query<{ name: string }>("SELECT name FROM d1_migrations ORDER BY id")).map((row) => row.name);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is applied by wrangler's migration runner after the earlier ones", () => {
    expect(applied.slice(0, applied.indexOf(HEADLINE_MIGRATION) + 1)).toEqual(
      readdirSync(join(ROOT, "migrations"))
        .filter((name) => name.endsWith(".sql") && name <= HEADLINE_MIGRATION)
        .sort(),
    );
  });

  it("backfills an existing row declared classification_acc with accuracy", () => {
    expect(headline.get("declared-acc")).toBe("accuracy");
  });

  it("backfills the other classification rows (classification_loss, classification, no name) with loss", () => {
    expect(["declared-loss", "declared-plain", "no-declared-name"].map((id) => headline.get(id))).toEqual([
      "loss",
      "loss",
      "loss",
    ]);
  });

  it("backfills the other types with their default metric, and numeric rows with none", () => {
    expect(["sequence", "logodds", "absolute", "numeric"].map((id) => headline.get(id))).toEqual([
      "loss",
      "logodds_difference",
      "absolute_logodds_difference",
      null,
    ]);
  });
});

/**
 * The shard-lease migration on a database that already holds an evaluation: its pending shards are due at once
 * (the next cron run sends them again), its settled ones get no time.
 */
const LEASE_MIGRATION = "0010_shard_leases.sql";

describe(`migration ${LEASE_MIGRATION}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "isv-migrations-"));
  const migrations = join(dir, "migrations");
  const config = join(dir, "wrangler.toml");
  const d1 = (...args: string[]) =>
    run(
      process.execPath,
      [wrangler, "d1", ...args, "DB", "--local", "--config", config, "--persist-to", join(dir, "state")],
      { cwd: dir, env: WRANGLER_ENV },
    );
  let shards: { shard: number; state: string; leased_by: string | null; leased_until: number | null }[];

  beforeAll(async () => {
    mkdirSync(migrations);
    writeFileSync(
      config,
      `name = "isv-migrations-test"\ncompatibility_date = "2026-04-20"\n\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "isv"\ndatabase_id = "00000000-0000-4000-8000-000000000000"\nmigrations_dir = "migrations"\n`,
    );
    const all = readdirSync(join(ROOT, "migrations"))
      .filter((name) => name.endsWith(".sql"))
      .sort();
    const copy = (names: string[]) => {
      for (const name of names) copyFileSync(join(ROOT, "migrations", name), join(migrations, name));
    };
    copy(all.filter((name) => name < LEASE_MIGRATION));
    await d1("migrations", "apply");
    const at = "2026-01-01T00:00:00Z";
    await d1(
      "execute",
      "--command",
      `INSERT INTO submissions (id, created_at, updated_at, state, task_type, title, metadata_json, csv_sha256, csv_key, csv_bytes, examples_key, example_count, report_json, submitter_token_hash)
         VALUES ('s', '${at}', '${at}', 'valid', 'classification', 'S', '{}', '${"0".repeat(64)}', 'csv/s', 10, 'examples/s', 300, '{}', 'hash');
       INSERT INTO evaluations (id, submission_id, family, family_json, state, created_at, updated_at, estimate_json)
         VALUES ('e', 's', 'f', '{}', 'evaluating', '${at}', '${at}', '[]');
       INSERT INTO evaluation_shards (evaluation_id, model, shard, first_example, end_example, state, updated_at)
         VALUES ('e', 'm', 0, 0, 100, 'done', '${at}'), ('e', 'm', 1, 100, 200, 'pending', '${at}');`,
    );
    copy(all.filter((name) => name >= LEASE_MIGRATION));
    await d1("migrations", "apply");
    const { stdout } = await d1(
      "execute",
      "--json",
      "--command",
      "SELECT shard, state, leased_by, leased_until FROM evaluation_shards ORDER BY shard",
    );
    const [statement] = JSON.parse(stdout) as { results: typeof shards }[];
    shards = defined(statement, "wrangler's results").results;
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("makes an existing pending shard due at once, held by no consumer", () => {
    expect(shards[1]).toEqual({ shard: 1, state: "pending", leased_by: null, leased_until: 0 });
  });

  it("gives an existing settled shard no time", () => {
    expect(shards[0]).toEqual({ shard: 0, state: "done", leased_by: null, leased_until: null });
  });
});
