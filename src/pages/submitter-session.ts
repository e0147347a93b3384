import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { AppEnv } from "../app-env";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";
import { sha256Hex } from "../util/hash";
import { digestsEqual } from "../util/secret-tokens";

/*
 * Signing in on a submission's status page. The submitter pastes the token once into a POST form; the answer sets
 * a cookie that holds the token itself, scoped to that submission's path.
 *
 * Why the token and not a signed value: the service has no signing secret, and the only other thing it could put
 * there, the token's stored hash, would let anyone who can read the database sign in. The token is what the
 * submitter already holds; the cookie is HttpOnly (no script reads it), Secure (never sent over plain HTTP), and
 * SameSite=Strict (never sent with a request another site starts), expires after SESSION_SECONDS, and is checked
 * against the stored hash on every request, so a rotated token (POST /v1/submissions/{id}/token) ends every
 * session at once. It never appears in a URL: the form posts it in the body, and the answer redirects with none.
 */

export const SUBMITTER_COOKIE = "isv_submitter";
export const SESSION_SECONDS = 8 * 60 * 60;

/** The status page's path; the cookie is scoped to it (and so to the plots under it) and to nothing else. */
export const statusPath = (id: string): string => `/submissions/${encodeURIComponent(id)}`;

const cookieOptions = (id: string): CookieOptions => ({
  path: statusPath(id),
  httpOnly: true,
  secure: true,
  sameSite: "Strict",
});

/** The submission `id` if `token` is its submitter token; an unknown id and a wrong token look the same. */
export async function submissionForToken(
  db: D1Database,
  id: string,
  token: string,
): Promise<SubmissionRecord | undefined> {
  const submission = await getSubmission(db, id);
  if (!submission || !digestsEqual(submission.submitterTokenHash, await sha256Hex(token))) return undefined;
  return submission;
}

/** Signs the submitter in on this submission's pages (the token has been checked). */
export function startSession(c: Context, id: string, token: string): void {
  setCookie(c, SUBMITTER_COOKIE, token, { ...cookieOptions(id), maxAge: SESSION_SECONDS });
}

export function endSession(c: Context, id: string): void {
  deleteCookie(c, SUBMITTER_COOKIE, cookieOptions(id));
}

/** The submission the request's cookie signs in to, if its token is still this submission's. */
export async function sessionSubmission(c: Context<AppEnv>, id: string): Promise<SubmissionRecord | undefined> {
  const token = getCookie(c, SUBMITTER_COOKIE);
  return token ? submissionForToken(c.env.DB, id, token) : undefined;
}
