/**
 * The Worker's rules for calling providers, from its configuration: the outbound policy (outbound-policy.ts, with
 * OUTBOUND_ALLOW_HOSTS and REFERENCE_BASE_URL's origin allowed for local development) and the declared secrets
 * (PROVIDER_SECRETS). Registration vets a family with them; adapters apply them again before every request, so a
 * family stored before a rule changed cannot get round it.
 */
import { ProviderError, requestUrls, secretMissing, type ProviderAccess } from "./adapters";
import type { StoredFamily } from "./stored-family";
import {
  describeRefusal,
  originHost,
  outboundVerdict,
  parseAllowedHosts,
  type OutboundPolicy,
} from "./outbound-policy";
import { parseProviderSecrets, secretMayGoTo, type ProviderSecrets } from "./provider-secrets";

/** The configuration read here (wrangler.toml [vars]; unset reads as empty). */
export interface ProviderBindings {
  /** JSON: each secret a family may name, with the hosts it may be sent to. */
  PROVIDER_SECRETS?: string;
  /** Comma-separated hosts (optional port) reachable over http and on internal addresses: local development. */
  OUTBOUND_ALLOW_HOSTS?: string;
  /** The built-in reference family's server, set by the operator: its origin is allowed like the hosts above. */
  REFERENCE_BASE_URL?: string;
}

export type AccessRefusal = {
  failure: "host_refused" | "secret_not_allowed" | "configuration_invalid";
  /** One sentence, without a trailing period. */
  message: string;
};

type Rules = { ok: true; policy: OutboundPolicy; secrets: ProviderSecrets } | ({ ok: false } & AccessRefusal);

function rules(bindings: ProviderBindings): Rules {
  const allowed = parseAllowedHosts(bindings.OUTBOUND_ALLOW_HOSTS);
  if (!allowed.ok) return { ok: false, failure: "configuration_invalid", message: allowed.message };
  const secrets = parseProviderSecrets(bindings.PROVIDER_SECRETS);
  if (!secrets.ok) return { ok: false, failure: "configuration_invalid", message: secrets.message };
  const reference = bindings.REFERENCE_BASE_URL ? originHost(bindings.REFERENCE_BASE_URL) : undefined;
  return {
    ok: true,
    policy: { allowed: [...allowed.hosts, ...(reference ? [reference] : [])] },
    secrets: secrets.secrets,
  };
}

/** Why `family` may not send a request to `url` (the policy, then its secret's hosts), or undefined. */
export function requestRefusal(
  bindings: ProviderBindings,
  family: Pick<StoredFamily, "apiKeySecret">,
  url: string,
): AccessRefusal | undefined {
  const read = rules(bindings);
  if (!read.ok) return { failure: read.failure, message: read.message };
  const verdict = outboundVerdict(read.policy, url);
  if (!verdict.ok) return { failure: "host_refused", message: describeRefusal(verdict) };
  const name = family.apiKeySecret;
  if (!name || secretMayGoTo(read.secrets, name, verdict.host)) return undefined;
  const hosts = read.secrets.get(name);
  return {
    failure: "secret_not_allowed",
    message: hosts
      ? `PROVIDER_SECRETS allows ${name} to be sent to ${hosts.join(", ")} only, not to ${verdict.host}`
      : `${name} is not declared in PROVIDER_SECRETS, so it is never read: declare it there with the hosts it may be sent to`,
  };
}

/** Why a family may not be registered (the first of its URLs refused), or undefined. Uploaded families call nothing. */
export function familyRefusal(bindings: ProviderBindings, family: StoredFamily): AccessRefusal | undefined {
  for (const url of requestUrls(family)) {
    const refusal = requestRefusal(bindings, family, url);
    if (refusal) return refusal;
  }
  return undefined;
}

/**
 * The Worker's ProviderAccess: a request goes out only when the rules allow it, and a secret is read only once it is
 * declared for the request's host (`bindings` holds the secrets too: the Worker's env).
 */
export function workerAccess(bindings: ProviderBindings & object): ProviderAccess {
  return {
    authorise(family, url) {
      const refusal = requestRefusal(bindings, family, url);
      if (refusal) throw new ProviderError(refusal.failure, refusal.message, false);
      if (!family.apiKeySecret) return undefined;
      const value: unknown = Reflect.get(bindings, family.apiKeySecret);
      if (typeof value !== "string" || value === "") throw secretMissing(family, family.apiKeySecret);
      return value;
    },
  };
}
