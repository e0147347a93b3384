import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
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
import { defined } from "../defined";
import { VALID_METADATA, seedApiToken, problemOf, submit } from "./helpers";

const RESULTS: Record<string, string> = { ada, babbage, curie, davinci };

/** The real lambada-1k task, stored once per test file (the same bytes again return the same submission). */
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
  const one = async (sql: string) => defined(await env.DB.prepare(sql).bind(id).first<{ n: number }>(), sql).n;
  return {
    results: await one("SELECT COUNT(*) AS n FROM external_results WHERE submission_id = ?1"),
    analyses: await one("SELECT COUNT(*) AS n FROM analyses WHERE submission_id = ?1"),
    audit: await one("SELECT COUNT(*) AS n FROM audit_log WHERE submission_id = ?1"),
  };
}

describe("POST /v1/review/submissions/{id}/results: real GPT-3 results for the real lambada task", () => {
  let id: string;
  let token: string;
  let actor: string;
  let response: Response;
  let body: {
    family: string;
    models: string[];
    analyses: Record<
      string,
      { families: { family: string; verdict: string; models: { id: string; mean: number }[] }[] }
    >;
  };
  const loss = () => defined(body.analyses.loss, "an analysis of loss");
  const gpt3Analysis = () =>
    defined(
      loss().families.find((f) => f.family === "gpt3"),
      "the gpt3 family's analysis",
    );

  beforeAll(async () => {
    id = await lambadaSubmission();
    ({ token, id: actor } = await seedApiToken("organiser"));
    response = await upload(id, token, gpt3, RESULTS);
    body = await response.clone().json();
  });

  it("answers 201 naming the family", () => {
    expect(response.status).toBe(201);
    expect(body.family).toBe("gpt3");
  });

  it("analyses the task's one metric, loss", () => {
    expect(Object.keys(body.analyses)).toEqual(["loss"]);
  });

  it("returns an analysis that matches its schema", () => {
    expect(validateAnalysis(loss())).toBe(true);
  });

  it("finds standard scaling", () => {
    expect(gpt3Analysis().verdict).toBe("standard");
  });

  it("lists the family's models in order of scale", () => {
    expect(gpt3Analysis().models.map((m) => m.id)).toEqual(["ada", "babbage", "curie", "davinci"]);
  });

  it("gives the smallest model's mean loss as its results file has it", () => {
    expect(defined(gpt3Analysis().models[0], "the smallest model's analysis").mean).toBeCloseTo(4.5278, 4);
  });

  it("stores the analysis it returned", async () => {
    const stored = await get(`/v1/review/submissions/${id}/analysis`, token);
    expect(stored.status).toBe(200);
    expect((await stored.json<{ analysis: unknown }>()).analysis).toEqual(loss());
  });

  it("draws the plot, titled with the task and the metric", async () => {
    const plot = await get(`/v1/review/submissions/${id}/plot.svg`, token);
    expect(plot.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(await plot.text()).toContain('<title id="plot-title">LAMBADA 1k: Loss (nats) against scale</title>');
  });

  it("audits the upload under the token that made it", async () => {
    const audit = await env.DB.prepare("SELECT actor, action FROM audit_log WHERE submission_id = ?1 AND actor = ?2")
      .bind(id, actor)
      .first();
    expect(audit).toEqual({ actor, action: "results.upload" });
  });
});

describe("POST /v1/review/submissions/{id}/results: a second family", () => {
  let before: Awaited<ReturnType<typeof counts>>;
  let after: Awaited<ReturnType<typeof counts>>;
  let response: Response;
  let loss: { families: { family: string }[]; summary: { text: string } };

  beforeAll(async () => {
    const id = await lambadaSubmission();
    const { token } = await seedApiToken("admin");
    expect((await upload(id, token, gpt3, RESULTS)).status).toBe(201);
    before = await counts(id);
    // A second family: the same losses, as if from models ten times larger.
    const bigger = {
      name: "gpt3-x10",
      adapter: "external",
      models: gpt3.models.map((m) => ({ id: `${m.id}-x10`, parameters: m.parameters * 10 })),
    };
    const files = Object.fromEntries(Object.entries(RESULTS).map(([model, text]) => [`${model}-x10`, text]));
    response = await upload(id, token, bigger, files);
    loss = (await response.clone().json<{ analyses: { loss: typeof loss } }>()).analyses.loss;
    after = await counts(id);
  });

  it("is accepted (201)", () => {
    expect(response.status).toBe(201);
  });

  it("is analysed together with every family that has results", () => {
    expect(loss.families.map((f) => f.family)).toEqual(["gpt3", "gpt3-x10"]);
  });

  it("is summarised with the other families' verdicts", () => {
    expect(loss.summary.text).toBe("standard in 2 of 2 families");
  });

  it("adds an analysis, keeping the earlier ones", () => {
    expect(after.analyses).toBe(before.analyses + 1);
  });

  it("is audited", () => {
    expect(after.audit).toBe(before.audit + 1);
  });
});

describe("POST /v1/review/submissions/{id}/results: results that do not fit the task", () => {
  let id: string;
  let before: Awaited<ReturnType<typeof counts>>;
  let objects: number;
  let response: Response;

  beforeAll(async () => {
    id = await lambadaSubmission();
    const { token } = await seedApiToken("organiser");
    before = await counts(id);
    objects = (await env.BLOBS.list({ prefix: `results/${id}/` })).objects.length;
    const missingRow = ada
      .split("\n")
      .filter((line) => !line.startsWith("17,"))
      .join("\n");
    const { davinci: _left_out, ...withoutDavinci } = RESULTS;
    response = await upload(id, token, gpt3, { ...withoutDavinci, ada: missingRow, "gpt-9": ada });
  });

  it("are refused (422), naming each problem", async () => {
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
  });

  it("leave nothing stored: no row and no object", async () => {
    expect(await counts(id)).toEqual(before);
    expect((await env.BLOBS.list({ prefix: `results/${id}/` })).objects.length).toBe(objects);
  });
});

describe("POST /v1/review/submissions/{id}/results: refusals", () => {
  let id: string;
  let token: string;

  beforeAll(async () => {
    id = await lambadaSubmission();
    ({ token } = await seedApiToken("organiser"));
  });

  it("refuses results whose models all have one scale, and stores nothing", async () => {
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

  it("answers 400 for a family that breaks its schema, naming each field", async () => {
    const bad = await upload(id, token, { name: "Bad Name", adapter: "magic", models: [{ id: "a" }] }, {});
    expect(bad.status).toBe(400);
    const problem = await problemOf(bad);
    expect(problem.code).toBe("invalid_family");
    expect((problem.fields as { field: string }[]).map((f) => f.field)).toEqual(
      expect.arrayContaining(["name", "adapter", "models", "models[0].parameters"]),
    );
  });

  it("answers 404 for results on an unknown submission", async () => {
    expect((await problemOf(await upload(crypto.randomUUID(), token, gpt3, RESULTS))).code).toBe("not_found");
  });

  it("answers 404 for the analysis of an unknown submission", async () => {
    expect((await problemOf(await get(`/v1/review/submissions/${crypto.randomUUID()}/analysis`, token))).code).toBe(
      "not_found",
    );
  });
});

describe("organiser authentication", () => {
  let id: string;

  beforeAll(async () => {
    id = await lambadaSubmission();
  });

  it("answers 401 without a token", async () => {
    expect((await problemOf(await upload(id, undefined, gpt3, RESULTS))).code).toBe("unauthorized");
  });

  it("answers 401 to a token it does not know", async () => {
    expect((await problemOf(await get(`/v1/review/submissions/${id}/analysis`, "isv_ot_not_a_real_token"))).code).toBe(
      "unauthorized",
    );
  });

  it("answers 401 to a revoked token", async () => {
    const { token, id: tokenId } = await seedApiToken("organiser");
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2")
      .bind(new Date().toISOString(), tokenId)
      .run();
    expect((await get(`/v1/review/submissions/${id}/analysis`, token)).status).toBe(401);
  });

  describe("roles", () => {
    const app = new Hono<AppEnv>().get("/admin-only", requireRole("admin"), (c) => c.text("ok"));
    app.onError(handleError);
    const asRole = async (role: "organiser" | "admin") =>
      app.request("/admin-only", { headers: { authorization: `Bearer ${(await seedApiToken(role)).token}` } }, env);

    it("answers 403 when the token's role is not enough", async () => {
      const forbidden = await asRole("organiser");
      expect(forbidden.status).toBe(403);
      expect((await problemOf(forbidden)).code).toBe("forbidden");
    });

    it("lets an admin through an admin-only route", async () => {
      expect((await asRole("admin")).status).toBe(200);
    });
  });
});
