import { createMiddleware } from "hono/factory";
import type { AppEnv, SubmitterVariables } from "../app-env";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";
import { ProblemError } from "./problem";
import { sha256Hex } from "../util/hash";
import { bearerToken, digestsEqual } from "../util/secret-tokens";

/**
 * Requires the submitter token of the submission named by the `:id` path parameter, before anything else about
 * the request is read. An unknown id and a wrong token look the same, so ids cannot be probed.
 */
export const requireSubmitter = createMiddleware<AppEnv & { Variables: SubmitterVariables }>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token)
    throw new ProblemError(
      "unauthorized",
      "Send the submitter token returned at upload as 'Authorization: Bearer <token>'.",
    );
  const submission = await getSubmission(c.env.DB, c.req.param("id") ?? "");
  if (!submission || !digestsEqual(submission.submitterTokenHash, await sha256Hex(token))) {
    throw new ProblemError("submission_not_found", "No submission with this id belongs to this token.");
  }
  c.set("submission", submission);
  await next();
});

/** Whether an Authorization header carries this submission's submitter token (an upload needs none). */
export async function holdsSubmitterToken(
  authorization: string | undefined,
  submission: SubmissionRecord,
): Promise<boolean> {
  const token = bearerToken(authorization);
  return token !== undefined && digestsEqual(submission.submitterTokenHash, await sha256Hex(token));
}
