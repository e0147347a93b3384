import type { SubmissionState } from "../storage/submissions";

/** What an organiser can decide about a submission. */
export type Decision = "accept" | "reject";

const TRANSITIONS: Record<Decision, { from: readonly SubmissionState[]; to: SubmissionState }> = {
  accept: { from: ["valid", "rejected"], to: "accepted" },
  reject: { from: ["valid", "accepted"], to: "rejected" },
};

/** The decisions open from a state (a withdrawn submission has none). */
export function allowedDecisions(state: SubmissionState): Decision[] {
  return (Object.keys(TRANSITIONS) as Decision[]).filter((decision) => TRANSITIONS[decision].from.includes(state));
}

export type Transition = { ok: true; to: SubmissionState } | { ok: false; allowed: Decision[] };

export function transition(state: SubmissionState, decision: Decision): Transition {
  const rule = TRANSITIONS[decision];
  return rule.from.includes(state) ? { ok: true, to: rule.to } : { ok: false, allowed: allowedDecisions(state) };
}
