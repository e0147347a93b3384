import { describe, expect, it } from "vitest";
import { clientKey } from "../../src/intake-limits/client-key";
import { admit, type RateRule } from "../../src/intake-limits/rate";

const HOUR = 3_600_000;
const tenAnHour: RateRule = { limit: 10, windowMs: HOUR };
const T0 = Date.UTC(2030, 0, 1);

/** Admits `count` requests at `now`, one after the other, from `tat`; the state after them and each decision. */
function admitMany(tat: number, now: number, count: number, rule: RateRule) {
  const decisions = [];
  for (let i = 0; i < count; i++) {
    const decision = admit(tat, now, rule);
    decisions.push(decision);
    if (decision.allowed) tat = decision.tat;
  }
  return { tat, decisions };
}

describe("the upload rate rule (a generic cell rate: a burst of `limit`, then one every window / limit)", () => {
  it("admits a new client's first `limit` requests at once", () => {
    const { decisions } = admitMany(0, T0, 10, tenAnHour);
    expect(decisions.every((decision) => decision.allowed)).toBe(true);
  });

  it("refuses the next one, to be retried after window / limit", () => {
    const { tat } = admitMany(0, T0, 10, tenAnHour);
    expect(admit(tat, T0, tenAnHour)).toEqual({ allowed: false, retryAfterMs: 360_000 });
  });

  it("refuses it a millisecond before that interval has passed, saying one millisecond more", () => {
    const { tat } = admitMany(0, T0, 10, tenAnHour);
    expect(admit(tat, T0 + 359_999, tenAnHour)).toEqual({ allowed: false, retryAfterMs: 1 });
  });

  it("admits one more once that interval has passed, and no second one", () => {
    const { tat } = admitMany(0, T0, 10, tenAnHour);
    const { decisions } = admitMany(tat, T0 + 360_000, 2, tenAnHour);
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, false]);
  });

  it("admits a whole burst again after a quiet window", () => {
    const { tat } = admitMany(0, T0, 10, tenAnHour);
    const { decisions } = admitMany(tat, T0 + HOUR, 10, tenAnHour);
    expect(decisions.every((decision) => decision.allowed)).toBe(true);
  });

  it("keeps what earlier requests cost when the limit changes: 3 of 10 an hour leave room for 2 of 3 an hour", () => {
    const { tat } = admitMany(0, T0, 3, tenAnHour);
    const { decisions } = admitMany(tat, T0, 3, { limit: 3, windowMs: HOUR });
    expect(decisions).toEqual([
      { allowed: true, tat: T0 + 2_280_000 },
      { allowed: true, tat: T0 + 3_480_000 },
      { allowed: false, retryAfterMs: 1_080_000 },
    ]);
  });
});

describe("the client an upload is counted against", () => {
  it("is its IPv4 address, as Cloudflare gives it in CF-Connecting-IP", () => {
    expect(clientKey("203.0.113.7")).toBe("ip:203.0.113.7");
  });

  it("is the /64 of an IPv6 address, so one host cannot rotate through its own network's addresses", () => {
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe("ip6:2001:db8:1:2::/64");
    expect(clientKey("2001:DB8:1:2:bbbb:cccc:dddd:eeee")).toBe("ip6:2001:db8:1:2::/64");
  });

  it("reads a compressed IPv6 address by its groups", () => {
    expect(clientKey("2001:db8::1")).toBe("ip6:2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("ip6:0:0:0:0::/64");
  });

  it("is the IPv4 address inside an IPv4-mapped IPv6 address", () => {
    expect(clientKey("::ffff:203.0.113.7")).toBe("ip:203.0.113.7");
  });

  it("is one shared key when the header is missing or unreadable (never the header's text)", () => {
    expect(clientKey(undefined)).toBe("unknown");
    expect(clientKey("")).toBe("unknown");
    expect(clientKey("not an address")).toBe("unknown");
    expect(clientKey("1.2.3.4, 5.6.7.8")).toBe("unknown");
  });
});
