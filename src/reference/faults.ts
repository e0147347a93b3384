import { hash53 } from "../util/hash";

/**
 * Fault and latency knobs, all off by default: for tests and benchmarks of clients (retries, backoff, rate limits,
 * timeouts, bad responses). Each comes from the Worker's vars and can be overridden per request by a header.
 * Faults are drawn from a seeded hash of the request body and how many times that body has been seen, so a run
 * replays exactly from a fresh server, while a retried request gets a fresh draw.
 */
export interface FaultSettings {
  seed: number;
  latencyMs: number;
  /** In-flight requests allowed; beyond it, 429 with Retry-After. 0: no cap. */
  maxConcurrency: number;
  rate500: number;
  rate429: number;
  rateTimeout: number;
  rateMalformed: number;
  /** How long a "timeout" holds the request before answering 504. */
  timeoutMs: number;
}

export type FaultVars = Partial<Record<(typeof VAR_NAMES)[keyof typeof VAR_NAMES], string>>;

const VAR_NAMES = {
  seed: "FAULT_SEED",
  latencyMs: "FAULT_LATENCY_MS",
  maxConcurrency: "FAULT_MAX_CONCURRENCY",
  rate500: "FAULT_RATE_500",
  rate429: "FAULT_RATE_429",
  rateTimeout: "FAULT_RATE_TIMEOUT",
  rateMalformed: "FAULT_RATE_MALFORMED",
  timeoutMs: "FAULT_TIMEOUT_MS",
} as const;

const DEFAULTS: FaultSettings = {
  seed: 0,
  latencyMs: 0,
  maxConcurrency: 0,
  rate500: 0,
  rate429: 0,
  rateTimeout: 0,
  rateMalformed: 0,
  timeoutMs: 30_000,
};

/** FAULT_RATE_500 is overridden by the header x-fault-rate-500, and so on. */
export const headerName = (variable: string): string => `x-${variable.toLowerCase().replace(/_/g, "-")}`;

export type SettingsResult = { ok: true; settings: FaultSettings } | { ok: false; message: string };

export function faultSettings(vars: FaultVars, header: (name: string) => string | undefined): SettingsResult {
  const settings = { ...DEFAULTS };
  for (const [key, variable] of Object.entries(VAR_NAMES) as [keyof FaultSettings, string][]) {
    const text = header(headerName(variable)) ?? vars[variable as keyof FaultVars];
    if (text === undefined || text === "") continue;
    const value = Number(text);
    const isRate = key.startsWith("rate");
    if (!Number.isFinite(value) || value < 0 || (isRate && value > 1) || (!isRate && !Number.isInteger(value))) {
      return {
        ok: false,
        message: `${variable} (header ${headerName(variable)}) must be ${isRate ? "a rate from 0 to 1" : "a whole number >= 0"}; got "${text}"`,
      };
    }
    settings[key] = value;
  }
  if (settings.rate500 + settings.rate429 + settings.rateTimeout + settings.rateMalformed > 1) {
    return { ok: false, message: "the fault rates add up to more than 1" };
  }
  return { ok: true, settings };
}

export type Fault = "none" | "server_error" | "rate_limited" | "timeout" | "malformed";

export class FaultInjector {
  private readonly attempts = new Map<number, number>();
  inFlight = 0;

  /** Draws the fault for one request. `requestKey` identifies the request (its body); repeats are counted. */
  draw(settings: FaultSettings, requestKey: string): Fault {
    const rates = settings.rate500 + settings.rate429 + settings.rateTimeout + settings.rateMalformed;
    if (rates === 0) return "none";
    const key = hash53(requestKey);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const u = hash53(`${settings.seed}:${key}:${attempt}`) / 2 ** 53;
    let threshold = settings.rate500;
    if (u < threshold) return "server_error";
    threshold += settings.rate429;
    if (u < threshold) return "rate_limited";
    threshold += settings.rateTimeout;
    if (u < threshold) return "timeout";
    threshold += settings.rateMalformed;
    if (u < threshold) return "malformed";
    return "none";
  }
}
