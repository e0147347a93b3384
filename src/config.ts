import { DEFAULT_LIMITS, type ValidationLimits } from "./validate/report";

/** Competition limits from the Worker's vars (strings in wrangler.toml), falling back to the defaults. */
export function limitsFromEnv(env: Pick<Env, "MIN_EXAMPLES" | "MAX_ROWS" | "MAX_FILE_BYTES">): ValidationLimits {
  return {
    ...DEFAULT_LIMITS,
    minExamples: wholeNumber(env.MIN_EXAMPLES, DEFAULT_LIMITS.minExamples),
    maxRows: wholeNumber(env.MAX_ROWS, DEFAULT_LIMITS.maxRows),
    maxBytes: wholeNumber(env.MAX_FILE_BYTES, DEFAULT_LIMITS.maxBytes),
  };
}

function wholeNumber(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return text !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : fallback;
}
