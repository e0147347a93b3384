import { DurableObject } from "cloudflare:workers";

export interface ProviderLimits {
  concurrency: number;
  requestsPerMinute: number;
}

export type Permit = { granted: true; lease: string } | { granted: false; retryAfterMs: number };

const LEASE_MS = 120_000;
const WINDOW_MS = 60_000;

/**
 * One object per provider key (base URL and API-key secret), so every consumer invocation anywhere shares the
 * provider's limits: at most `concurrency` requests in flight and `requestsPerMinute` started in any minute.
 * A lease that is never released (a consumer that died) expires after two minutes.
 */
export class ProviderRateLimiter extends DurableObject {
  private readonly leases = new Map<string, number>();
  private started: number[] = [];

  async acquire(limits: ProviderLimits): Promise<Permit> {
    const now = Date.now();
    for (const [lease, expires] of this.leases) if (expires <= now) this.leases.delete(lease);
    this.started = this.started.filter((at) => at > now - WINDOW_MS);
    if (this.leases.size >= limits.concurrency) return { granted: false, retryAfterMs: 10 };
    // requestsPerMinute is at least 1 (the family schema's minimum), so a full window has an oldest start.
    const oldest = this.started[0];
    if (oldest !== undefined && this.started.length >= limits.requestsPerMinute)
      return { granted: false, retryAfterMs: oldest + WINDOW_MS - now };
    const lease = crypto.randomUUID();
    this.leases.set(lease, now + LEASE_MS);
    this.started.push(now);
    return { granted: true, lease };
  }

  async release(lease: string): Promise<void> {
    this.leases.delete(lease);
  }
}
