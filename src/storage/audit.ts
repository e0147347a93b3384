/** The audit log: who did what to which submission, written in the same batch as the change it records. */
import { readStoredJson } from "./stored-json";

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  submissionId: string | null;
  detail: Record<string, unknown>;
}

export function appendAudit(db: D1Database, entry: AuditEntry): D1PreparedStatement {
  return db
    .prepare("INSERT INTO audit_log (at, actor, action, submission_id, detail_json) VALUES (?1, ?2, ?3, ?4, ?5)")
    .bind(entry.at, entry.actor, entry.action, entry.submissionId, JSON.stringify(entry.detail));
}

/**
 * The audit entry for a conditional change, written only if the statement just before it in the same D1 batch
 * changed a row: when a concurrent decision or edit won, the log does not claim this one happened.
 */
export function appendAuditIfChanged(db: D1Database, entry: AuditEntry): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO audit_log (at, actor, action, submission_id, detail_json) SELECT ?1, ?2, ?3, ?4, ?5 WHERE changes() = 1",
    )
    .bind(entry.at, entry.actor, entry.action, entry.submissionId, JSON.stringify(entry.detail));
}

/** An entry as read back: the log's own sequence number orders entries and pages through them. */
export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

export async function listAudit(
  db: D1Database,
  submissionId: string | undefined,
  before: number | undefined,
  limit: number,
): Promise<StoredAuditEntry[]> {
  const { results } = await db
    .prepare(
      `SELECT id, at, actor, action, submission_id, detail_json FROM audit_log
       WHERE (?1 IS NULL OR submission_id = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3`,
    )
    .bind(submissionId ?? null, before ?? null, limit)
    .all<{
      id: number;
      at: string;
      actor: string;
      action: string;
      submission_id: string | null;
      detail_json: string;
    }>();
  return results.map((row) => ({
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    submissionId: row.submission_id,
    detail: readStoredJson<Record<string, unknown>>(row.detail_json),
  }));
}
