import { describe, expect, it } from "vitest";
import {
  outboundVerdict,
  parseAllowedHosts,
  describeRefusal,
  type OutboundPolicy,
} from "../../src/evaluate/outbound-policy";
import { parseProviderSecrets, secretMayGoTo } from "../../src/evaluate/provider-secrets";

/** Production defaults: OUTBOUND_ALLOW_HOSTS empty. */
const strict: OutboundPolicy = { allowed: [] };

describe("the outbound policy, with no host allowed explicitly", () => {
  it("allows an https URL on a public name, giving its host", () => {
    expect(outboundVerdict(strict, "https://api.openai.com/v1")).toEqual({ ok: true, host: "api.openai.com" });
  });

  it("gives the host in lower case without a trailing dot, as secrets are matched on it", () => {
    expect(outboundVerdict(strict, "https://API.OpenAI.com./v1")).toEqual({ ok: true, host: "api.openai.com" });
  });

  it("allows a template's URL once {model} is filled in", () => {
    expect(outboundVerdict(strict, "https://gpt2.endpoints.example.org/generate")).toEqual({
      ok: true,
      host: "gpt2.endpoints.example.org",
    });
  });

  it("refuses http on a public name", () => {
    expect(outboundVerdict(strict, "http://api.openai.com/v1")).toEqual({ ok: false, reason: "not_https" });
  });

  it.each([
    ["ftp://api.openai.com/v1", "ftp"],
    ["file:///etc/passwd", "file"],
    ["gopher://api.openai.com/", "gopher"],
  ])("refuses the scheme of %s", (url, scheme) => {
    expect(outboundVerdict(strict, url)).toEqual({ ok: false, reason: "unsupported_scheme", scheme });
  });

  it.each(["not a url", "https://", "//api.openai.com/v1", "https://exa mple.org/"])("refuses %j as no URL", (url) => {
    expect(outboundVerdict(strict, url)).toEqual({ ok: false, reason: "invalid_url" });
  });

  it.each([
    "https://user:pass@10.0.0.1/v1",
    "https://user:pass@api.openai.com/v1",
    "https://user@api.openai.com/v1",
    "https://:pass@api.openai.com/v1",
    "https://@api.openai.com/v1",
  ])("refuses userinfo in %s", (url) => {
    expect(outboundVerdict(strict, url)).toEqual({ ok: false, reason: "userinfo" });
  });

  // Every spelling of an IPv4 address a URL parser accepts, each refused with the address it stands for.
  it.each([
    ["https://127.0.0.1/v1", "127.0.0.1", "loopback"],
    ["http://127.0.0.1:8788/v1", "127.0.0.1", "loopback"],
    ["https://2130706433/v1", "127.0.0.1", "loopback"],
    ["https://0x7f000001/v1", "127.0.0.1", "loopback"],
    ["https://0X7F.0.0.1/v1", "127.0.0.1", "loopback"],
    ["https://0177.0.0.1/v1", "127.0.0.1", "loopback"],
    ["https://017700000001/v1", "127.0.0.1", "loopback"],
    ["https://127.1/v1", "127.0.0.1", "loopback"],
    ["https://127.0.1/v1", "127.0.0.1", "loopback"],
    ["https://127.0.0.1./v1", "127.0.0.1", "loopback"],
    ["https://0/v1", "0.0.0.0", "unspecified"],
    ["https://0.0.0.0/v1", "0.0.0.0", "unspecified"],
    ["https://10.0.0.1/v1", "10.0.0.1", "private"],
    ["https://172.16.5.4/v1", "172.16.5.4", "private"],
    ["https://192.168.1.1/v1", "192.168.1.1", "private"],
    ["http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link_local"],
    ["https://0xa9fea9fe/", "169.254.169.254", "link_local"],
    ["https://100.64.0.1/v1", "100.64.0.1", "shared"],
    ["https://100.127.255.254/v1", "100.127.255.254", "shared"],
    ["https://224.0.0.1/v1", "224.0.0.1", "multicast"],
    ["https://192.0.2.7/v1", "192.0.2.7", "reserved"],
    ["https://8.8.8.8/v1", "8.8.8.8", "public"],
  ])("refuses %s as the IP address %s (%s)", (url, address, range) => {
    expect(outboundVerdict(strict, url)).toEqual({ ok: false, reason: "ip_literal", address, range });
  });

  it.each([
    ["https://[::1]/v1", "loopback"],
    ["https://[0:0:0:0:0:0:0:1]/v1", "loopback"],
    ["http://[::1]:8788/v1", "loopback"],
    ["https://[::]/v1", "unspecified"],
    ["https://[::ffff:127.0.0.1]/v1", "loopback"],
    ["https://[::ffff:7f00:1]/v1", "loopback"],
    ["https://[::ffff:169.254.169.254]/v1", "link_local"],
    ["https://[::ffff:10.0.0.1]/v1", "private"],
    ["https://[fe80::1]/v1", "link_local"],
    ["https://[fd00::1]/v1", "unique_local"],
    ["https://[fc00::abcd]/v1", "unique_local"],
    ["https://[ff02::1]/v1", "multicast"],
    ["https://[2606:4700:4700::1111]/v1", "public"],
  ])("refuses the IPv6 literal in %s (%s)", (url, range) => {
    expect(outboundVerdict(strict, url)).toMatchObject({ ok: false, reason: "ip_literal", range });
  });

  it.each([
    ["https://localhost/v1", "localhost"],
    ["http://localhost:8788/v1", "localhost"],
    ["https://LOCALHOST./v1", "localhost"],
    ["https://api.localhost/v1", "api.localhost"],
    ["https://printer.local/v1", "printer.local"],
    ["https://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal"],
    ["https://metadata.google.internal./computeMetadata/v1/", "metadata.google.internal"],
    ["https://vllm.corp.internal/v1", "vllm.corp.internal"],
    ["https://box.localdomain/v1", "box.localdomain"],
    ["https://router.home.arpa/v1", "router.home.arpa"],
    ["https://1.0.0.127.in-addr.arpa/v1", "1.0.0.127.in-addr.arpa"],
    ["https://metadata/v1", "metadata"],
    ["https://vllm/v1", "vllm"],
  ])("refuses the local or internal name in %s", (url, host) => {
    expect(outboundVerdict(strict, url)).toEqual({ ok: false, reason: "local_name", host });
  });
});

describe("the outbound policy, with hosts the operator allowed for local development", () => {
  const loopback: OutboundPolicy = { allowed: [{ host: "127.0.0.1", port: null }] };

  it("allows http to an allowed host, on any port when the entry names none", () => {
    expect(outboundVerdict(loopback, "http://127.0.0.1:8788/v1")).toEqual({ ok: true, host: "127.0.0.1" });
    expect(outboundVerdict(loopback, "http://127.0.0.1:9/v1")).toEqual({ ok: true, host: "127.0.0.1" });
  });

  it("matches the host however its address is spelt", () => {
    expect(outboundVerdict(loopback, "http://0x7f000001:8788/v1")).toEqual({ ok: true, host: "127.0.0.1" });
  });

  it("still refuses userinfo on an allowed host", () => {
    expect(outboundVerdict(loopback, "http://user:pass@127.0.0.1:8788/v1")).toEqual({ ok: false, reason: "userinfo" });
  });

  it("still refuses other internal addresses", () => {
    expect(outboundVerdict(loopback, "http://10.0.0.1/v1")).toMatchObject({ ok: false, range: "private" });
    expect(outboundVerdict(loopback, "http://[::1]:8788/v1")).toMatchObject({ ok: false, range: "loopback" });
  });

  it("allows only the entry's port when it names one", () => {
    const onePort: OutboundPolicy = { allowed: [{ host: "127.0.0.1", port: "8788" }] };
    expect(outboundVerdict(onePort, "http://127.0.0.1:8788/v1")).toEqual({ ok: true, host: "127.0.0.1" });
    expect(outboundVerdict(onePort, "http://127.0.0.1:8789/v1")).toMatchObject({ ok: false, reason: "ip_literal" });
  });

  it("compares an entry's port with the scheme's default port when the URL gives none", () => {
    const https443: OutboundPolicy = { allowed: [{ host: "vllm.lab.test", port: "443" }] };
    expect(outboundVerdict(https443, "https://vllm.lab.test/v1")).toEqual({ ok: true, host: "vllm.lab.test" });
    expect(outboundVerdict(https443, "http://vllm.lab.test/v1")).toEqual({ ok: false, reason: "not_https" });
  });
});

describe("OUTBOUND_ALLOW_HOSTS", () => {
  it("is empty when unset or blank", () => {
    expect(parseAllowedHosts(undefined)).toEqual({ ok: true, hosts: [] });
    expect(parseAllowedHosts("  ")).toEqual({ ok: true, hosts: [] });
  });

  it("reads comma-separated hosts, each with an optional port, in canonical form", () => {
    expect(parseAllowedHosts("127.0.0.1, LocalHost:8788,[::1]:8080, 0x7f000001")).toEqual({
      ok: true,
      hosts: [
        { host: "127.0.0.1", port: null },
        { host: "localhost", port: "8788" },
        { host: "[::1]", port: "8080" },
        { host: "127.0.0.1", port: null },
      ],
    });
  });

  it.each(["http://127.0.0.1", "user@127.0.0.1", "127.0.0.1/v1", "127.0.0.1:http", "*"])(
    "refuses the entry %j, naming the variable",
    (value) => {
      const parsed = parseAllowedHosts(value);
      expect(parsed.ok).toBe(false);
      expect(parsed.ok ? "" : parsed.message).toContain("OUTBOUND_ALLOW_HOSTS");
    },
  );
});

describe("a refusal's message", () => {
  it("names the address and its range, and where to allow a host for local development", () => {
    const verdict = outboundVerdict(strict, "https://0x7f000001/v1");
    expect(verdict.ok ? "" : describeRefusal(verdict)).toBe(
      "127.0.0.1 is an IP address (loopback); providers are called by name over https (OUTBOUND_ALLOW_HOSTS lists hosts allowed for local development)",
    );
  });
});

describe("PROVIDER_SECRETS", () => {
  it("is empty when unset or blank", () => {
    expect(parseProviderSecrets(undefined)).toEqual({ ok: true, secrets: new Map() });
    expect(parseProviderSecrets("")).toEqual({ ok: true, secrets: new Map() });
  });

  it("reads each secret's name with the hosts it may be sent to, in lower case", () => {
    expect(parseProviderSecrets('{"OPENAI_API_KEY": ["API.openai.com"], "HF_KEY": ["*.endpoints.example"]}')).toEqual({
      ok: true,
      secrets: new Map([
        ["OPENAI_API_KEY", ["api.openai.com"]],
        ["HF_KEY", ["*.endpoints.example"]],
      ]),
    });
  });

  it.each([
    ["not json", "is not valid JSON"],
    ['["OPENAI_API_KEY"]', "must be a JSON object"],
    ['{"OPENAI_API_KEY": "api.openai.com"}', "OPENAI_API_KEY must list"],
    ['{"OPENAI_API_KEY": []}', "OPENAI_API_KEY must list"],
    ['{"openai": ["api.openai.com"]}', '"openai" is not a secret name'],
    ['{"OPENAI_API_KEY": ["https://api.openai.com"]}', '"https://api.openai.com" is not a host name'],
    ['{"OPENAI_API_KEY": ["api.openai.com:443"]}', '"api.openai.com:443" is not a host name'],
    ['{"OPENAI_API_KEY": ["*"]}', '"*" is not a host name'],
  ])("refuses %s, saying what is wrong", (value, problem) => {
    const parsed = parseProviderSecrets(value);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.message).toContain("PROVIDER_SECRETS");
    expect(parsed.ok ? "" : parsed.message).toContain(problem);
  });

  const secrets = new Map([
    ["OPENAI_API_KEY", ["api.openai.com"]],
    ["HF_KEY", ["*.endpoints.example"]],
  ]);

  it("lets a secret go to a host it lists", () => {
    expect(secretMayGoTo(secrets, "OPENAI_API_KEY", "api.openai.com")).toBe(true);
  });

  it("keeps a secret from a host that only looks like one it lists", () => {
    expect(secretMayGoTo(secrets, "OPENAI_API_KEY", "api.openai.com.evil.example")).toBe(false);
    expect(secretMayGoTo(secrets, "OPENAI_API_KEY", "evilapi.openai.com")).toBe(false);
  });

  it("keeps a secret from another secret's host", () => {
    expect(secretMayGoTo(secrets, "OPENAI_API_KEY", "x.endpoints.example")).toBe(false);
  });

  it("lets a wildcard entry match subdomains, not the domain itself", () => {
    expect(secretMayGoTo(secrets, "HF_KEY", "gpt2.endpoints.example")).toBe(true);
    expect(secretMayGoTo(secrets, "HF_KEY", "endpoints.example")).toBe(false);
  });

  it("keeps an undeclared secret from every host", () => {
    expect(secretMayGoTo(secrets, "DB", "api.openai.com")).toBe(false);
  });
});
