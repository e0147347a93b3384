import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, lambadaVariant, problemOf, submit, token } from "./helpers";

/** A new submission: its id and submitter token. */
async function created(): Promise<{ id: string; submitterToken: string }> {
  const response = await submit({ csv: lambadaVariant("Rotation") });
  expect(response.status).toBe(201);
  return response.json();
}

const rotate = (id: string, bearer: string) =>
  exports.default.fetch(`http://isv.test/v1/submissions/${id}/token`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}` },
  });

const statusWith = (id: string, bearer: string) => call(`/v1/submissions/${id}`, bearer);

describe("rotating a submitter token", () => {
  it("answers with a new token, unlike the old one", async () => {
    const task = await created();
    const response = await rotate(task.id, task.submitterToken);
    expect(response.status).toBe(200);
    const body = await response.json<{ id: string; submitterToken: string }>();
    expect(body.id).toBe(task.id);
    expect(body.submitterToken).toMatch(/^isv_st_[A-Za-z0-9_-]{43}$/);
    expect(body.submitterToken).not.toBe(task.submitterToken);
  });

  it("lets the new token read the submission", async () => {
    const task = await created();
    const { submitterToken } = await (await rotate(task.id, task.submitterToken)).json<{ submitterToken: string }>();
    expect((await statusWith(task.id, submitterToken)).status).toBe(200);
  });

  it("stops the old token at once (404, as for any token not this submission's)", async () => {
    const task = await created();
    await rotate(task.id, task.submitterToken);
    expect(await problemOf(await statusWith(task.id, task.submitterToken))).toMatchObject({
      status: 404,
      code: "submission_not_found",
    });
  });

  it("cannot be done with the old token once rotated", async () => {
    const task = await created();
    await rotate(task.id, task.submitterToken);
    expect((await rotate(task.id, task.submitterToken)).status).toBe(404);
  });

  it("needs the submission's own token (401 without one)", async () => {
    const task = await created();
    const response = await exports.default.fetch(`http://isv.test/v1/submissions/${task.id}/token`, {
      method: "POST",
    });
    expect(response.status).toBe(401);
  });

  it("is written to the audit log, without either token", async () => {
    const task = await created();
    const { submitterToken } = await (await rotate(task.id, task.submitterToken)).json<{ submitterToken: string }>();
    const organiser = await token("organiser");
    const log = await (await call(`/v1/review/audit?submission=${task.id}`, organiser)).json<{
      entries: { action: string; actor: string; detail: unknown }[];
    }>();
    expect(log.entries.map(({ action, actor, detail }) => ({ action, actor, detail }))).toEqual([
      { action: "submission.rotate_token", actor: "submitter", detail: {} },
    ]);
    expect(JSON.stringify(log)).not.toContain(submitterToken.slice(7));
  });
});
