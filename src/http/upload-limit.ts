import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { clientKey } from "../intake-limits/client-key";
import { settingsInForce } from "../storage/settings";
import { ProblemError } from "./problem";

const HOUR_MS = 3_600_000;

/**
 * Counts an upload or a file replacement against its client's allowance (`uploadsPerHour` in the competition
 * settings; the client is its CF-Connecting-IP, see clientKey) before anything else is done with the request: past
 * it, 429 `rate_limited` with Retry-After, and nothing is read or stored. Every attempt counts, valid or not:
 * checking a file costs the service either way (`isv validate` checks one offline, for free).
 */
export const limitUploads = createMiddleware<AppEnv>(async (c, next) => {
  const { uploadsPerHour } = await settingsInForce(c.env);
  const limiter = c.env.CLIENT_RATE_LIMITER;
  const stub = limiter.get(limiter.idFromName(`uploads|${clientKey(c.req.header("cf-connecting-ip"))}`));
  const outcome = await stub.take({ limit: uploadsPerHour, windowMs: HOUR_MS });
  if (!outcome.allowed) {
    const seconds = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
    throw new ProblemError(
      "rate_limited",
      `This client may upload or replace ${uploadsPerHour} task file${uploadsPerHour === 1 ? "" : "s"} an hour; try again in ${seconds} s.`,
      { retryAfterSeconds: seconds, limit: uploadsPerHour, windowSeconds: HOUR_MS / 1000 },
      { "retry-after": String(seconds) },
    );
  }
  await next();
});
