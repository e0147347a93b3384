import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import ada from "../../../shared/samples/real/results/lambada-1k_gpt3/ada.csv?raw";
import babbage from "../../../shared/samples/real/results/lambada-1k_gpt3/babbage.csv?raw";
import curie from "../../../shared/samples/real/results/lambada-1k_gpt3/curie.csv?raw";
import davinci from "../../../shared/samples/real/results/lambada-1k_gpt3/davinci.csv?raw";
import lambada from "../../../shared/samples/real/tasks/lambada-1k.csv?raw";
import gpt3 from "../../fixtures/families/gpt3.json";
import { validateAnalysis } from "../../src/generated/validators";
import { requireRole } from "../../src/http/organiser-auth";
import { handleError } from "../../src/app";
import type { AppEnv } from "../../src/app-env";
import { VALID_METADATA, createApiToken, problemOf, submit } from "./helpers";

const RESULTS: Record<string, string> = { ada, babbage, curie, davinci };

/** The real lambada-1k task, stored once per run (the same bytes again return the same submission). */
async function lambadaSubmission(): Promise<string> {
  const response = await submit({ csv: lambada, metadata: { ...VALID_METADATA, title: "LAMBADA 1k" } });
  expect([200, 201]).toContain(response.status);
  return (await response.json<{ id: string }>()).id;
}

function upload(
  id: string,
  token: string | undefined,
  family: unknown,
  files: Record<string, string>,
): Promise<Response> {
  const form = new FormData();
  form.append("family", JSON.stringify(family));
  for (const [model, text] of Object.entries(files))
    form.append("results", new Blob([text], { type: "text/csv" }), `${model}.csv`);
  return exports.default.fetch(`http://isv.test/v1/review/submissions/${id}/results`, {
    method: "POST",
    body: form,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

const get = (path: string, token: string): Promise<Response> =>
  exports.default.fetch(`http://isv.test${path}`, { headers: { authorization: `Bearer ${token}` } });

async function counts(id: string): Promise<{ results: number; analyses: number; audit: number }> {
  const one = async (sql: string) => (await env.DB.prepare(sql).bind(id).first<{ n: number }>())!.n;
  return {
    results: await one("SELECT COUNT(*) AS n FROM external_results WHERE submission_id = ?1"),
    analyses: await one("SELECT COUNT(*) AS n FROM analyses WHERE submission_id = ?1"),
    audit: await one("SELECT COUNT(*) AS n FROM audit_log WHERE submission_id = ?1"),
  };
}

describe("POST /v1/review/submissions/{id}/results", () => {
  it("takes real GPT-3 results for the real lambada task and finds standard scaling", async () => {
    const id = await lambadaSubmission();
    const { token, id: actor } = await createApiToken("organiser");
    const response = await upload(id, token, gpt3, RESULTS);
    expect(response.status).toBe(201);
    const body = await response.json<{
      family: string;
      models: string[];
      analyses: Record<
        string,
        { families: { family: string; verdict: string; models: { id: string; mean: number }[] }[] }
      >;
    }>();
    expect(body.family).toBe("gpt3");
    expect(Object.keys(body.analyses)).toEqual(["loss"]);
    const loss = body.analyses.loss!;
    expect(validateAnalysis(loss)).toBe(true);
    const family = loss.families.find((f) => f.family === "gpt3")!;
    expect(family.verdict).toBe("standard");
    expect(family.models.map((m) => m.id)).toEqual(["ada", "babbage", "curie", "davinci"]);
    expect(family.models[0]!.mean).toBeCloseTo(4.5278, 4);

    const stored = await get(`/v1/review/submissions/${id}/analysis`, token);
    expect(stored.status).toBe(200);
    expect((await stored.json<{ analysis: unknown }>()).analysis).toEqual(loss);
    const plot = await get(`/v1/review/submissions/${id}/plot.svg`, token);
    expect(plot.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(await plot.text()).toContain('<title id="plot-title">LAMBADA 1k: Loss (nats) against scale</title>');
    const audit = await env.DB.prepare("SELECT actor, action FROM audit_log WHERE submission_id = ?1 AND actor = ?2")
      .bind(id, actor)
      .first();
    expect(audit).toEqual({ actor, action: "results.upload" });
  });

  it("analyses every family with results together, keeping earlier analyses", async () => {
    const id = await lambadaSubmission();
    const { token } = await createApiToken("admin");
    expect((await upload(id, token, gpt3, RESULTS)).status).toBe(201);
    const before = await counts(id);
    // A second family: the same losses, as if from models ten times larger.
    const bigger = {
      name: "gpt3-x10",
      adapter: "external",
      models: gpt3.models.map((m) => ({ id: `${m.id}-x10`, parameters: m.parameters * 10 })),
    };
    const files = Object.fromEntries(Object.entries(RESULTS).map(([model, text]) => [`${model}-x10`, text]));
    const response = await upload(id, token, bigger, files);
    expect(response.status).toBe(201);
    const loss = (
      await response.json<{ analyses: { loss: { families: { family: string }[]; summary: { text: string } } } }>()
    ).analyses.loss;
    expect(loss.families.map((f) => f.family)).toEqual(["gpt3", "gpt3-x10"]);
    expect(loss.summary.text).toBe("standard in 2 of 2 families");
    const after = await counts(id);
    expect(after.analyses).toBe(before.analyses + 1);
    expect(after.audit).toBe(before.audit + 1);
  });

  it("rejects results that do not fit the task, naming each problem, and stores nothing", async () => {
    const id = await lambadaSubmission();
    const { token } = await createApiToken("organiser");
    const before = await counts(id);
    const objects = (await env.BLOBS.list({ prefix: `results/${id}/` })).objects.length;
    const missingRow = RESULTS.ada!.split("\n")
      .filter((line) => !line.startsWith("17,"))
      .join("\n");
    const { davinci: _left_out, ...withoutDavinci } = RESULTS;
    const response = await upload(id, token, gpt3, { ...withoutDavinci, ada: missingRow, "gpt-9": RESULTS.ada! });
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem.code).toBe("invalid_results");
    expect(problem.problems).toEqual(
      expect.arrayContaining([
        { file: "gpt-9.csv", message: '"gpt-9" is not a model of family gpt3' },
        { file: null, message: 'no results file for model "davinci" (send it as davinci.csv)' },
        { file: "ada.csv", message: "1 example has no row (indices 17)" },
      ]),
    );
    expect(await counts(id)).toEqual(before);
    expect((await env.BLOBS.list({ prefix: `results/${id}/` })).objects.length).toBe(objects);
  });

  it("refuses results whose models all have one scale, and stores nothing", async () => {
    const id = await lambadaSubmission();
    const { token } = await createApiToken("organiser");
    const before = await counts(id);
    const oneScale = {
      ...gpt3,
      name: "gpt3-one-scale",
      models: gpt3.models.map((m) => ({ id: m.id, parameters: 1e9 })),
    };
    const problem = await problemOf(await upload(id, token, oneScale, RESULTS));
    expect({ code: problem.code, problems: problem.problems }).toEqual({
      code: "invalid_results",
      problems: [
        {
          file: null,
          message:
            "family gpt3-one-scale: every model has the same scale (1000000000); a trend needs at least 2 different scales",
        },
      ],
    });
    expect(await counts(id)).toEqual(before);
  });

  it("answers 400 for a family that breaks its schema and 404 for an unknown submission", async () => {
    const id = await lambadaSubmission();
    const { token } = await createApiToken("organiser");
    const bad = await upload(id, token, { name: "Bad Name", adapter: "magic", models: [{ id: "a" }] }, {});
    expect(bad.status).toBe(400);
    const problem = await problemOf(bad);
    expect(problem.code).toBe("invalid_family");
    expect((problem.fields as { field: string }[]).map((f) => f.field)).toEqual(
      expect.arrayContaining(["name", "adapter", "models", "models[0].parameters"]),
    );
    expect((await problemOf(await upload(crypto.randomUUID(), token, gpt3, RESULTS))).code).toBe("not_found");
    expect((await problemOf(await get(`/v1/review/submissions/${crypto.randomUUID()}/analysis`, token))).code).toBe(
      "not_found",
    );
  });
});

describe("organiser authentication", () => {
  it("answers 401 without a token, with an unknown one and with a revoked one", async () => {
    const id = await lambadaSubmission();
    expect((await problemOf(await upload(id, undefined, gpt3, RESULTS))).code).toBe("unauthorized");
    expect((await problemOf(await get(`/v1/review/submissions/${id}/analysis`, "isv_ot_not_a_real_token"))).code).toBe(
      "unauthorized",
    );
    const { token, id: tokenId } = await createApiToken("organiser");
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2")
      .bind(new Date().toISOString(), tokenId)
      .run();
    expect((await get(`/v1/review/submissions/${id}/analysis`, token)).status).toBe(401);
  });

  it("answers 403 when the token's role is not enough, and lets an admin do what an organiser can", async () => {
    const app = new Hono<AppEnv>().get("/admin-only", requireRole("admin"), (c) => c.text("ok"));
    app.onError(handleError);
    const organiser = await createApiToken("organiser");
    const admin = await createApiToken("admin");
    const forbidden = await app.request(
      "/admin-only",
      { headers: { authorization: `Bearer ${organiser.token}` } },
      env,
    );
    expect(forbidden.status).toBe(403);
    expect((await problemOf(forbidden)).code).toBe("forbidden");
    expect(
      (await app.request("/admin-only", { headers: { authorization: `Bearer ${admin.token}` } }, env)).status,
    ).toBe(200);
  });
});
