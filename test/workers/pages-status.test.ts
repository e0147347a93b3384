import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import type { StoredFamily } from "../../src/storage/evaluations";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import { getSubmission } from "../../src/storage/submissions";
import { defined } from "../defined";
import {
  drainShards,
  heldQueue,
  lambadaVariant,
  postDecision,
  postGpt3Results,
  submit,
  token,
  uniqueVariant,
  VALID_METADATA,
} from "./helpers";
import { CROSS_SITE, ELSEWHERE, ESCAPED, HOSTILE, PAGE_ORIGIN, pageRequest, signInAsSubmitter } from "./page-helpers";

/**
 * The status page, /submissions/{id}: sign-in by pasting the token into a POST form (never a URL), the session
 * cookie and its attributes, cross-site refusal, then the state, progress, verdicts, plots and review note.
 */

/** Posts the sign-in form, from this site unless `headers` say otherwise. */
const signIn = (id: string, pasted: string, headers: Record<string, string> = { origin: PAGE_ORIGIN }) =>
  pageRequest(`/submissions/${id}/sign-in`, { method: "POST", body: new URLSearchParams({ token: pasted }), headers });

const statusPage = (id: string, cookie?: string) =>
  pageRequest(`/submissions/${id}`, { headers: cookie ? { cookie } : {} });

/** A new task from the API, with the hostile text in its title; its id and token. */
async function newTask(csv = lambadaVariant("Status")): Promise<{ id: string; submitterToken: string }> {
  const response = await submit({ csv, metadata: { ...VALID_METADATA, title: HOSTILE } });
  expect(response.status).toBe(201);
  return response.json();
}

describe("signing in", () => {
  let task: { id: string; submitterToken: string };
  beforeAll(async () => {
    task = await newTask();
  });

  it("shows the sign-in form, and nothing of the task, without a session", async () => {
    const response = await statusPage(task.id);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain(`<form method="post" action="/submissions/${task.id}/sign-in">`);
    expect(text).toContain('type="password"');
    expect(text).not.toContain(ESCAPED);
  });

  it("exchanges the token for a cookie scoped to the submission: HttpOnly, Secure, SameSite=Strict", async () => {
    const response = await signIn(task.id, task.submitterToken);
    expect(response.status).toBe(303);
    expect(response.headers.get("set-cookie")).toBe(
      `isv_submitter=${task.submitterToken}; Max-Age=28800; Path=/submissions/${task.id}; HttpOnly; Secure; SameSite=Strict`,
    );
  });

  it("redirects to the status page by a Location that names no token", async () => {
    const response = await signIn(task.id, task.submitterToken);
    expect(response.headers.get("location")).toBe(`/submissions/${task.id}`);
  });

  it("never lets a cache keep the answer that sets the cookie", async () => {
    const response = await signIn(task.id, task.submitterToken);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("answers a sign-in body that is not a form with a 400 page, not an error of the service", async () => {
    const response = await pageRequest(`/submissions/${task.id}/sign-in`, {
      method: "POST",
      body: "--x\r\nnot a part",
      headers: { origin: PAGE_ORIGIN, "content-type": "multipart/form-data; boundary=x" },
    });
    expect([response.status, response.headers.get("content-type")]).toEqual([400, "text/html; charset=UTF-8"]);
  });

  it("refuses a wrong token with 401 and the form again, and sets no cookie", async () => {
    const response = await signIn(task.id, "isv_st_not-the-token");
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("This token does not open this submission");
  });

  it("refuses another submission's token the same way", async () => {
    const other = await newTask(lambadaVariant("Other"));
    const response = await signIn(task.id, other.submitterToken);
    expect([response.status, response.headers.get("set-cookie")]).toEqual([401, null]);
  });

  it("refuses a sign-in posted from another site, and sets no cookie", async () => {
    const response = await signIn(task.id, task.submitterToken, CROSS_SITE);
    expect([response.status, response.headers.get("set-cookie")]).toEqual([403, null]);
  });

  it("refuses a sign-in that says nothing of where it comes from", async () => {
    const response = await signIn(task.id, task.submitterToken, {});
    expect([response.status, response.headers.get("set-cookie")]).toEqual([403, null]);
  });

  it("does not open the page for another submission's session", async () => {
    const other = await newTask(lambadaVariant("Another"));
    const cookie = await signInAsSubmitter(other.id, other.submitterToken);
    expect(await (await statusPage(task.id, cookie)).text()).toContain("Sign in to a submission");
  });

  it("signs out by clearing the cookie on the same path", async () => {
    const cookie = await signInAsSubmitter(task.id, task.submitterToken);
    const response = await pageRequest(`/submissions/${task.id}/sign-out`, {
      method: "POST",
      headers: { cookie, origin: PAGE_ORIGIN, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`/submissions/${task.id}`);
    expect(response.headers.get("set-cookie")).toBe(
      `isv_submitter=; Max-Age=0; Path=/submissions/${task.id}; HttpOnly; Secure; SameSite=Strict`,
    );
  });

  it("refuses a sign-out posted from another site", async () => {
    const cookie = await signInAsSubmitter(task.id, task.submitterToken);
    const response = await pageRequest(`/submissions/${task.id}/sign-out`, {
      method: "POST",
      headers: { cookie, origin: ELSEWHERE, "content-type": "application/x-www-form-urlencoded" },
    });
    expect([response.status, response.headers.get("set-cookie")]).toEqual([403, null]);
  });

  it("ends the session when the token is replaced", async () => {
    const cookie = await signInAsSubmitter(task.id, task.submitterToken);
    const rotated = await pageRequest(`/v1/submissions/${task.id}/token`, {
      method: "POST",
      headers: { authorization: `Bearer ${task.submitterToken}` },
    });
    expect(rotated.status).toBe(200);
    task = { id: task.id, submitterToken: (await rotated.json<{ submitterToken: string }>()).submitterToken };
    expect(await (await statusPage(task.id, cookie)).text()).toContain("Sign in to a submission");
  });
});

describe("the status page of a signed-in submitter", () => {
  let task: { id: string; submitterToken: string };
  let cookie: string;
  beforeAll(async () => {
    task = await newTask();
    cookie = await signInAsSubmitter(task.id, task.submitterToken);
  });

  it("shows the state, the report's summary and the title escaped, with no script", async () => {
    const response = await statusPage(task.id, cookie);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(text).toContain(`<h1>${ESCAPED}</h1>`);
    expect(text).toContain('<dd id="state">Valid: being evaluated, then reviewed by the organisers</dd>');
    expect(text).toContain("<strong>Valid</strong>: sequence_prob (inferred from the file), 1001 examples, 0 errors");
    expect(text).not.toContain("<script");
  });

  it("says no evaluation has started, and does not refresh itself, when none has", async () => {
    const text = await (await statusPage(task.id, cookie)).text();
    expect(text).toContain("No evaluation has started yet.");
    expect(text).not.toContain('http-equiv="refresh"');
  });

  it("shows the verdicts with the submitter's own plots once analysed", async () => {
    await postGpt3Results(task.id, await token("organiser"));
    const text = await (await statusPage(task.id, cookie)).text();
    expect(text).toMatch(/<strong>[^<]+<\/strong> on gpt3: slope -?\d\.\d{3} per decade \(95% CI/);
    expect(text).toContain(`<img src="/submissions/${task.id}/plot.svg?metric=`);
  });

  it("serves those plots to the session alone", async () => {
    const text = await (await statusPage(task.id, cookie)).text();
    const src = defined(/<img src="([^"]+)"/.exec(text)?.[1], "a plot").replaceAll("&amp;", "&");
    const plot = await pageRequest(src, { headers: { cookie } });
    expect([plot.status, plot.headers.get("content-type")]).toEqual([200, "image/svg+xml; charset=utf-8"]);
    expect((await pageRequest(src)).status).toBe(404);
  });

  it("shows the organisers' note, escaped", async () => {
    expect((await postDecision(task.id, await token("organiser"), "request_changes", HOSTILE)).status).toBe(200);
    const text = await (await statusPage(task.id, cookie)).text();
    expect(text).toContain("Changes requested: see the organisers&#39; note");
    expect(text).toContain(`<p>${ESCAPED} <small>`);
    expect(text).not.toContain("<script");
  });
});

describe("the status page while the task is evaluated", () => {
  let id: string;
  let cookie: string;
  let evaluationId: string;
  beforeAll(async () => {
    const csv = uniqueVariant(memoTrap, (tag) => `"Ada asks: say ${tag}:\nThe end","[' a', ' b']",0`);
    const response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "classification" } });
    const created = await response.json<{ id: string; submitterToken: string }>();
    id = created.id;
    cookie = await signInAsSubmitter(id, created.submitterToken);
    // Held: this file delivers the shards itself, so the page is read at a known point of the evaluation.
    const family = { ...(referenceFamily as StoredFamily), baseUrl: inject("referenceUrl") };
    const record = defined(await getSubmission(env.DB, id), "the stored task");
    const started = await startEvaluation(heldQueue, record, { ...family, models: family.models.slice(0, 2) });
    evaluationId = started.ok ? started.evaluation.id : "";
  });

  it("refreshes itself every 10 seconds and shows each model's progress while evaluating", async () => {
    const text = await (await statusPage(id, cookie)).text();
    expect(text).toContain('<meta http-equiv="refresh" content="10"/>');
    expect(text).toContain("<caption>isv-reference: queued</caption>");
    expect(text).toContain('<progress max="301" value="0" aria-label="isv-ngram-1 progress"></progress> 0 of 301');
  });

  it("offers to stop reloading, first on the page, while it reloads itself", async () => {
    const text = await (await statusPage(id, cookie)).text();
    expect(text).toContain(
      `<main id="main" tabindex="-1"><h1>Syllogism validity</h1><p class="notice" id="refresh">Evaluating: this page reloads itself every 10 seconds until the evaluation ends. <a href="/submissions/${id}?refresh=off">Stop reloading</a></p>`,
    );
  });

  it("links the replace page, which does not reload itself, rather than holding a file form that would", async () => {
    const status = await (await statusPage(id, cookie)).text();
    const replace = await (await pageRequest(`/submissions/${id}/file`, { headers: { cookie } })).text();
    expect([status.includes(`<a href="/submissions/${id}/file">`), status.includes('type="file"')]).toEqual([
      true,
      false,
    ]);
    expect([replace.includes('<input id="file" name="file"'), replace.includes('http-equiv="refresh"')]).toEqual([
      true,
      false,
    ]);
  });

  it("stops reloading when asked, and offers to resume", async () => {
    const text = await (await statusPage(`${id}?refresh=off`, cookie)).text();
    expect(text).not.toContain('http-equiv="refresh"');
    expect(text).toContain(`<a href="/submissions/${id}">Reload every 10 seconds until it ends</a>`);
  });

  it("stops refreshing once the evaluation ends, and shows each model's mean", async () => {
    await drainShards(evaluationId);
    const text = await (await statusPage(id, cookie)).text();
    expect(text).not.toContain('http-equiv="refresh"');
    expect(text).toContain("<caption>isv-reference: evaluated</caption>");
    expect(text).toMatch(
      /<th scope="row">isv-ngram-1<\/th><td><progress max="301" value="301"[^>]*><\/progress> 301 of 301<\/td><td>\d\.\d{3} ± \d\.\d{3}<\/td>/,
    );
  });
});
