/** Registered model families and which of a submission's families are private. */
import type { StoredFamily } from "../evaluate/stored-family";
import { readStoredJson } from "./stored-json";

export async function getFamily(db: D1Database, name: string): Promise<StoredFamily | undefined> {
  const row = await db
    .prepare("SELECT definition_json FROM families WHERE name = ?1")
    .bind(name)
    .first<{ definition_json: string }>();
  return row ? readStoredJson<StoredFamily>(row.definition_json) : undefined;
}

export async function listFamilies(db: D1Database): Promise<StoredFamily[]> {
  const { results } = await db
    .prepare("SELECT definition_json FROM families ORDER BY name")
    .all<{ definition_json: string }>();
  return results.map((row) => readStoredJson<StoredFamily>(row.definition_json));
}

export function putFamilyStatement(db: D1Database, family: StoredFamily): D1PreparedStatement {
  const now = new Date().toISOString();
  return db
    .prepare(
      "INSERT INTO families (name, definition_json, created_at, updated_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET definition_json = ?2, updated_at = ?3",
    )
    .bind(family.name, JSON.stringify(family), now);
}

/**
 * Names of a submission's families marked private, whether evaluated here or uploaded: their results are for
 * organisers only. The one place that decides it, for the leaderboard, public plots and the submitter's view.
 */
export async function privateFamilyNames(db: D1Database, submissionId: string): Promise<Set<string>> {
  const { results } = await db
    .prepare(
      "SELECT family_json FROM evaluations WHERE submission_id = ?1 UNION ALL SELECT family_json FROM external_results WHERE submission_id = ?1",
    )
    .bind(submissionId)
    .all<{ family_json: string }>();
  const names = new Set<string>();
  for (const row of results) {
    const definition = readStoredJson<{ name?: string; visibility?: string }>(row.family_json);
    if (definition.visibility === "private" && definition.name) names.add(definition.name);
  }
  return names;
}
