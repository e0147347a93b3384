import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import referenceFamily from "../../fixtures/families/reference.json";
import { defined } from "../defined";
import { call, problemOf, token } from "./helpers";

/** Registers a family as an admin would, under a name unique to the test. */
async function register(admin: string, overrides: Record<string, unknown>): Promise<string> {
  const name = `check-${crypto.randomUUID().slice(0, 8)}`;
  const definition = {
    ...referenceFamily,
    baseUrl: inject("referenceUrl"),
    models: referenceFamily.models.slice(0, 2),
    ...overrides,
    name,
  };
  expect(
    (await call(`/v1/review/families/${name}`, admin, { method: "PUT", body: JSON.stringify(definition) })).status,
  ).toBe(200);
  return name;
}

const check = (name: string, bearer: string) => call(`/v1/review/families/${name}/check`, bearer, { method: "POST" });

describe("POST /v1/review/families/{name}/check", () => {
  it("passes every model of the reference family, over real HTTP", async () => {
    const admin = await token("admin");
    const name = await register(admin, {});
    const response = await check(name, admin);
    expect(response.status).toBe(200);
    const body = await response.json<{ ok: boolean; models: { model: string; ok: boolean; problems: string[] }[] }>();
    expect({ ok: body.ok, models: body.models.map(({ model, ok, problems }) => ({ model, ok, problems })) }).toEqual({
      ok: true,
      models: [
        { model: "isv-ngram-1", ok: true, problems: [] },
        { model: "isv-ngram-2", ok: true, problems: [] },
      ],
    });
  });

  it("estimates the cost of a 1,000-example task from the family's price", async () => {
    const admin = await token("admin");
    const name = await register(admin, { pricing: { usdPerMillionTokens: 2 } });
    const body = await (await check(name, admin)).json<{ models: { estimate: { tokens: number; usd: number } }[] }>();
    const { estimate } = defined(body.models[0], "a checked model");
    expect(estimate.usd).toBe(Math.round(((estimate.tokens * 2) / 1e6) * 100) / 100);
  });

  it("reports an unreachable server per model, with the reason, and ok false", async () => {
    const admin = await token("admin");
    const name = await register(admin, { baseUrl: "http://127.0.0.1:9/v1" });
    const body = await (await check(name, admin)).json<{
      ok: boolean;
      models: { reachable: boolean; problems: string[] }[];
    }>();
    expect({ ok: body.ok, first: body.models[0] }).toMatchObject({
      ok: false,
      first: { reachable: false, problems: ["the provider could not be reached"] },
    });
  });

  it("is audited as family.check with the host, the secret's name and the models that failed", async () => {
    const admin = await token("admin");
    const name = await register(admin, {});
    await check(name, admin);
    const row = await env.DB.prepare(
      "SELECT detail_json FROM audit_log WHERE action = 'family.check' AND json_extract(detail_json, '$.family') = ?1",
    )
      .bind(name)
      .first<{ detail_json: string }>();
    expect(JSON.parse(defined(row, "a family.check audit entry").detail_json)).toEqual({
      family: name,
      baseUrl: inject("referenceUrl"),
      apiKeySecret: null,
      ok: true,
      failed: [],
    });
  });

  it("answers 422 not_checkable for a family whose results are uploaded", async () => {
    const admin = await token("admin");
    const name = await register(admin, { adapter: "external" });
    expect((await problemOf(await check(name, admin))).code).toBe("not_checkable");
  });

  it("answers 422 not_checkable when the family's API key secret is declared but not set", async () => {
    const admin = await token("admin");
    // vitest.config.ts declares TEST_PROVIDER_KEY for 127.0.0.1 in PROVIDER_SECRETS, and sets no such secret.
    const name = await register(admin, { apiKeySecret: "TEST_PROVIDER_KEY" });
    const problem = await problemOf(await check(name, admin));
    expect({ code: problem.code, detail: problem.detail }).toEqual({
      code: "not_checkable",
      detail: `the secret TEST_PROVIDER_KEY for family ${name} is not set.`,
    });
  });

  it("answers 404 for a family that is not registered", async () => {
    expect((await problemOf(await check("never-registered", await token("admin")))).code).toBe("not_found");
  });

  it("is for admins: an organiser gets 403", async () => {
    const admin = await token("admin");
    const name = await register(admin, {});
    expect((await problemOf(await check(name, await token("organiser")))).code).toBe("forbidden");
  });
});
