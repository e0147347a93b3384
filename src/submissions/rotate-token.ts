import { appendAuditIfChanged } from "../storage/audit";
import { rotateTokenStatement, type SubmissionRecord } from "../storage/submissions";
import { sha256Hex } from "../util/hash";
import { newToken, SUBMITTER_TOKEN_PREFIX } from "../util/secret-tokens";

export type RotateOutcome =
  | { kind: "rotated"; submitterToken: string }
  /** Another rotation replaced the token first: this request's token no longer works and nothing was changed. */
  | { kind: "conflict" };

/**
 * Gives the submitter a new token and stops the old one at once (a token that leaked, or one shared with a
 * co-author who left). The new token is shown only in the answer; the change and its audit entry are one batch.
 */
export async function rotateSubmitterToken(db: D1Database, submission: SubmissionRecord): Promise<RotateOutcome> {
  const submitterToken = newToken(SUBMITTER_TOKEN_PREFIX);
  const at = new Date().toISOString();
  const [change] = await db.batch([
    rotateTokenStatement(db, submission.id, submission.submitterTokenHash, await sha256Hex(submitterToken)),
    appendAuditIfChanged(db, {
      at,
      actor: "submitter",
      action: "submission.rotate_token",
      submissionId: submission.id,
      detail: {},
    }),
  ]);
  return change?.meta.changes === 1 ? { kind: "rotated", submitterToken } : { kind: "conflict" };
}
