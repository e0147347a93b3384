/** At most `limit` requests in a burst, refilled at `limit` per `windowMs`. */
export interface RateRule {
  limit: number;
  windowMs: number;
}

export type RateDecision = { allowed: true; tat: number } | { allowed: false; retryAfterMs: number };

/**
 * The generic cell rate algorithm: one number per client, `tat`, the time at which its allowance would be full
 * again (0 for a client never seen). Each request costs windowMs / limit of it; a request is allowed while the
 * allowance stays within one window. So a new client may make `limit` requests at once, then one every
 * windowMs / limit, and a refused one is told exactly when the next will be allowed. Pure: the caller keeps `tat`.
 */
export function admit(tat: number, now: number, rule: RateRule): RateDecision {
  const interval = rule.windowMs / rule.limit;
  const next = Math.max(tat, now) + interval;
  if (next - now > rule.windowMs) return { allowed: false, retryAfterMs: Math.ceil(next - rule.windowMs - now) };
  return { allowed: true, tat: next };
}
