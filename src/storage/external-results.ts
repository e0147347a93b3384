/** Results an organiser uploaded for a family (the files are in R2; this is their record). */

export interface ExternalResultsRecord {
  submissionId: string;
  family: string;
  familyJson: string;
  resultsPrefix: string;
  uploadedBy: string;
  uploadedAt: string;
  /** The submission's file version the results are for. */
  fileVersion: number;
}

export function upsertExternalResults(db: D1Database, record: ExternalResultsRecord): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO external_results (submission_id, family, family_json, results_prefix, uploaded_by, uploaded_at, file_version)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (submission_id, family) DO UPDATE SET family_json = ?3, results_prefix = ?4, uploaded_by = ?5, uploaded_at = ?6, file_version = ?7`,
    )
    .bind(
      record.submissionId,
      record.family,
      record.familyJson,
      record.resultsPrefix,
      record.uploadedBy,
      record.uploadedAt,
      record.fileVersion,
    );
}

/** Uploaded results for the submission's current file (uploads for a replaced file no longer count). */
export async function listExternalResults(
  db: D1Database,
  submission: { id: string; fileVersion: number },
): Promise<ExternalResultsRecord[]> {
  const { results } = await db
    .prepare("SELECT * FROM external_results WHERE submission_id = ?1 AND file_version = ?2 ORDER BY family")
    .bind(submission.id, submission.fileVersion)
    .all<{
      submission_id: string;
      family: string;
      family_json: string;
      results_prefix: string;
      uploaded_by: string;
      uploaded_at: string;
      file_version: number;
    }>();
  return results.map((row) => ({
    submissionId: row.submission_id,
    family: row.family,
    familyJson: row.family_json,
    resultsPrefix: row.results_prefix,
    uploadedBy: row.uploaded_by,
    uploadedAt: row.uploaded_at,
    fileVersion: row.file_version,
  }));
}
