import { appendAudit } from "../storage/audit";
import { saveSettingsStatement, settingsInForce } from "../storage/settings";
import { roundProblems, type CompetitionSettings, type SettingsVars } from "./settings";

export type SaveSettingsOutcome =
  | { kind: "saved"; settings: CompetitionSettings; version: number; savedAt: string }
  /** A round closes before it opens, starts before the previous one closes, or repeats a name: nothing saved. */
  | { kind: "invalid"; problems: { field: string; message: string }[] };

/**
 * An admin's new competition settings, checked against the round rules, saved as a new version with an audit
 * entry holding the settings before and after, in one D1 batch.
 */
export async function saveSettings(
  env: { DB: D1Database } & SettingsVars,
  settings: CompetitionSettings,
  actor: string,
): Promise<SaveSettingsOutcome> {
  const problems = roundProblems(settings.rounds);
  if (problems.length > 0) return { kind: "invalid", problems };
  const before = await settingsInForce(env);
  const at = new Date().toISOString();
  const [saved] = await env.DB.batch([
    saveSettingsStatement(env.DB, settings, actor, at),
    appendAudit(env.DB, {
      at,
      actor,
      action: "settings.update",
      submissionId: null,
      detail: { before, after: settings },
    }),
  ]);
  // A batch answers every statement it ran; the insert's row id is the settings' version.
  if (!saved) throw new Error("the settings batch returned no result for its insert");
  return { kind: "saved", settings, version: saved.meta.last_row_id, savedAt: at };
}
