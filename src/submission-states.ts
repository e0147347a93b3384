/** Submission states, with no imports, so that both storage and the review rules can depend on them. */

/** Where a submission stands in review; evaluation progress is the evaluations' own state. */
export type SubmissionState = "valid" | "changes_requested" | "accepted" | "rejected" | "withdrawn";

/** States in which the submitter may still change the task (the round's deadline applies to `valid` only). */
export const EDITABLE_STATES = ["valid", "changes_requested"] as const satisfies readonly SubmissionState[];

/** Whether the submitter may still change a task in this state (before any deadline is considered). */
export const isEditableState = (state: string): boolean => (EDITABLE_STATES as readonly string[]).includes(state);
