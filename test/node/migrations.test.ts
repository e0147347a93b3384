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
