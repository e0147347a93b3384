import { editableUntil, type CompetitionSettings } from "../competition/settings";
import type { SubmissionRecord } from "../storage/submissions";
import { isEditableState, type SubmissionState } from "../submission-states";

/** Why a task cannot be changed: review decided it, or its round closed while it waited in review. */
export type NotEditable =
  | { kind: "not_editable"; reason: "decided"; state: SubmissionState }
  | { kind: "not_editable"; reason: "round_closed"; state: SubmissionState; round: string | null; closedAt: string };

export type Editability = { kind: "editable" } | NotEditable;

/**
 * A submitter may change a task before review decides it, until its round closes; when organisers ask for
 * changes, until they decide again (the deadline does not apply: they asked). Pure: the caller reads the settings.
 */
export function editability(submission: SubmissionRecord, settings: CompetitionSettings, now: Date): Editability {
  if (!isEditableState(submission.state)) return { kind: "not_editable", reason: "decided", state: submission.state };
  const deadline = editableUntil(settings, submission.round);
  if (submission.state === "valid" && deadline !== null && now.getTime() >= Date.parse(deadline)) {
    return {
      kind: "not_editable",
      reason: "round_closed",
      state: submission.state,
      round: submission.round,
      closedAt: deadline,
    };
  }
  return { kind: "editable" };
}
