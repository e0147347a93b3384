import { ipv6Groups, isDottedIpv4 } from "../util/ip-address";

/**
 * The client an upload is counted against, from the CF-Connecting-IP header. Behind Cloudflare that header is the
 * client's IP address, set by Cloudflare (a client's own value is replaced); under `wrangler dev` it is the local
 * address the request came from (the loopback for `npm start`), and tests set it as they like. An IPv4 address is
 * one client; an IPv6 address is counted by its /64, the smallest network a provider gives one subscriber, so one
 * host cannot take a fresh allowance from each of its addresses. A missing or unreadable header is one shared key,
 * never the header's text.
 */
export function clientKey(connectingIp: string | null | undefined): string {
  const text = connectingIp?.trim() ?? "";
  if (isDottedIpv4(text)) return `ip:${text}`;
  const groups = ipv6Groups(text);
  if (!groups) return "unknown";
  const mapped = mappedIpv4(groups);
  if (mapped) return `ip:${mapped}`;
  return `ip6:${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), if it is one. */
function mappedIpv4(groups: readonly number[]): string | undefined {
  if (!groups.slice(0, 5).every((group) => group === 0) || groups[5] !== 0xffff) return undefined;
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}
