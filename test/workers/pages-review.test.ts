import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { listAudit } from "../../src/storage/audit";
import type { StoredFamily } from "../../src/storage/evaluations";
import { readExamples } from "../../src/storage/examples";
import { resultStatements } from "../../src/storage/results";
import { getSubmission } from "../../src/storage/submissions";
import { defined } from "../defined";
import {
  drainShards,
  heldQueue,
  lambadaVariant,
  postDecision,
  seedApiToken,
  submit,
  taggedMemoTrapTask,
  token,
  VALID_METADATA,
} from "./helpers";
import { ELSEWHERE, ESCAPED, HOSTILE, PAGE_ORIGIN, pageRequest, signInOnDesk } from "./page-helpers";

/**
 * The review desk, /review: sign-in with an organiser token exchanged for a cookie (never in a URL), revocation,
 * the filtered list, the task page (escaped, anonymised, the examples that drive the verdict) and the decision form.
 */
const FORM = "application/x-www-form-urlencoded";

const signIn = (pasted: string, headers: Record<string, string> = { origin: PAGE_ORIGIN }) =>
  pageRequest("/review/sign-in", { method: "POST", body: new URLSearchParams({ token: pasted }), headers });

/** Text as hono/jsx escapes it. */
const asHtml = (text: string): string =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

const get = (path: string, cookie: string) => pageRequest(path, { headers: { cookie } });

const postForm = (path: string, cookie: string, fields: Record<string, string>, origin = PAGE_ORIGIN) =>
  pageRequest(path, {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: { cookie, origin, "content-type": FORM },
  });

/** A new task from the API with `fields` in its metadata; its id. */
async function newTask(label: string, fields: Record<string, unknown> = {}): Promise<string> {
  const response = await submit({ csv: lambadaVariant(label), metadata: { ...VALID_METADATA, ...fields } });
  expect(response.status).toBe(201);
  return (await response.json<{ id: string }>()).id;
}

async function stateOf(id: string): Promise<string> {
  return defined(await getSubmission(env.DB, id), id).state;
}

describe("signing in", () => {
  it("shows the sign-in form posting the token in the body, without a session", async () => {
    const text = await (await pageRequest("/review")).text();
    expect(text).toContain('<form method="post" action="/review/sign-in">');
    expect(text).toContain('type="password"');
  });

  it("exchanges the token for a cookie on /review: HttpOnly, Secure, SameSite=Strict, and a Location naming no token", async () => {
    const organiser = await token("organiser");
    const response = await signIn(organiser);
    expect([response.status, response.headers.get("location")]).toEqual([303, "/review"]);
    expect(response.headers.get("set-cookie")).toBe(
      `isv_organiser=${organiser}; Max-Age=28800; Path=/review; HttpOnly; Secure; SameSite=Strict`,
    );
  });

  it("refuses an unknown token with the form again and no cookie", async () => {
    const response = await signIn("isv_ot_not_a_token");
    expect([response.status, response.headers.get("set-cookie")]).toEqual([401, null]);
    expect(await response.text()).toContain("This is not a valid organiser token");
  });

  it("refuses a sign-in posted from another site", async () => {
    const response = await signIn(await token("organiser"), { origin: ELSEWHERE });
    expect([response.status, response.headers.get("set-cookie")]).toEqual([403, null]);
  });

  it("ends the session at once when its token is revoked", async () => {
    const { token: organiser, id } = await seedApiToken("organiser");
    const cookie = await signInOnDesk(organiser);
    const task = await newTask("Revoked");
    expect((await get(`/review/submissions/${task}`, cookie)).status).toBe(200);
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2")
      .bind(new Date().toISOString(), id)
      .run();
    const page = await get(`/review/submissions/${task}`, cookie);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('<form method="post" action="/review/sign-in">');
    expect(await (await get("/review", cookie)).text()).toContain('<form method="post" action="/review/sign-in">');
  });

  it("signs out by clearing the cookie", async () => {
    const cookie = await signInOnDesk(await token("organiser"));
    const response = await postForm("/review/sign-out", cookie, {});
    expect([response.status, response.headers.get("set-cookie")]).toEqual([
      303,
      "isv_organiser=; Max-Age=0; Path=/review; HttpOnly; Secure; SameSite=Strict",
    ]);
  });
});

describe("the list", () => {
  it("filters by state as the API does, each submission linking its task page", async () => {
    const organiser = await token("organiser");
    const [sentBack, waiting] = [await newTask("Sent back"), await newTask("Waiting")];
    expect((await postDecision(sentBack, organiser, "request_changes")).status).toBe(200);
    const text = await (await get("/review?state=changes_requested&taskType=", await signInOnDesk(organiser))).text();
    expect(text).toContain(`<a href="/review/submissions/${sentBack}">`);
    expect(text).not.toContain(waiting);
    expect(text).toContain('<option value="changes_requested" selected="">changes_requested</option>');
  });
});

describe("the task page", () => {
  let task: string;
  let organiser: string;
  beforeAll(async () => {
    organiser = await signInOnDesk(await token("organiser"));
    task = await newTask("Hostile", {
      title: HOSTILE,
      description: HOSTILE,
      whyItMatters: HOSTILE,
      authors: [{ name: "Grace Hidden", affiliation: "Secret Lab", agreesToBeNamed: true }],
      contactEmail: "grace@hidden.example",
    });
  });

  it("escapes every submitted text", async () => {
    const text = await (await get(`/review/submissions/${task}`, organiser)).text();
    expect(text).not.toContain("<script>alert");
    // The <title>, the heading, and the metadata's title, description and whyItMatters.
    expect(text.split(ESCAPED).length - 1).toBe(5);
  });

  it("hides the authors and the contact from an organiser", async () => {
    const text = await (await get(`/review/submissions/${task}`, organiser)).text();
    expect([text.includes("Grace Hidden"), text.includes("grace@hidden.example"), text.includes("Reveal")]).toEqual([
      false,
      false,
      false,
    ]);
    expect((await get(`/review/submissions/${task}?reveal=true`, organiser)).status).toBe(403);
  });

  it("shows them when an admin reveals them", async () => {
    const admin = await signInOnDesk(await token("admin"));
    const hidden = await (await get(`/review/submissions/${task}`, admin)).text();
    expect(hidden).toContain(`<a href="/review/submissions/${task}?reveal=true">Reveal the authors</a>`);
    const text = await (await get(`/review/submissions/${task}?reveal=true`, admin)).text();
    expect([text.includes("Grace Hidden"), text.includes("grace@hidden.example")]).toEqual([true, true]);
  });
});

/** Losses written over the evaluation's own: the smallest model's, then the largest's, per example index. */
const HAND_LOSSES: Record<number, [number, number | "flagged"]> = {
  3: [1, 4], // worse by 3
  7: [0, "flagged"], // unscored on the largest model: left out
  10: [1, 3.5], // 2.5
  20: [0.5, 2.5], // 2
  30: [1, 2.5], // 1.5
  40: [2, 3.5], // 1.5, after 30 (task order breaks the tie)
  50: [1, 2.2], // 1.2
  60: [1, 2.1], // 1.1
  70: [1, 2], // 1
  80: [1, 1.9], // 0.9
  90: [1, 1.8], // 0.8
  100: [1, 1.7], // 0.7: the eleventh, not shown
};

describe("the examples that drive the verdict", () => {
  let id: string;
  beforeAll(async () => {
    const record = await taggedMemoTrapTask();
    id = record.id;
    const family = { ...(referenceFamily as StoredFamily), baseUrl: inject("referenceUrl") };
    const started = await startEvaluation(heldQueue, record, { ...family, models: family.models.slice(0, 2) });
    if (!started.ok) throw new Error("the evaluation did not start");
    await drainShards(started.evaluation.id);
    // Every example no worse on the larger model, then the hand-chosen ones above.
    const rows = (model: 0 | 1) =>
      Array.from({ length: record.exampleCount }, (_, index) => {
        const loss = HAND_LOSSES[index]?.[model] ?? 1;
        return loss === "flagged"
          ? { index, flag: "token_boundary", metrics: null }
          : { index, flag: null, metrics: { loss } };
      });
    const [smallest, largest] = [defined(family.models[0], "model").id, defined(family.models[1], "model").id];
    await env.DB.batch([
      ...resultStatements(env.DB, started.evaluation.id, smallest, rows(0)),
      ...resultStatements(env.DB, started.evaluation.id, largest, rows(1)),
    ]);
  });

  it("lists the ten examples whose loss rises most from the smallest to the largest model, in order", async () => {
    const text = await (await get(`/review/submissions/${id}`, await signInOnDesk(await token("organiser")))).text();
    const shown = [...text.matchAll(/<p>Example (\d+) \(line \d+\): /g)].map((match) => Number(match[1]) - 1);
    expect(shown).toEqual([3, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(text).toContain("isv-reference: loss from isv-ngram-1 to isv-ngram-2");
    expect(text).toContain("1.000 → 4.000 (worse by 3.000)");
  });

  it("shows each example's prompt and classes, escaped", async () => {
    const text = await (await get(`/review/submissions/${id}`, await signInOnDesk(await token("organiser")))).text();
    const record = defined(await getSubmission(env.DB, id), id);
    const top = defined((await readExamples(env.BLOBS, record.examplesKey))?.[3], "example 3");
    if (top.taskType !== "classification") throw new Error("memo-trap is a classification task");

    expect(text).toContain(`<pre>${asHtml(top.prompt)}</pre>`);
    expect(text).toContain(`<code>${asHtml(defined(top.classes[top.answerIndex], "answer"))}</code> (answer)`);
  });
});

describe("the decision form", () => {
  it("decides through the API's service, writes the audit entry and redirects back to the task page", async () => {
    const { token: organiser, id: actor } = await seedApiToken("organiser");
    const cookie = await signInOnDesk(organiser);
    const task = await newTask("Decided");
    const fields = { decision: "request_changes", note: "Fix the prompts.", expectedState: "valid" };
    const response = await postForm(`/review/submissions/${task}/decision`, cookie, fields);
    expect([response.status, response.headers.get("location")]).toEqual([
      303,
      `/review/submissions/${task}?decided=request_changes`,
    ]);
    expect(await stateOf(task)).toBe("changes_requested");
    const [entry] = await listAudit(env.DB, task, undefined, 1);
    expect([entry?.actor, entry?.action, entry?.detail]).toEqual([
      actor,
      "submission.request_changes",
      { before: "valid", after: "changes_requested", note: "Fix the prompts." },
    ]);
  });

  it("refuses a decision made on a page showing an older state", async () => {
    const cookie = await signInOnDesk(await token("organiser"));
    const task = await newTask("Stale");
    const fields = { decision: "reject", note: "No.", expectedState: "changes_requested" };
    const response = await postForm(`/review/submissions/${task}/decision`, cookie, fields);
    expect(response.status).toBe(412);
    expect(await response.text()).toContain("The submission changed since you read it");
    expect(await stateOf(task)).toBe("valid");
  });

  it("refuses a decision posted from another site", async () => {
    const cookie = await signInOnDesk(await token("organiser"));
    const task = await newTask("Cross-site");
    const fields = { decision: "reject", note: "No.", expectedState: "valid" };
    const response = await postForm(`/review/submissions/${task}/decision`, cookie, fields, ELSEWHERE);
    expect(response.status).toBe(403);
    expect(await stateOf(task)).toBe("valid");
  });
});
