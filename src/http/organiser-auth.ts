import { createMiddleware } from "hono/factory";
import type { AppEnv, OrganiserVariables } from "../app-env";
import { findApiToken, type Role } from "../storage/api-tokens";
import { ProblemError } from "./problem";
import { sha256Hex } from "../util/hash";
import { bearerToken } from "../util/secret-tokens";

/** What each role may do: an admin can do everything an organiser can. */
const GRANTS: Record<Role, readonly Role[]> = { organiser: ["organiser"], admin: ["organiser", "admin"] };

/**
 * Requires a live organiser or admin token with the given role: 401 without one (or with an unknown or revoked
 * one), 403 with a valid token whose role is not enough. Tokens are looked up by their SHA-256 hash, so the
 * database never holds one and a lookup reveals nothing about other tokens.
 */
export function requireRole(role: Role) {
  return createMiddleware<AppEnv & { Variables: OrganiserVariables }>(async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token)
      throw new ProblemError(
        "unauthorized",
        "Send an organiser token as 'Authorization: Bearer <token>' (create one with: npx isv token create).",
      );
    const actor = await findApiToken(c.env.DB, await sha256Hex(token));
    if (!actor) throw new ProblemError("unauthorized", "This token is not valid (unknown or revoked).");
    if (!GRANTS[actor.role].includes(role))
      throw new ProblemError("forbidden", `This needs the ${role} role; the token has ${actor.role}.`);
    c.set("actor", actor);
    await next();
  });
}
