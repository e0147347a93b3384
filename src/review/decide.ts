import { rebuildLeaderboard } from "../leaderboard/snapshot";
import { appendAuditIfChanged } from "../storage/audit";
import { latestHeadlineAnalysis } from "../storage/analyses";
import { decideStatement } from "../storage/review-queue";
import type { SubmissionRecord } from "../storage/submissions";
import type { SubmissionState } from "../submission-states";
import {
  allowedDecisions,
  preconditionHolds,
  reviewVersion,
  transition,
  type Decision,
  type DecisionPrecondition,
} from "./decisions";

export type DecideOutcome =
  | { kind: "decided"; state: SubmissionState; reviewedAt: string; note: string }
  /** The review rules do not allow the decision from the task's state; `message` says which would. */
  | { kind: "not_allowed"; allowed: Decision[]; message: string }
  /** Accepting needs the headline metric's analysis; `allowed` are the other decisions open. */
  | { kind: "needs_results"; allowed: Decision[] }
  /** Another decision changed the task first: nothing was changed. */
  | { kind: "conflict" }
  /** The task changed since the decider read it (If-Match or the expected state): nothing was changed. */
  | { kind: "stale"; state: SubmissionState; version: string };

/**
 * An organiser's decision on a submission, by the review rules. The change and its audit entry are one D1 batch,
 * applied only from the state the task was read in (a concurrent decision loses); every decision rebuilds the
 * leaderboard.
 */
export async function decideSubmission(
  db: D1Database,
  submission: SubmissionRecord,
  decision: Decision,
  note: string,
  actor: string,
  precondition: DecisionPrecondition = {},
): Promise<DecideOutcome> {
  if (!preconditionHolds(submission, precondition))
    return { kind: "stale", state: submission.state, version: reviewVersion(submission) };
  const next = transition(submission.state, decision);
  if (!next.ok) return { kind: "not_allowed", allowed: next.allowed, message: next.message };
  if (decision === "accept" && !(await latestHeadlineAnalysis(db, submission))) {
    return {
      kind: "needs_results",
      allowed: allowedDecisions(submission.state).filter((other) => other !== "accept"),
    };
  }
  const at = new Date().toISOString();
  const [update] = await db.batch([
    decideStatement(db, submission, next.to, note, at),
    appendAuditIfChanged(db, {
      at,
      actor,
      action: `submission.${decision}`,
      submissionId: submission.id,
      detail: { before: submission.state, after: next.to, note },
    }),
  ]);
  if (update?.meta.changes !== 1) return { kind: "conflict" };
  await rebuildLeaderboard(db);
  return { kind: "decided", state: next.to, reviewedAt: at, note };
}
