/**
 * PROVIDER_SECRETS (pure, no bindings): each provider secret the service may read, declared once with the hosts it
 * may be sent to, e.g. {"OPENAI_API_KEY": ["api.openai.com"]}. A family names a secret in `apiKeySecret`; only a
 * declared secret is ever read, and only for a request to one of its hosts, so no family can send another binding's
 * value, or a key meant for one provider, anywhere else.
 */

/** Secret name → hosts (lower case; "*.example.org" stands for any subdomain of example.org). */
export type ProviderSecrets = ReadonlyMap<string, readonly string[]>;

/** As the model family schema requires of `apiKeySecret`. */
const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
/** A host name or IPv4 address, or "*." and a name with at least two labels; no scheme, port or path. */
const HOST = /^(?:\*\.(?=[a-z0-9-]+\.[a-z0-9-]))?[a-z0-9-]+(?:\.[a-z0-9-]+)*$|^\[[0-9a-f:.]+\]$/;

export function parseProviderSecrets(
  value: string | undefined,
): { ok: true; secrets: ProviderSecrets } | { ok: false; message: string } {
  const fail = (problem: string) => ({ ok: false as const, message: `PROVIDER_SECRETS ${problem}` });
  if (value === undefined || value.trim() === "") return { ok: true, secrets: new Map() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return fail('is not valid JSON: it must be an object such as {"OPENAI_API_KEY": ["api.openai.com"]}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return fail('must be a JSON object such as {"OPENAI_API_KEY": ["api.openai.com"]}');
  const secrets = new Map<string, string[]>();
  for (const [name, hosts] of Object.entries(parsed)) {
    if (!SECRET_NAME.test(name))
      return fail(`is not valid: ${JSON.stringify(name)} is not a secret name (A-Z, 0-9, _)`);
    if (!Array.isArray(hosts) || hosts.length === 0 || !hosts.every((host) => typeof host === "string"))
      return fail(`is not valid: ${name} must list the hosts it may be sent to, as a non-empty array of strings`);
    const normalised = hosts.map((host: string) => host.trim().toLowerCase().replace(/\.$/, ""));
    const bad = normalised.find((host) => !HOST.test(host));
    if (bad !== undefined)
      return fail(
        `is not valid: ${JSON.stringify(bad)} is not a host name (no scheme, port or path), in ${name}'s hosts`,
      );
    secrets.set(name, normalised);
  }
  return { ok: true, secrets };
}

/** Whether the secret `name` is declared and may be sent to `host` (lower case, no trailing dot). */
export function secretMayGoTo(secrets: ProviderSecrets, name: string, host: string): boolean {
  return (secrets.get(name) ?? []).some((entry) =>
    entry.startsWith("*.") ? host.endsWith(entry.slice(1)) : entry === host,
  );
}
