import type { RequestIdVariables } from "hono/request-id";
import type { SubmissionRecord } from "./storage/submissions";
import type { ApiToken } from "./storage/api-tokens";

/**
 * The Hono environment types, in a module of their own so that the routes and middleware that use them need not
 * import the app that mounts them. Types only: importing this module loads nothing.
 */
export type AppEnv = { Bindings: Env; Variables: RequestIdVariables };

/** What `requireRole` sets: the organiser's or admin's token. */
export type OrganiserVariables = { actor: ApiToken };

/** What `requireSubmitter` sets: the submission the token belongs to. */
export type SubmitterVariables = { submission: SubmissionRecord };
