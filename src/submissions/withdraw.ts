import { rebuildLeaderboard } from "../leaderboard/snapshot";
import { appendAuditIfChanged } from "../storage/audit";
import { withdrawStatement, type SubmissionRecord } from "../storage/submissions";

export type WithdrawOutcome =
  | { kind: "withdrawn" }
  | { kind: "already_withdrawn" }
  /** The task changed state between reading it and withdrawing it: nothing was changed. */
  | { kind: "conflict" };

/**
 * The submitter takes the task back: it leaves review and the leaderboard, and its record is kept. The change and
 * its audit entry are one D1 batch, applied only from the state the task was read in; an accepted task's
 * withdrawal rebuilds the leaderboard.
 */
export async function withdrawSubmission(db: D1Database, submission: SubmissionRecord): Promise<WithdrawOutcome> {
  if (submission.state === "withdrawn") return { kind: "already_withdrawn" };
  const at = new Date().toISOString();
  const [change] = await db.batch([
    withdrawStatement(db, submission.id, submission.state, at),
    appendAuditIfChanged(db, {
      at,
      actor: "submitter",
      action: "submission.withdraw",
      submissionId: submission.id,
      detail: { before: submission.state, after: "withdrawn" },
    }),
  ]);
  if (change?.meta.changes !== 1) return { kind: "conflict" };
  if (submission.state === "accepted") await rebuildLeaderboard(db);
  return { kind: "withdrawn" };
}
