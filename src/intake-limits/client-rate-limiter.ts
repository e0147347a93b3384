import { DurableObject } from "cloudflare:workers";
import { admit, type RateRule } from "./rate";

export type RateOutcome = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * One object per client and action (named by the caller, e.g. "uploads|ip:203.0.113.7"), so every isolate
 * anywhere counts a client's requests in one place. It keeps one number in its storage, the time its allowance
 * is full again (see `admit`), and an alarm at that time deletes it, so a client who stops leaves nothing behind.
 * Requests to one object run one at a time (storage calls hold its input gate), so none is counted twice.
 */
export class ClientRateLimiter extends DurableObject {
  async take(rule: RateRule): Promise<RateOutcome> {
    const now = Date.now();
    const decision = admit((await this.ctx.storage.get<number>("tat")) ?? 0, now, rule);
    if (!decision.allowed) return decision;
    await this.ctx.storage.put("tat", decision.tat);
    await this.ctx.storage.setAlarm(decision.tat);
    return { allowed: true };
  }

  override async alarm(): Promise<void> {
    const tat = await this.ctx.storage.get<number>("tat");
    // A request since the alarm was set moved it later: only a full allowance is forgotten.
    if (tat === undefined || tat <= Date.now()) await this.ctx.storage.deleteAll();
  }
}
