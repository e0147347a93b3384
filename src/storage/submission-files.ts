/**
 * The files of a submission sent as several (migrations/0014_submission_files.sql): each file's role and the range
 * of the submission's examples it holds. A submission of one file has none.
 */

import type { FileRole } from "../intake/file-roles";

export type { FileRole };

export interface SubmissionFile {
  /** Its place in the metadata's list, from 0: the order its examples come in. */
  position: number;
  name: string;
  role: FileRole;
  label: string | null;
  /** Its examples match the task's one to one (a paired control or variant). */
  paired: boolean;
  sha256: string;
  fileKey: string;
  /** Its own examples, stored as a single upload of the file would store them. */
  examplesKey: string;
  bytes: number;
  /** Its examples are the submission's firstExample .. firstExample + exampleCount - 1. */
  firstExample: number;
  exampleCount: number;
}

interface SubmissionFileRow {
  position: number;
  name: string;
  role: FileRole;
  label: string | null;
  paired: number;
  sha256: string;
  file_key: string;
  examples_key: string;
  bytes: number;
  first_example: number;
  example_count: number;
}

export function insertSubmissionFileStatements(
  db: D1Database,
  submissionId: string,
  fileVersion: number,
  files: readonly SubmissionFile[],
): D1PreparedStatement[] {
  return files.map((file) =>
    db
      .prepare(
        `INSERT INTO submission_files (submission_id, file_version, position, name, role, label, paired, sha256,
           file_key, examples_key, bytes, first_example, example_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`,
      )
      .bind(
        submissionId,
        fileVersion,
        file.position,
        file.name,
        file.role,
        file.label,
        file.paired ? 1 : 0,
        file.sha256,
        file.fileKey,
        file.examplesKey,
        file.bytes,
        file.firstExample,
        file.exampleCount,
      ),
  );
}

/** The files of a submission's file version, in the metadata's order; empty for a submission of one file. */
export async function listSubmissionFiles(
  db: D1Database,
  submissionId: string,
  fileVersion: number,
): Promise<SubmissionFile[]> {
  const { results } = await db
    .prepare(
      `SELECT position, name, role, label, paired, sha256, file_key, examples_key, bytes, first_example, example_count
       FROM submission_files WHERE submission_id = ?1 AND file_version = ?2 ORDER BY position`,
    )
    .bind(submissionId, fileVersion)
    .all<SubmissionFileRow>();
  return results.map((row) => ({
    position: row.position,
    name: row.name,
    role: row.role,
    label: row.label,
    paired: row.paired === 1,
    sha256: row.sha256,
    fileKey: row.file_key,
    examplesKey: row.examples_key,
    bytes: row.bytes,
    firstExample: row.first_example,
    exampleCount: row.example_count,
  }));
}

/** Whether any submission's file, of any version, is these bytes. */
export async function fileBytesInUse(db: D1Database, sha256: string): Promise<boolean> {
  const row = await db
    .prepare("SELECT EXISTS (SELECT 1 FROM submission_files WHERE sha256 = ?1) AS used")
    .bind(sha256)
    .first<{ used: number }>();
  return row?.used === 1;
}

/** A file as submitters and organisers see it: never its storage keys. */
export function fileView({ name, role, label, paired, sha256, bytes, firstExample, exampleCount }: SubmissionFile) {
  return { name, role, ...(label !== null && { label }), paired, sha256, bytes, firstExample, examples: exampleCount };
}
