import type { SubmissionState } from "../submission-states";

/** What an organiser can decide about a submission. */
export type Decision = "accept" | "reject" | "request_changes";

/**
 * The review state machine. Asking for changes hands the task back to its submitter, who may then edit the
 * metadata or replace the file (which returns it to `valid`, in review again); organisers may still decide it
 * meanwhile. A withdrawn submission has no decisions.
 */
const TRANSITIONS: Record<Decision, { from: readonly SubmissionState[]; to: SubmissionState; done: string }> = {
  accept: { from: ["valid", "rejected", "changes_requested"], to: "accepted", done: "accepted" },
  reject: { from: ["valid", "accepted", "changes_requested"], to: "rejected", done: "rejected" },
  request_changes: { from: ["valid"], to: "changes_requested", done: "sent back for changes" },
};

/** The decisions open from a state. */
export function allowedDecisions(state: SubmissionState): Decision[] {
  return (Object.keys(TRANSITIONS) as Decision[]).filter((decision) => TRANSITIONS[decision].from.includes(state));
}

export type Transition = { ok: true; to: SubmissionState } | { ok: false; allowed: Decision[]; message: string };

export function transition(state: SubmissionState, decision: Decision): Transition {
  const rule = TRANSITIONS[decision];
  if (rule.from.includes(state)) return { ok: true, to: rule.to };
  const allowed = allowedDecisions(state);
  return {
    ok: false,
    allowed,
    message: `A ${state} submission cannot be ${rule.done}; allowed: ${allowed.length ? allowed.join(", ") : "none"}.`,
  };
}

/**
 * The version of a submission a reviewer decided on, sent back as ETag and If-Match: it changes with every
 * decision, metadata edit and file replacement (each moves updated_at), so a decision made on a stale view is
 * refused instead of silently replacing another organiser's.
 */
export const reviewVersion = (submission: { state: SubmissionState; updatedAt: string; fileVersion: number }): string =>
  `"${submission.fileVersion}.${Date.parse(submission.updatedAt)}.${submission.state}"`;

/** What the decider saw: the version (If-Match) and/or the state (a form's hidden field); either may be absent. */
export interface DecisionPrecondition {
  version?: string;
  state?: SubmissionState;
}

/** Whether a decision's precondition holds for the submission as it is now. */
export function preconditionHolds(
  submission: { state: SubmissionState; updatedAt: string; fileVersion: number },
  precondition: DecisionPrecondition,
): boolean {
  if (precondition.state !== undefined && precondition.state !== submission.state) return false;
  if (precondition.version === undefined || precondition.version.trim() === "*") return true;
  const current = reviewVersion(submission);
  return precondition.version.split(",").some((tag) => tag.trim().replace(/^W\//, "") === current);
}
