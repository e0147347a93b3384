import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { StoredFamily } from "../../src/evaluate/stored-family";
import { putFamilyStatement } from "../../src/storage/families";
import { token, withSettings } from "./helpers";
import { ESCAPED_SCRIPT, HOSTILE_SCRIPT, pageRequest, signInOnDesk } from "./page-helpers";

/**
 * The desk's admin page, /review/settings: every family evaluations can use (built in and registered) and the
 * competition settings in force with the schema's descriptions, to admins only; families' keys never shown, every
 * stored text escaped.
 */
const get = (path: string, cookie?: string) => pageRequest(path, { headers: cookie ? { cookie } : {} });

/**
 * Registered families written straight to D1, as registration stores them: one reached with a key (its secret's
 * name, and a URL carrying credentials in its user info and query, none of which may be shown), and one whose
 * texts are hostile, which the API's schema would refuse but the page must escape all the same.
 */
const KEYED: StoredFamily = {
  name: "keyed-family",
  adapter: "openai-completions",
  baseUrl: "https://alice:hunter2@api.example.org:8443/v1/deployments/secret-path?api_key=sk-live-123",
  apiKeySecret: "TEST_PROVIDER_KEY",
  visibility: "private",
  axis: "rlhf_steps",
  models: [
    { id: "keyed-small", parameters: 125_000_000, rlhfSteps: 0 },
    { id: "keyed-large", parameters: 125_000_000, rlhfSteps: 1000 },
  ],
};
const HOSTILE_FAMILY: StoredFamily = {
  name: HOSTILE_SCRIPT,
  adapter: "external",
  models: [
    { id: `${HOSTILE_SCRIPT}-small`, parameters: 1e8 },
    { id: `${HOSTILE_SCRIPT}-large`, parameters: 1e10 },
  ],
};

let organiser: string;
const ROUND = { name: HOSTILE_SCRIPT, opensAt: "2020-01-01T00:00:00.000Z", closesAt: "2099-01-01T00:00:00.000Z" };

beforeAll(async () => {
  organiser = await token("organiser");
  await env.DB.batch([putFamilyStatement(env.DB, KEYED), putFamilyStatement(env.DB, HOSTILE_FAMILY)]);
});
// After the families are stored: the settings name one of them as public.
const saved = withSettings({
  rounds: [ROUND],
  uploadsPerHour: 7,
  spendCeilingUsd: null,
  publicFamilies: ["keyed-family"],
});

describe("the link on the list", () => {
  it("is shown to an admin", async () => {
    const text = await (await get("/review", await signInOnDesk(saved.admin))).text();
    expect(text).toContain('<a href="/review/settings">Families and competition settings</a>');
  });

  it("is not shown to an organiser who is not an admin", async () => {
    const text = await (await get("/review", await signInOnDesk(organiser))).text();
    expect(text).not.toContain("/review/settings");
  });
});

describe("who may see the page", () => {
  it("refuses an organiser who is not an admin with a 403 page", async () => {
    const response = await get("/review/settings", await signInOnDesk(organiser));
    const text = await response.text();
    expect(response.status).toBe(403);
    expect(text).toContain("Only an admin sees the families and the competition settings.");
    expect(text).not.toContain("keyed-family");
  });

  it("answers the sign-in form with 401 without a session", async () => {
    const response = await get("/review/settings");
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('<form method="post" action="/review/sign-in">');
  });
});

describe("the families, to an admin", () => {
  let text: string;
  beforeAll(async () => {
    const response = await get("/review/settings", await signInOnDesk(saved.admin));
    expect(response.status).toBe(200);
    text = await response.text();
  });

  it("lists the built-in families first, then the registered ones by name", () => {
    const headings = [...text.matchAll(/<h3 id="family-\d+">([^<]*)<\/h3>/g)].map((match) => match[1]);
    expect(headings).toEqual([
      "isv-reference",
      "isv-reference-rlhf",
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
      "keyed-family",
    ]);
  });

  it("shows a family's adapter, axis, visibility and API host", () => {
    expect(text).toContain(
      "<dt>Adapter</dt><dd>openai-completions</dd><dt>Axis</dt><dd>rlhf_steps</dd><dt>Visibility</dt><dd>private</dd><dt>API host</dt><dd>api.example.org:8443</dd>",
    );
  });

  it("shows each model's parameters and RLHF steps", () => {
    expect(text).toContain('<tr><th scope="row">keyed-large</th><td>125,000,000</td><td>–</td><td>1,000</td></tr>');
  });

  it("never shows a key's name, the URL's credentials, path or query", () => {
    for (const secret of ["TEST_PROVIDER_KEY", "alice", "hunter2", "secret-path", "api_key", "sk-live-123"])
      expect(text, secret).not.toContain(secret);
  });

  it("escapes a family's and its models' stored texts", () => {
    expect(text).toContain(`<h3 id="family-2">${ESCAPED_SCRIPT}</h3>`);
    expect(text).toContain(`<th scope="row">${ESCAPED_SCRIPT}-small</th>`);
    expect(text).not.toContain(HOSTILE_SCRIPT);
  });
});

describe("the settings in force, to an admin", () => {
  let text: string;
  beforeAll(async () => {
    text = await (await get("/review/settings", await signInOnDesk(saved.admin))).text();
  });

  it("shows each setting's value with the schema's description", () => {
    expect(text).toContain(
      '<dt><code>uploadsPerHour</code></dt><dd>7</dd><dd class="hint">Uploads and file replacements one client may make in any hour',
    );
    expect(text).toContain("<dt><code>publicFamilies</code></dt><dd>keyed-family</dd>");
    expect(text).toContain("<dt><code>spendCeilingUsd</code></dt><dd>None</dd>");
  });

  it("shows every setting of the schema", () => {
    const names = [...text.matchAll(/<dt><code>(\w+)<\/code><\/dt>/g)].map((match) => match[1]);
    expect(names).toEqual([
      "rounds",
      "minExamples",
      "maxFileBytes",
      "maxRows",
      "publicFamilies",
      "tokenBudget",
      "uploadsPerHour",
      "automaticEvaluationsPerDay",
      "automaticEvaluationsPerClientPerDay",
      "spendCeilingTokens",
      "spendCeilingUsd",
    ]);
  });

  it("escapes a round's name", () => {
    expect(text).toContain(`<li>${ESCAPED_SCRIPT}: 2020-01-01T00:00:00.000Z to 2099-01-01T00:00:00.000Z</li>`);
    expect(text).not.toContain(HOSTILE_SCRIPT);
  });
});
