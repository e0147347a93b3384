import type { Context } from "hono";
import { ProblemError } from "./problem";

/**
 * An integer query parameter, written in plain decimal digits (no sign, exponent, fraction, spaces or hex) and
 * within [min, max]; absent or empty gives `fallback`. Anything else is 400 invalid_query naming the parameter,
 * never a value passed on to the database.
 */
export function integerQuery<T extends number | undefined>(
  c: Context,
  name: string,
  { min, max, fallback }: { min: number; max: number; fallback: T },
): number | T {
  const text = c.req.query(name);
  if (text === undefined || text === "") return fallback;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new ProblemError("invalid_query", `\`${name}\` must be a whole number ${range}.`, { parameter: name });
  }
  return value;
}
