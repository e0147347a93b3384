/** Per-example results of an evaluation, one row per model and example. */
import type { ExampleMetrics } from "../evaluate/metrics";
import { chunk } from "./d1-chunks";
import { leaseHeldParams, leaseHeldSql, type ShardLease } from "./shards";
import { readStoredJson } from "./stored-json";

/**
 * Statements writing a shard's per-example results. With `heldBy`, they write only while that lease is held (see
 * leaseHeldSql): 19 rows a statement then, so the lease's four parameters keep it within D1's 100.
 */
export function resultStatements(
  db: D1Database,
  evaluationId: string,
  model: string,
  rows: { index: number; flag: string | null; metrics: ExampleMetrics | null }[],
  heldBy?: ShardLease,
): D1PreparedStatement[] {
  return chunk(rows, heldBy ? 19 : 20).map((part) => {
    const values = part.map((_, i) => `(?${i * 5 + 1}, ?${i * 5 + 2}, ?${i * 5 + 3}, ?${i * 5 + 4}, ?${i * 5 + 5})`);
    const into = "INSERT OR REPLACE INTO evaluation_results (evaluation_id, model, example_index, flag, metrics_json)";
    return db
      .prepare(
        heldBy
          ? `${into} SELECT * FROM (VALUES ${values.join(", ")}) WHERE ${leaseHeldSql(part.length * 5 + 1)}`
          : `${into} VALUES ${values.join(", ")}`,
      )
      .bind(
        ...part.flatMap((row) => [
          evaluationId,
          model,
          row.index,
          row.flag,
          row.metrics ? JSON.stringify(row.metrics) : null,
        ]),
        ...(heldBy ? leaseHeldParams(heldBy) : []),
      );
  });
}

export interface ResultRow {
  model: string;
  index: number;
  flag: string | null;
  metrics: ExampleMetrics | null;
}

export async function listResults(db: D1Database, evaluationId: string): Promise<ResultRow[]> {
  const { results } = await db
    .prepare(
      "SELECT model, example_index, flag, metrics_json FROM evaluation_results WHERE evaluation_id = ?1 ORDER BY model, example_index",
    )
    .bind(evaluationId)
    .all<{ model: string; example_index: number; flag: string | null; metrics_json: string | null }>();
  return results.map((row) => ({
    model: row.model,
    index: row.example_index,
    flag: row.flag,
    metrics: row.metrics_json ? readStoredJson<ExampleMetrics>(row.metrics_json) : null,
  }));
}

/** Per model: examples stored, and over those with a number for `metric`, their count, mean and squared deviations. */
export interface ModelTally {
  model: string;
  done: number;
  scored: number;
  mean: number | null;
  squaredDeviations: number | null;
  flagged: Record<string, number>;
}

/**
 * Progress and one metric's moments per model (a column of the stored metrics), aggregated in SQL: polling
 * clients ask for this every few hundred milliseconds while the consumer writes, so it must not read every result
 * row into the isolate.
 * Two passes (mean, then squared deviations) keep the variance exact where a sum of squares would cancel.
 */
export async function modelTallies(db: D1Database, evaluationId: string, metric: string | null): Promise<ModelTally[]> {
  const path = metric === null ? null : `$.${metric}`; // no metric: progress only, nothing scored
  const [moments, flags] = await db.batch([
    db
      .prepare(
        `WITH v AS (SELECT model, json_extract(metrics_json, ?2) AS x FROM evaluation_results WHERE evaluation_id = ?1),
              m AS (SELECT model, AVG(x) AS mean FROM v GROUP BY model)
         SELECT v.model AS model, COUNT(*) AS done, COUNT(v.x) AS scored, m.mean AS mean, SUM((v.x - m.mean) * (v.x - m.mean)) AS ss
         FROM v JOIN m ON m.model = v.model GROUP BY v.model`,
      )
      .bind(evaluationId, path),
    db
      .prepare(
        "SELECT model, flag, COUNT(*) AS n FROM evaluation_results WHERE evaluation_id = ?1 AND flag IS NOT NULL GROUP BY model, flag",
      )
      .bind(evaluationId),
  ]);
  const flagged = new Map<string, Record<string, number>>();
  for (const row of (flags as D1Result<{ model: string; flag: string; n: number }>).results)
    flagged.set(row.model, { ...flagged.get(row.model), [row.flag]: row.n });
  return (
    moments as D1Result<{ model: string; done: number; scored: number; mean: number | null; ss: number | null }>
  ).results.map((row) => ({
    model: row.model,
    done: row.done,
    scored: row.scored,
    mean: row.scored > 0 ? row.mean : null,
    squaredDeviations: row.scored > 0 ? row.ss : null,
    flagged: flagged.get(row.model) ?? {},
  }));
}
