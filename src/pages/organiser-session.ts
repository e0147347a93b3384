import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { AppEnv } from "../app-env";
import { checkRole, type RoleCheck } from "../http/organiser-auth";

/*
 * Signing in on the review desk. As on a submitter's status page (submitter-session.ts, which says why the cookie
 * holds the token itself): the organiser pastes the token once into a POST form, the answer sets an HttpOnly,
 * Secure, SameSite=Strict cookie scoped to /review, and every request checks it exactly as the API checks a bearer
 * token (checkRole), so a revoked token ends its sessions at once. It never appears in a URL.
 */

export const ORGANISER_COOKIE = "isv_organiser";
export const ORGANISER_SESSION_SECONDS = 8 * 60 * 60;

/** The desk's root; the cookie is scoped to it, so the API and the submitters' pages never receive it. */
export const REVIEW_PATH = "/review";

/** A submission's task page on the desk. */
export const taskPath = (id: string): string => `${REVIEW_PATH}/submissions/${encodeURIComponent(id)}`;

const cookieOptions: CookieOptions = { path: REVIEW_PATH, httpOnly: true, secure: true, sameSite: "Strict" };

/** Signs the organiser in on the desk (the token has been checked). */
export function startOrganiserSession(c: Context, token: string): void {
  setCookie(c, ORGANISER_COOKIE, token, { ...cookieOptions, maxAge: ORGANISER_SESSION_SECONDS });
}

export function endOrganiserSession(c: Context): void {
  deleteCookie(c, ORGANISER_COOKIE, cookieOptions);
}

/** The session's token checked for the organiser role now; `undefined` without a session cookie. */
export async function sessionOrganiser(c: Context<AppEnv>): Promise<RoleCheck | undefined> {
  const token = getCookie(c, ORGANISER_COOKIE);
  return token ? checkRole(c.env.DB, token, "organiser") : undefined;
}
