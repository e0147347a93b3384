/** Scored texts by content key, shared by every evaluation: a prompt scored once is never paid for again. */
import type { ScoredText } from "../evaluate/metrics";
import { chunk } from "./d1-chunks";
import { readStoredJson } from "./stored-json";

export async function cachedScores(db: D1Database, keys: string[]): Promise<Map<string, ScoredText>> {
  const found = new Map<string, ScoredText>();
  const parts = chunk([...new Set(keys)], 90);
  if (parts.length === 0) return found;
  const answers = await db.batch<{ key: string; scored_json: string }>(
    parts.map((part) =>
      db
        .prepare(
          `SELECT key, scored_json FROM score_cache WHERE key IN (${part.map((_, i) => `?${i + 1}`).join(", ")})`,
        )
        .bind(...part),
    ),
  );
  for (const answer of answers)
    for (const row of answer.results) found.set(row.key, readStoredJson<ScoredText>(row.scored_json));
  return found;
}

export function cacheStatements(db: D1Database, entries: [string, ScoredText][]): D1PreparedStatement[] {
  const now = new Date().toISOString();
  return chunk(entries, 30).map((part) =>
    db
      .prepare(
        `INSERT OR IGNORE INTO score_cache (key, scored_json, created_at) VALUES ${part.map((_, i) => `(?${i * 3 + 1}, ?${i * 3 + 2}, ?${i * 3 + 3})`).join(", ")}`,
      )
      .bind(...part.flatMap(([key, scored]) => [key, JSON.stringify(scored), now])),
  );
}
