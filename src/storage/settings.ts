import { readStoredJson } from "./stored-json";
import { defaultSettings, type CompetitionSettings, type SettingsVars } from "../competition/settings";

/** The settings in force (the newest saved), or undefined if no admin has saved any. */
export async function savedSettings(
  db: D1Database,
): Promise<{ settings: CompetitionSettings; savedAt: string; version: number } | undefined> {
  const row = await db
    .prepare("SELECT id, created_at, settings_json FROM competition_settings ORDER BY id DESC LIMIT 1")
    .first<{ id: number; created_at: string; settings_json: string }>();
  return row
    ? { settings: readStoredJson<CompetitionSettings>(row.settings_json), savedAt: row.created_at, version: row.id }
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

/** The rules in force: the newest saved settings, else the defaults from the Worker's vars. */
export async function settingsInForce(env: { DB: D1Database } & SettingsVars): Promise<CompetitionSettings> {
  return (await savedSettings(env.DB))?.settings ?? defaultSettings(env);
}
