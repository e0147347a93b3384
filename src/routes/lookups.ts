import { ProblemError } from "../http/problem";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";

/** The submission an organiser route names, or 404 not_found. */
export async function submissionOr404(db: D1Database, id: string): Promise<SubmissionRecord> {
  const submission = await getSubmission(db, id);
  if (!submission) throw new ProblemError("not_found", `No submission ${id}.`);
  return submission;
}
