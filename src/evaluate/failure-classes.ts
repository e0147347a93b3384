/**
 * Why a shard failed, as one of a closed set of classes. A provider's own words never leave the adapter: a failure
 * is stored as its class, then a sentence the service wrote (with facts it generated, such as the HTTP status), and
 * submitters see the class alone. No imports, so storage, the queue and the views can all read it.
 */
export const FAILURE_CLASSES = [
  /** No answer: the connection failed. */
  "provider_unreachable",
  /** No answer in time (or 408). */
  "provider_timeout",
  /** 429, or the provider's permits in the shared rate limiter are taken. */
  "provider_rate_limited",
  /** 401 or 403: the key is wrong, or lacks access to the model. */
  "provider_auth",
  /** 404: no such model or endpoint. */
  "provider_not_found",
  /** Another 4xx. */
  "provider_rejected",
  /** A 3xx: redirects are never followed (they could lead to an address the outbound policy refuses). */
  "provider_redirected",
  /** 5xx. */
  "provider_server_error",
  /** An answer the adapter cannot read (not JSON, or the wrong shape). */
  "provider_bad_response",
  /** The server cannot score prompts (no prompt log-probabilities): a configuration to change, not a fault. */
  "provider_unsupported",
  /** The family's results are uploaded, not computed here. */
  "family_external",
  /** The family's API key secret is declared but not set in the Worker. */
  "secret_missing",
  /** The family's API key secret is not declared in PROVIDER_SECRETS for the host it would go to. */
  "secret_not_allowed",
  /** The outbound policy refuses the family's URL. */
  "host_refused",
  /** PROVIDER_SECRETS or OUTBOUND_ALLOW_HOSTS cannot be read. */
  "configuration_invalid",
  /** The evaluation's token budget is spent. */
  "token_budget_reached",
  /** Anything else (logged, never described). */
  "internal_error",
] as const;

export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** A stored error written before failures were classified (or by code that does not classify): never shown. */
export const UNCLASSIFIED = "unclassified";

/** How a shard's failure is stored: the class, then a sentence the service wrote (never a provider's text). */
export const failureText = (failure: FailureClass, sentence: string): string => `${failure}: ${sentence}`;

export const isFailureClass = (value: string): value is FailureClass =>
  (FAILURE_CLASSES as readonly string[]).includes(value);

/** The class a stored failure starts with, or UNCLASSIFIED: what a submitter may see of it. */
export function failureClassOf(stored: string | null): FailureClass | typeof UNCLASSIFIED {
  const head = stored?.split(":", 1)[0] ?? "";
  return isFailureClass(head) ? head : UNCLASSIFIED;
}
