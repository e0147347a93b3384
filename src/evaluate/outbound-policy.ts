/**
 * Which base URLs the service may call (pure, no bindings): `https` on a public name only, except hosts the
 * operator allowed explicitly for local development (OUTBOUND_ALLOW_HOSTS, and the origin of REFERENCE_BASE_URL).
 * IP literals in every spelling, local and internal names, and URLs carrying a user name or password are refused.
 *
 * A name that resolves to an internal address (a DNS rebinding service) cannot be seen from here: a Worker's
 * outbound requests go through Cloudflare's network, which does not reach the operator's private network.
 */
import { ipv6Groups } from "../util/ip-address";

/** A host the operator allowed for local development: on any port (`port` null), or on one. */
export interface AllowedHost {
  /** Canonical, as a URL parser spells it: lower case, IPv4 dotted, IPv6 bracketed and compressed. */
  host: string;
  port: string | null;
}

export interface OutboundPolicy {
  readonly allowed: readonly AllowedHost[];
}

/** What an IP literal stands for (the reason it is refused, for the message). */
export type AddressRange =
  | "loopback"
  | "private"
  | "link_local"
  | "shared"
  | "unspecified"
  | "unique_local"
  | "multicast"
  | "reserved"
  | "public";

export type OutboundRefusal =
  | { reason: "invalid_url" }
  | { reason: "unsupported_scheme"; scheme: string }
  | { reason: "userinfo" }
  | { reason: "ip_literal"; address: string; range: AddressRange }
  | { reason: "local_name"; host: string }
  | { reason: "not_https" };

/** Allowed, with the host (lower case, no trailing dot) that secrets are matched against; or why not. */
export type OutboundVerdict = { ok: true; host: string } | ({ ok: false } & OutboundRefusal);

/**
 * Top-level names that never reach a provider: special-use names (RFC 6761, 6762, 8375) and the private ones RFC
 * 6762 appendix G lists as in use, plus reverse-DNS names.
 */
const LOCAL_SUFFIXES = [
  "localhost",
  "local",
  "internal",
  "localdomain",
  "arpa",
  "intranet",
  "private",
  "corp",
  "home",
  "lan",
];

export function outboundVerdict(policy: OutboundPolicy, raw: string): OutboundVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "invalid_url" };
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "https" && scheme !== "http") return { ok: false, reason: "unsupported_scheme", scheme };
  // The parser drops an empty user name ("https://@host"), so the raw authority is read too.
  if (url.username !== "" || url.password !== "" || authorityOf(raw).includes("@"))
    return { ok: false, reason: "userinfo" };
  if (url.hostname === "") return { ok: false, reason: "invalid_url" };
  const host = url.hostname.replace(/\.$/, "");
  if (isAllowed(policy, url)) return { ok: true, host };
  const address = ipLiteral(host);
  if (address) return { ok: false, reason: "ip_literal", ...address };
  const labels = host.split(".");
  const last = labels[labels.length - 1] ?? "";
  if (labels.length < 2 || LOCAL_SUFFIXES.includes(last)) return { ok: false, reason: "local_name", host };
  if (scheme !== "https") return { ok: false, reason: "not_https" };
  return { ok: true, host };
}

const ALLOW_HINT = "OUTBOUND_ALLOW_HOSTS lists hosts allowed for local development";

/** One sentence saying why a URL is refused (no trailing period: callers end it). */
export function describeRefusal(refusal: OutboundRefusal): string {
  switch (refusal.reason) {
    case "invalid_url":
      return "the base URL is not a valid URL";
    case "unsupported_scheme":
      return `only https URLs may be called, not ${refusal.scheme}:`;
    case "userinfo":
      return "a URL with a user name or password (user:pass@) is refused: an API key goes in apiKeySecret";
    case "ip_literal":
      return `${refusal.address} is an IP address (${refusal.range}); providers are called by name over https (${ALLOW_HINT})`;
    case "local_name":
      return `${refusal.host} is a local or internal name; providers are called by a public name over https (${ALLOW_HINT})`;
    case "not_https":
      return `only https URLs may be called (${ALLOW_HINT}, where http is allowed)`;
  }
}

/**
 * OUTBOUND_ALLOW_HOSTS: comma-separated hosts, each with an optional port (`127.0.0.1`, `localhost:8788`,
 * `[::1]:8080`), canonicalised as a URL parser spells them, so any spelling of an address matches.
 */
export function parseAllowedHosts(
  value: string | undefined,
): { ok: true; hosts: AllowedHost[] } | { ok: false; message: string } {
  const hosts: AllowedHost[] = [];
  for (const entry of (value ?? "").split(",").map((part) => part.trim())) {
    if (entry === "") continue;
    const parsed = hostEntry(entry);
    if (!parsed)
      return {
        ok: false,
        message: `OUTBOUND_ALLOW_HOSTS has ${JSON.stringify(entry)}, which is not a host with an optional port (e.g. 127.0.0.1 or localhost:8788)`,
      };
    hosts.push(parsed);
  }
  return { ok: true, hosts };
}

/** The host and port of an absolute URL (REFERENCE_BASE_URL: its own origin is trusted), or undefined. */
export function originHost(raw: string): AllowedHost | undefined {
  try {
    const url = new URL(raw);
    return url.hostname === "" ? undefined : { host: url.hostname.replace(/\.$/, ""), port: effectivePort(url) };
  } catch {
    return undefined;
  }
}

function hostEntry(entry: string): AllowedHost | undefined {
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(entry)) return undefined;
  try {
    const url = new URL(`http://${entry}`);
    if (url.hostname === "" || url.pathname !== "/") return undefined;
    // An entry's port is kept as written, so "host:80" pins port 80 even though a URL parser drops it for http.
    const port = /:(\d+)$/.exec(entry)?.[1] ?? null;
    return { host: url.hostname.replace(/\.$/, ""), port };
  } catch {
    return undefined;
  }
}

function isAllowed(policy: OutboundPolicy, url: URL): boolean {
  const host = url.hostname.replace(/\.$/, "");
  const port = effectivePort(url);
  return policy.allowed.some((entry) => entry.host === host && (entry.port === null || entry.port === port));
}

function effectivePort(url: URL): string {
  return url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
}

/** The authority of an absolute URL as written: between "//" and the first "/", "\", "?" or "#". */
function authorityOf(raw: string): string {
  const start = raw.indexOf("//");
  if (start < 0) return "";
  const rest = raw.slice(start + 2);
  const end = rest.search(/[/\\?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The address a host spells, with its range; undefined for a name. */
function ipLiteral(host: string): { address: string; range: AddressRange } | undefined {
  if (host.startsWith("[") && host.endsWith("]")) {
    const address = host.slice(1, -1);
    return { address, range: ipv6Range(address) };
  }
  const value = ipv4Value(host);
  if (value === undefined) return undefined;
  return { address: dotted(value), range: ipv4Range(value) };
}

/**
 * An IPv4 address in any spelling a URL parser accepts (1 to 4 parts, each decimal, octal with a leading 0, or hex
 * with 0x; the last part fills the remaining bytes), as its 32-bit value. A parser already rewrites these to dotted
 * decimal; this reads them again so the check does not depend on it.
 */
function ipv4Value(host: string): number | undefined {
  const parts = host.split(".");
  if (parts.length > 4 || parts.some((part) => part === "")) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const match = /^(?:0x([0-9a-f]*)|(0[0-7]*)|([1-9][0-9]*))$/i.exec(part);
    if (!match) return undefined;
    const [, hex, octal, decimal] = match;
    numbers.push(
      hex !== undefined
        ? hex === ""
          ? 0
          : Number.parseInt(hex, 16)
        : octal !== undefined
          ? Number.parseInt(octal, 8)
          : Number(decimal),
    );
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((part) => part > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  return numbers.reduce((sum, part, i) => sum + part * 256 ** (3 - i), 0) + last;
}

const dotted = (value: number): string => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");

/** Ranges from the IANA special-purpose registry: [first address, prefix length, range]. */
const IPV4_RANGES: readonly [string, number, AddressRange][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["127.0.0.0", 8, "loopback"],
  ["10.0.0.0", 8, "private"],
  ["172.16.0.0", 12, "private"],
  ["192.168.0.0", 16, "private"],
  ["169.254.0.0", 16, "link_local"],
  ["100.64.0.0", 10, "shared"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "reserved"],
  ["198.18.0.0", 15, "reserved"],
  ["198.51.100.0", 24, "reserved"],
  ["203.0.113.0", 24, "reserved"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function ipv4Range(value: number): AddressRange {
  for (const [first, prefix, range] of IPV4_RANGES) {
    const size = 2 ** (32 - prefix);
    const start = ipv4Value(first) ?? 0;
    if (value >= start && value < start + size) return range;
  }
  return "public";
}

/** The range of an IPv6 address (compressed or not; an IPv4-mapped or NAT64 one is the range of its IPv4 address). */
function ipv6Range(address: string): AddressRange {
  // The URL parser has already written the address in its canonical form.
  const groups = ipv6Groups(address);
  if (!groups) return "reserved";
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embeddedV4 = g6 * 65536 + g7;
  if (groups.every((group) => group === 0)) return "unspecified";
  if (g0 + g1 + g2 + g3 + g4 + g5 + g6 === 0 && g7 === 1) return "loopback";
  if (g0 + g1 + g2 + g3 + g4 === 0 && g5 === 0xffff) return ipv4Range(embeddedV4);
  if (g0 === 0x64 && g1 === 0xff9b && g2 + g3 + g4 + g5 === 0) return ipv4Range(embeddedV4);
  if ((g0 & 0xffc0) === 0xfe80) return "link_local";
  if ((g0 & 0xfe00) === 0xfc00) return "unique_local";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if (g0 === 0x2001 && g1 === 0x0db8) return "reserved";
  return "public";
}
