/** Bearer tokens: random, shown once, stored only as a SHA-256 hash, compared in constant time. */
import { base64Url } from "./hash";

/** What each kind of token starts with, so a leaked one is recognisable (and secret scanners can match it). */
export const SUBMITTER_TOKEN_PREFIX = "isv_st_";
export const ORGANISER_TOKEN_PREFIX = "isv_ot_";

export function newToken(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return prefix + base64Url(bytes);
}

/** Compares two equal-length hex digests without an early exit that would leak how many characters match. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+([A-Za-z0-9_\-.~+/]+=*)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}
