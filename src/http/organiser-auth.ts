import { createMiddleware } from "hono/factory";
import type { AppEnv, OrganiserVariables } from "../app-env";
import { findApiToken, type ApiToken, type Role } from "../storage/api-tokens";
import { ProblemError } from "./problem";
import { sha256Hex } from "../util/hash";
import { bearerToken } from "../util/secret-tokens";

/** What each role may do: an admin can do everything an organiser can. */
const GRANTS: Record<Role, readonly Role[]> = { organiser: ["organiser"], admin: ["organiser", "admin"] };

/** What a presented token grants: its actor, or why not (unknown or revoked; a role that is not enough). */
export type RoleCheck =
  | { ok: true; actor: ApiToken }
  | { ok: false; reason: "unknown" }
  | { ok: false; reason: "forbidden"; has: Role };

/**
 * The one check of an organiser or admin token, shared by the API's bearer tokens and the review desk's session
 * cookie. Tokens are looked up by their SHA-256 hash, so the database never holds one and a lookup reveals
 * nothing about other tokens; a revoked token is unknown at once.
 */
export async function checkRole(db: D1Database, token: string, role: Role): Promise<RoleCheck> {
  const actor = await findApiToken(db, await sha256Hex(token));
  if (!actor) return { ok: false, reason: "unknown" };
  if (!GRANTS[actor.role].includes(role)) return { ok: false, reason: "forbidden", has: actor.role };
  return { ok: true, actor };
}

/**
 * Requires a live organiser or admin token with the given role: 401 without one (or with an unknown or revoked
 * one), 403 with a valid token whose role is not enough.
 */
export function requireRole(role: Role) {
  return createMiddleware<AppEnv & { Variables: OrganiserVariables }>(async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token)
      throw new ProblemError(
        "unauthorized",
        "Send an organiser token as 'Authorization: Bearer <token>' (create one with: npx isv token create).",
      );
    const checked = await checkRole(c.env.DB, token, role);
    if (!checked.ok && checked.reason === "unknown")
      throw new ProblemError("unauthorized", "This token is not valid (unknown or revoked).");
    if (!checked.ok) throw new ProblemError("forbidden", `This needs the ${role} role; the token has ${checked.has}.`);
    c.set("actor", checked.actor);
    await next();
  });
}
