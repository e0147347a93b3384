import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import worker from "../../src/index";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { getEvaluation, type StoredFamily } from "../../src/storage/evaluations";
import { listShards } from "../../src/storage/shards";
import { getFamily, putFamilyStatement } from "../../src/storage/families";
import { getSubmission, type SubmissionRecord } from "../../src/storage/submissions";
import { defined } from "../defined";
import { VALID_METADATA, call, drainShards, fetchSubmission, heldQueue, problemOf, submit, token } from "./helpers";

/**
 * Findings 2 and 3 of issue 13: who may register a family, which secrets go to which hosts, which addresses the
 * service may call, and that a provider's answers never reach a stored row or a response.
 *
 * vitest.config.ts allows 127.0.0.1 (OUTBOUND_ALLOW_HOSTS) so the other tests reach the loopback reference server,
 * and declares TEST_PROVIDER_KEY for it and OTHER_PROVIDER_KEY for api.other.example (PROVIDER_SECRETS). Tests of
 * the production defaults send requests with those variables replaced, as a deployment's wrangler.toml sets them.
 */
const PRODUCTION_DEFAULTS = {
  OUTBOUND_ALLOW_HOSTS: "",
  PROVIDER_SECRETS: "{}",
  REFERENCE_BASE_URL: "http://127.0.0.1:8788/v1",
};

const definition = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  adapter: "openai-completions",
  baseUrl: "https://api.example.org/v1",
  models: [
    { id: "isv-ngram-1", parameters: 572 },
    { id: "isv-ngram-2", parameters: 3084 },
  ],
  ...overrides,
});

const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** PUT /v1/review/families/{name} through the Worker, with `vars` in place of the test configuration's. */
async function putFamily(bearer: string, body: { name: string }, vars: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://isv.test/v1/review/families/${body.name}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify(body),
    }),
    { ...env, ...vars },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** A fresh classification task of 301 examples (4 shards a model), with the token its submitter holds. */
async function submittedTask(): Promise<{ record: SubmissionRecord; submitterToken: string }> {
  const tag = crypto.randomUUID().slice(0, 8);
  const csv = `${memoTrap.replace(/^"(\w+ asks:)/gm, `"[${tag}] $1`)}"Ada asks: say ""${tag}"":\nA quiet river hides the deepest","[' water', ' stones']",0\n`;
  const response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "classification" } });
  expect(response.status).toBe(201);
  const { id, submitterToken } = await response.json<{ id: string; submitterToken: string }>();
  return { record: defined(await getSubmission(env.DB, id), `submission ${id}`), submitterToken };
}

/** Every request the Worker sends out while a test runs, answered by `answer` for the hosts it knows. */
function interceptFetch(answer: (url: URL, init: RequestInit | undefined) => Response | undefined) {
  const original = globalThis.fetch;
  const sent: { url: string; init: RequestInit | undefined }[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    sent.push({ url: url.href, init });
    return answer(url, init) ?? original(input, init);
  });
  return { sent, restore: () => spy.mockRestore() };
}

describe("registering a family (PUT /v1/review/families/{name})", () => {
  let admin: string;
  let organiser: string;

  beforeAll(async () => {
    [admin, organiser] = await Promise.all([token("admin"), token("organiser")]);
  });

  it("is for admins: an organiser gets 403 forbidden and nothing is stored", async () => {
    const name = uniqueName("by-organiser");
    const problem = await problemOf(await putFamily(organiser, definition(name)));
    expect({ status: problem.status, code: problem.code, stored: await getFamily(env.DB, name) }).toEqual({
      status: 403,
      code: "forbidden",
      stored: undefined,
    });
  });

  it("still lets an organiser list the registered families", async () => {
    const name = uniqueName("listed");
    expect((await putFamily(admin, definition(name))).status).toBe(200);
    const listed = await (await call("/v1/review/families", organiser)).json<{ families: { name: string }[] }>();
    expect(listed.families.map((family) => family.name)).toContain(name);
  });

  it("lets an admin register a family on an https host", async () => {
    expect((await putFamily(admin, definition(uniqueName("https")))).status).toBe(200);
  });

  it("refuses to replace the built-in isv-reference family: 409 family_builtin, nothing stored", async () => {
    const hijack = definition("isv-reference", { baseUrl: "https://capture.example/v1" });
    const problem = await problemOf(await putFamily(admin, hijack));
    expect({ status: problem.status, code: problem.code, stored: await getFamily(env.DB, "isv-reference") }).toEqual({
      status: 409,
      code: "family_builtin",
      stored: undefined,
    });
  });

  it.each([
    "http://127.0.0.1:9999/v1",
    "https://127.0.0.1/v1",
    "https://0x7f000001/v1",
    "https://2130706433/v1",
    "https://127.1/v1",
    "https://[::1]/v1",
    "https://[::ffff:127.0.0.1]/v1",
    "http://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/v1",
    "https://metadata.google.internal/computeMetadata/v1",
    "https://localhost/v1",
    "https://user:pass@10.0.0.1/v1",
    "http://api.example.org/v1",
  ])("refuses baseUrl %s under the production defaults: 422 host_refused, nothing stored", async (baseUrl) => {
    const name = uniqueName("internal");
    const problem = await problemOf(await putFamily(admin, definition(name, { baseUrl }), PRODUCTION_DEFAULTS));
    expect({ status: problem.status, code: problem.code, stored: await getFamily(env.DB, name) }).toEqual({
      status: 422,
      code: "host_refused",
      stored: undefined,
    });
  });

  it("refuses a tgi template whose {model} would make an internal host: 422 host_refused", async () => {
    const family = definition(uniqueName("template"), {
      adapter: "tgi",
      baseUrl: "https://{model}/",
      models: [
        { id: "gpt2.example.org", parameters: 1 },
        { id: "169.254.169.254", parameters: 2 },
      ],
    });
    expect((await problemOf(await putFamily(admin, family, PRODUCTION_DEFAULTS))).code).toBe("host_refused");
  });

  it("allows the loopback reference server where OUTBOUND_ALLOW_HOSTS lists 127.0.0.1 (this configuration)", async () => {
    expect(
      (await putFamily(admin, definition(uniqueName("loopback"), { baseUrl: inject("referenceUrl") }))).status,
    ).toBe(200);
  });

  it("refuses an apiKeySecret PROVIDER_SECRETS does not declare (a binding's name): 422 secret_not_allowed", async () => {
    const name = uniqueName("undeclared");
    const family = definition(name, { baseUrl: "https://capture.example/v1", apiKeySecret: "MIN_EXAMPLES" });
    const problem = await problemOf(await putFamily(admin, family));
    expect({ status: problem.status, code: problem.code, stored: await getFamily(env.DB, name) }).toEqual({
      status: 422,
      code: "secret_not_allowed",
      stored: undefined,
    });
  });

  it("refuses a declared secret for a host it is not declared for: 422 secret_not_allowed", async () => {
    const family = definition(uniqueName("other-host"), {
      baseUrl: "https://capture.example/v1",
      apiKeySecret: "OTHER_PROVIDER_KEY",
    });
    const problem = await problemOf(await putFamily(admin, family));
    expect({ code: problem.code, detail: problem.detail }).toEqual({
      code: "secret_not_allowed",
      detail:
        "PROVIDER_SECRETS allows OTHER_PROVIDER_KEY to be sent to api.other.example only, not to capture.example.",
    });
  });

  it("registers a declared secret for a host it is declared for", async () => {
    const family = definition(uniqueName("declared"), {
      baseUrl: inject("referenceUrl"),
      apiKeySecret: "TEST_PROVIDER_KEY",
    });
    expect((await putFamily(admin, family)).status).toBe(200);
  });

  it("answers 500 configuration_invalid, naming the variable, when PROVIDER_SECRETS cannot be read", async () => {
    const family = definition(uniqueName("misconfigured"), {
      baseUrl: "https://api.other.example/v1",
      apiKeySecret: "OTHER_PROVIDER_KEY",
    });
    const problem = await problemOf(await putFamily(admin, family, { PROVIDER_SECRETS: "{oops" }));
    expect({ status: problem.status, code: problem.code, named: problem.detail.includes("PROVIDER_SECRETS") }).toEqual({
      status: 500,
      code: "configuration_invalid",
      named: true,
    });
  });
});

describe("a family stored before the policy, at call time", () => {
  const store = async (family: StoredFamily) => {
    await putFamilyStatement(env.DB, family).run();
    return family;
  };

  it("fails its shards host_refused without a request to the internal address", async () => {
    const intercepted = interceptFetch(() => undefined);
    try {
      const family = await store({
        ...(referenceFamily as StoredFamily),
        name: uniqueName("metadata"),
        baseUrl: "http://169.254.169.254/v1",
        models: referenceFamily.models.slice(0, 1),
      });
      const started = await startEvaluation(heldQueue, (await submittedTask()).record, family);
      const evaluationId = started.ok ? started.evaluation.id : "";
      await drainShards(evaluationId);
      const shards = await listShards(env.DB, evaluationId);
      expect({
        states: shards.map((shard) => [shard.state, shard.error?.split(":")[0]]),
        sent: intercepted.sent.filter((request) => request.url.includes("169.254")),
      }).toEqual({ states: Array.from({ length: 4 }, () => ["failed", "host_refused"]), sent: [] });
    } finally {
      intercepted.restore();
    }
  });

  it("never reads or sends a secret PROVIDER_SECRETS does not declare", async () => {
    const intercepted = interceptFetch((url) => (url.hostname === "capture.example" ? new Response("{}") : undefined));
    try {
      const family = await store({
        ...(referenceFamily as StoredFamily),
        name: uniqueName("capture"),
        baseUrl: "https://capture.example/v1",
        apiKeySecret: "MIN_EXAMPLES",
        models: referenceFamily.models.slice(0, 1),
      });
      const started = await startEvaluation(heldQueue, (await submittedTask()).record, family);
      const evaluationId = started.ok ? started.evaluation.id : "";
      await drainShards(evaluationId);
      const shards = await listShards(env.DB, evaluationId);
      expect({
        states: shards.map((shard) => [shard.state, shard.error?.split(":")[0]]),
        sent: intercepted.sent.filter((request) => request.url.includes("capture.example")),
      }).toEqual({ states: Array.from({ length: 4 }, () => ["failed", "secret_not_allowed"]), sent: [] });
    } finally {
      intercepted.restore();
    }
  });

  it("is refused by the family check: 422 not_checkable, saying why", async () => {
    const family = await store({
      ...(referenceFamily as StoredFamily),
      name: uniqueName("check-metadata"),
      baseUrl: "http://169.254.169.254/v1",
    });
    const problem = await problemOf(
      await call(`/v1/review/families/${family.name}/check`, await token("admin"), { method: "POST" }),
    );
    expect({ code: problem.code, detail: problem.detail }).toEqual({
      code: "not_checkable",
      detail:
        "169.254.169.254 is an IP address (link_local); providers are called by name over https (OUTBOUND_ALLOW_HOSTS lists hosts allowed for local development).",
    });
  });

  it("does not follow a provider's redirect, failing the shard provider_redirected", async () => {
    const intercepted = interceptFetch((url) =>
      url.hostname === "redirecting.example"
        ? new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data" } })
        : undefined,
    );
    try {
      const family = await store({
        ...(referenceFamily as StoredFamily),
        name: uniqueName("redirecting"),
        baseUrl: "https://redirecting.example/v1",
        models: referenceFamily.models.slice(0, 1),
      });
      const started = await startEvaluation(heldQueue, (await submittedTask()).record, family);
      const evaluationId = started.ok ? started.evaluation.id : "";
      await drainShards(evaluationId);
      const shards = await listShards(env.DB, evaluationId);
      expect({
        states: [...new Set(shards.map((shard) => `${shard.state} ${shard.error}`))],
        redirects: [...new Set(intercepted.sent.map((request) => request.init?.redirect))],
        metadata: intercepted.sent.filter((request) => request.url.includes("169.254")),
      }).toEqual({
        states: ["failed provider_redirected: the provider answered HTTP 302, a redirect, which is not followed"],
        redirects: ["manual"],
        metadata: [],
      });
    } finally {
      intercepted.restore();
    }
  });
});

describe("a provider whose answers carry text of its own", () => {
  const MARKER = "MARKER-7f3a9c-provider-said-this";
  let intercepted: ReturnType<typeof interceptFetch>;
  let evaluationId: string;
  let task: { record: SubmissionRecord; submitterToken: string };
  let family: string;
  let admin: string;
  const responses: Record<string, string> = {};

  beforeAll(async () => {
    // isv-ngram-1 is refused for good (400); isv-ngram-2 fails on the server's side (503) until the retries run out.
    intercepted = interceptFetch((url, init) => {
      if (url.hostname !== "chatty.example") return undefined;
      const model = (JSON.parse(String(init?.body ?? "{}")) as { model?: string }).model;
      const status = model === "isv-ngram-1" ? 400 : 503;
      return Response.json({ error: { message: `${MARKER}: secret-ish upstream detail`, code: MARKER } }, { status });
    });
    admin = await token("admin");
    const organiser = await token("organiser");
    family = uniqueName("chatty");
    expect((await putFamily(admin, definition(family, { baseUrl: "https://chatty.example/v1" }))).status).toBe(200);
    task = await submittedTask();
    const started = await startEvaluation(heldQueue, task.record, defined(await getFamily(env.DB, family), family));
    evaluationId = started.ok ? started.evaluation.id : "";
    await drainShards(evaluationId);
    await drainShards(evaluationId, "isv-evaluations-dlq");
    const id = task.record.id;
    const reads: [string, Promise<Response>][] = [
      ["check", call(`/v1/review/families/${family}/check`, admin, { method: "POST" })],
      ["organiser evaluation", call(`/v1/review/evaluations/${evaluationId}`, organiser)],
      ["organiser evaluations", call(`/v1/review/submissions/${id}/evaluations`, organiser)],
      ["organiser submission", call(`/v1/review/submissions/${id}`, organiser)],
      ["audit", call("/v1/review/audit?limit=100", organiser)],
      ["submitter", fetchSubmission(id, task.submitterToken)],
    ];
    for (const [label, response] of reads) responses[label] = await (await response).text();
  });

  afterAll(() => intercepted.restore());

  it("was asked, and answered with the marker", () => {
    expect(intercepted.sent.some((request) => request.url === "https://chatty.example/v1/completions")).toBe(true);
  });

  it("ends the evaluation failed", async () => {
    expect((await getEvaluation(env.DB, evaluationId))?.state).toBe("failed");
  });

  it("leaves the marker in no stored row", async () => {
    const { results: tables } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
    ).all<{ name: string }>();
    const holding: string[] = [];
    for (const { name } of tables) {
      const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
      if (JSON.stringify(results).includes(MARKER)) holding.push(name);
    }
    expect({ tables: tables.length > 5, holding }).toEqual({ tables: true, holding: [] });
  });

  it("shows the marker in no response, to organisers or the submitter", () => {
    expect(Object.entries(responses).filter(([, body]) => body.includes(MARKER))).toEqual([]);
  });

  it("shows the submitter each model's failure class only", () => {
    const seen = JSON.parse(defined(responses.submitter, "the submitter's view")) as {
      evaluations: { id: string; reason: string | null }[];
    };
    expect(seen.evaluations.find((evaluation) => evaluation.id === evaluationId)?.reason).toBe(
      "isv-ngram-1: shards 0, 1, 2, 3 failed (provider_rejected); isv-ngram-2: shards 0, 1, 2, 3 failed (provider_server_error)",
    );
  });

  it("shows organisers each shard's class with the HTTP status", () => {
    const seen = JSON.parse(defined(responses["organiser evaluation"], "the organisers' view")) as {
      failedShards: { model: string; error: string }[];
    };
    expect([...new Set(seen.failedShards.map((shard) => `${shard.model} ${shard.error}`))]).toEqual([
      "isv-ngram-1 provider_rejected: the provider answered HTTP 400",
      "isv-ngram-2 provider_server_error: the provider answered HTTP 503 (gave up after 1 attempts)",
    ]);
  });

  it("gives the family check's problems without the provider's text", () => {
    const check = JSON.parse(defined(responses.check, "the check")) as { models: { problems: string[] }[] };
    expect(check.models.map((model) => model.problems)).toEqual([
      ["the provider answered HTTP 400"],
      ["the provider answered HTTP 503"],
    ]);
  });
});
