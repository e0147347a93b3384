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
  if (isIpv4(text)) return `ip:${text}`;
  const groups = ipv6Groups(text);
  if (!groups) return "unknown";
  const mapped = mappedIpv4(groups);
  if (mapped) return `ip:${mapped}`;
  return `ip6:${groups.slice(0, 4).join(":")}::/64`;
}

function isIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255);
}

/** The eight 16-bit groups of an IPv6 address (lower-case hex, no leading zeros), or undefined if it is not one. */
function ipv6Groups(text: string): string[] | undefined {
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (half: string | undefined): string[] | undefined => {
    if (!half) return [];
    const groups: string[] = [];
    const parts = half.split(":");
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && isIpv4(part)) {
        const [a = 0, b = 0, c = 0, d = 0] = part.split(".").map(Number);
        groups.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) groups.push(Number.parseInt(part, 16).toString(16));
      else return undefined;
    }
    return groups;
  };
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<string>(missing).fill("0"), ...tail] : undefined;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), if it is one. */
function mappedIpv4(groups: readonly string[]): string | undefined {
  if (!groups.slice(0, 5).every((group) => group === "0") || groups[5] !== "ffff") return undefined;
  const [high = 0, low = 0] = groups.slice(6).map((group) => Number.parseInt(group, 16));
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}
