import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { decideSubmission } from "../../src/review/decide";
import { getSubmission } from "../../src/storage/submissions";
import { defined } from "../defined";
import { call, lambadaVariant, postDecision, problemOf, submit, token } from "./helpers";

/** A new submission in review (`valid`): its id and submitter token. */
async function created(): Promise<{ id: string; submitterToken: string }> {
  const response = await submit({ csv: lambadaVariant("Preconditions") });
  expect(response.status).toBe(201);
  return response.json();
}

const inReview = async (): Promise<string> => (await created()).id;

/** The review view's ETag: the version a decision's If-Match names. */
async function versionOf(id: string, organiser: string): Promise<string> {
  const response = await call(`/v1/review/submissions/${id}`, organiser);
  expect(response.status).toBe(200);
  const etag = response.headers.get("etag");
  if (etag === null) throw new Error(`expected an ETag on the review view of ${id}`);
  return etag;
}

const decideIf = (id: string, organiser: string, body: object, ifMatch?: string) =>
  call(`/v1/review/submissions/${id}/decision`, organiser, {
    method: "POST",
    body: JSON.stringify({ note: "Reviewed.", ...body }),
    headers: ifMatch === undefined ? {} : { "if-match": ifMatch },
  });

const stateOf = async (id: string, organiser: string): Promise<string> =>
  (await (await call(`/v1/review/submissions/${id}`, organiser)).json<{ state: string }>()).state;

const auditActions = async (id: string, organiser: string): Promise<string[]> =>
  (
    await (await call(`/v1/review/audit?submission=${id}`, organiser)).json<{ entries: { action: string }[] }>()
  ).entries.map((entry) => entry.action);

describe("a decision made on a stale view (two organisers at once)", () => {
  let organiser: string;
  beforeAll(async () => {
    organiser = await token("organiser");
  });

  it("gives each version of the review view its own ETag", async () => {
    const id = await inReview();
    const before = await versionOf(id, organiser);
    expect((await postDecision(id, organiser, "request_changes")).status).toBe(200);
    expect(await versionOf(id, organiser)).not.toBe(before);
  });

  it("refuses (412 stale_decision) a decision whose If-Match names an earlier version, naming the state now", async () => {
    const id = await inReview();
    const seen = await versionOf(id, organiser);
    expect((await postDecision(id, organiser, "request_changes")).status).toBe(200);
    const late = await decideIf(id, organiser, { decision: "reject" }, seen);
    expect(await problemOf(late)).toMatchObject({
      status: 412,
      code: "stale_decision",
      state: "changes_requested",
      etag: await versionOf(id, organiser),
    });
  });

  it("changes nothing when it refuses: the first decision stands and only it is audited", async () => {
    const id = await inReview();
    const seen = await versionOf(id, organiser);
    await postDecision(id, organiser, "request_changes");
    await decideIf(id, organiser, { decision: "reject" }, seen);
    expect(await stateOf(id, organiser)).toBe("changes_requested");
    expect(await auditActions(id, organiser)).toEqual(["submission.request_changes"]);
  });

  it("applies a decision whose If-Match names the current version", async () => {
    const id = await inReview();
    const response = await decideIf(id, organiser, { decision: "reject" }, await versionOf(id, organiser));
    expect(response.status).toBe(200);
    expect(await stateOf(id, organiser)).toBe("rejected");
  });

  it("refuses (412 stale_decision) a decision whose expectedState is not the state now", async () => {
    const id = await inReview();
    await postDecision(id, organiser, "request_changes");
    const late = await decideIf(id, organiser, { decision: "reject", expectedState: "valid" });
    expect(await problemOf(late)).toMatchObject({ status: 412, code: "stale_decision", state: "changes_requested" });
  });

  it("applies a decision whose expectedState is the state now", async () => {
    const id = await inReview();
    const response = await decideIf(id, organiser, { decision: "reject", expectedState: "valid" });
    expect(response.status).toBe(200);
  });

  it("still applies a decision sent without a precondition (older clients)", async () => {
    const id = await inReview();
    await postDecision(id, organiser, "request_changes");
    expect((await postDecision(id, organiser, "reject")).status).toBe(200);
  });
});

describe("a decision racing another change", () => {
  it("is not applied to a file replaced after the decider read the task (the service reports a conflict)", async () => {
    const task = await created();
    const read = defined(await getSubmission(env.DB, task.id), `submission ${task.id}`);
    const replaced = await exports.default.fetch(`http://isv.test/v1/submissions/${task.id}/file`, {
      method: "PUT",
      body: lambadaVariant("Replaced meanwhile"),
      headers: { "content-type": "text/csv", authorization: `Bearer ${task.submitterToken}` },
    });
    expect(replaced.status).toBe(200);
    expect(await decideSubmission(env.DB, read, "reject", "Decided on the old file.", "test")).toEqual({
      kind: "conflict",
    });
    expect(defined(await getSubmission(env.DB, task.id), `submission ${task.id}`).state).toBe("valid");
  });

  it("is not made stale by the submitter rotating their token", async () => {
    const organiser = await token("organiser");
    const task = await created();
    const seen = await versionOf(task.id, organiser);
    const rotated = await exports.default.fetch(`http://isv.test/v1/submissions/${task.id}/token`, {
      method: "POST",
      headers: { authorization: `Bearer ${task.submitterToken}` },
    });
    expect(rotated.status).toBe(200);
    expect((await decideIf(task.id, organiser, { decision: "reject" }, seen)).status).toBe(200);
  });
});
