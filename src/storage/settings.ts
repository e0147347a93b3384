import { readStoredJson } from "./stored-json";
import {
  completeSettings,
  defaultSettings,
  storedDocument,
  type CompetitionSettings,
  type SettingsDocument,
  type StoredSettingsDocument,
  type SettingsVars,
} from "../competition/settings";

/**
 * The newest saved settings document, or undefined if no admin has saved any. Documents saved before a field
 * existed lack it: `settingsInForce` completes them. One saved before the intake limits loses its null budget, so
 * the default applies (storedDocument).
 */
export async function savedSettings(
  db: D1Database,
): Promise<{ settings: StoredSettingsDocument; savedAt: string; version: number } | undefined> {
  const row = await db
    .prepare("SELECT id, created_at, settings_json FROM competition_settings ORDER BY id DESC LIMIT 1")
    .first<{ id: number; created_at: string; settings_json: string }>();
  return row
    ? {
        settings: storedDocument(readStoredJson<SettingsDocument>(row.settings_json)),
        savedAt: row.created_at,
        version: row.id,
      }
    : undefined;
}

export function saveSettingsStatement(
  db: D1Database,
  settings: CompetitionSettings,
  actor: string,
  at: string,
): D1PreparedStatement {
  return db
    .prepare("INSERT INTO competition_settings (created_at, actor, settings_json) VALUES (?1, ?2, ?3)")
    .bind(at, actor, JSON.stringify(settings));
}

/** The rules in force: the newest saved settings (completed from the defaults), else the Worker's vars. */
export async function settingsInForce(env: { DB: D1Database } & SettingsVars): Promise<CompetitionSettings> {
  const saved = await savedSettings(env.DB);
  return saved ? completeSettings(saved.settings, env) : defaultSettings(env);
}
