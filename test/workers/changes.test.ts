import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { replaceTaskFile } from "../../src/intake/replace-task";
import { DEFAULT_LIMITS } from "../../src/validate/report";
import type { StoredFamily } from "../../src/storage/evaluations";
import { getEvaluation } from "../../src/storage/evaluations";
import { getSubmission as storedSubmission } from "../../src/storage/submissions";
import {
  VALID_METADATA,
  call,
  decide,
  getSubmission,
  heldQueue,
  lambadaVariant,
  problemOf,
  storedCounts,
  submit,
  token,
  uniqueVariant,
  uploadResults,
} from "./helpers";

async function created(csv = lambadaVariant("Changes")): Promise<{ id: string; submitterToken: string }> {
  const response = await submit({ csv });
  expect(response.status).toBe(201);
  return response.json();
}

const replaceFile = (id: string, submitterToken: string, csv: string, contentType = "text/csv") =>
  exports.default.fetch(`http://isv.test/v1/submissions/${id}/file`, {
    method: "PUT",
    body: csv,
    headers: { "content-type": contentType, authorization: `Bearer ${submitterToken}` },
  });

const editMetadata = (id: string, submitterToken: string, metadata: object) =>
  call(`/v1/submissions/${id}/metadata`, submitterToken, { method: "PUT", body: JSON.stringify({ metadata }) });

describe("requesting changes", () => {
  it("hands the task back with a note the submitter sees; an edit returns it to review", async () => {
    const organiser = await token("organiser");
    const task = await created();
    const asked = await decide(task.id, organiser, "request_changes", "Please explain how the endings were chosen.");
    expect(await asked.json()).toMatchObject({
      state: "changes_requested",
      note: "Please explain how the endings were chosen.",
    });
    const seen = await (await getSubmission(task.id, task.submitterToken)).json<{
      state: string;
      review: { note: string; at: string };
    }>();
    expect(seen.state).toBe("changes_requested");
    expect(seen.review.note).toBe("Please explain how the endings were chosen.");

    // Asking twice is not a transition; accept and reject stay open while the submitter works.
    expect(await problemOf(await decide(task.id, organiser, "request_changes"))).toMatchObject({
      status: 409,
      code: "invalid_transition",
      allowed: ["accept", "reject"],
    });

    const edited = await editMetadata(task.id, task.submitterToken, {
      ...VALID_METADATA,
      dataGeneration: "Endings drawn at random from the corpus.",
    });
    expect(edited.status).toBe(200);
    expect((await edited.json<{ state: string }>()).state).toBe("valid");
    const audit = await (await call(`/v1/review/audit?submission=${task.id}`, organiser)).json<{
      entries: { action: string; detail: { before: unknown; after: unknown } }[];
    }>();
    expect(audit.entries.map((entry) => entry.action)).toEqual(["submission.edit", "submission.request_changes"]);
    expect(audit.entries[0]!.detail).toMatchObject({
      before: { state: "changes_requested" },
      after: { state: "valid", dataGeneration: "Endings drawn at random from the corpus." },
    });
    // The edit's details hold the metadata: reviewers read them anonymised, as the record; an admin can reveal.
    expect(JSON.stringify(audit.entries)).not.toContain(VALID_METADATA.contactEmail);
    expect(JSON.stringify(audit.entries)).not.toContain(VALID_METADATA.authors[0]!.name);
    expect((await call(`/v1/review/audit?submission=${task.id}&reveal=true`, organiser)).status).toBe(403);
    const revealed = await (
      await call(`/v1/review/audit?submission=${task.id}&reveal=true`, await token("admin"))
    ).json<{ entries: unknown[] }>();
    expect(JSON.stringify(revealed.entries)).toContain(VALID_METADATA.contactEmail);
  });

  it("cannot be asked of a decided task, and a rejected task cannot be edited", async () => {
    const organiser = await token("organiser");
    const task = await created();
    await decide(task.id, organiser, "reject", "Not inverse.");
    expect(await problemOf(await decide(task.id, organiser, "request_changes"))).toMatchObject({
      status: 409,
      code: "invalid_transition",
      allowed: ["accept"],
    });
    expect(await problemOf(await replaceFile(task.id, task.submitterToken, lambadaVariant("Late")))).toMatchObject({
      status: 409,
      code: "not_editable",
      state: "rejected",
    });
  });
});

describe("replacing the file", () => {
  it("keeps the old version, counts only the new one's results, and returns a task from requested changes to review", async () => {
    const organiser = await token("organiser");
    const task = await created();
    await uploadResults(task.id, organiser);
    const before = (await storedSubmission(env.DB, task.id))!;
    expect((await call(`/v1/review/submissions/${task.id}/analysis`, organiser)).status).toBe(200);
    await decide(task.id, organiser, "request_changes", "Add a few more examples.");

    const next = lambadaVariant("Replacement");
    const replaced = await replaceFile(task.id, task.submitterToken, next);
    expect(replaced.status, await replaced.clone().text()).toBe(200);
    expect(await replaced.json()).toMatchObject({
      id: task.id,
      state: "valid",
      fileVersion: 2,
      examples: 1001,
      evaluations: [],
    });

    const after = (await storedSubmission(env.DB, task.id))!;
    expect(after.csvSha256).not.toBe(before.csvSha256);
    const version = await env.DB.prepare(
      "SELECT version, csv_sha256, example_count FROM submission_versions WHERE submission_id = ?1",
    )
      .bind(task.id)
      .all();
    expect(version.results).toEqual([{ version: 1, csv_sha256: before.csvSha256, example_count: 1001 }]);
    expect(await env.BLOBS.head(before.csvKey)).not.toBeNull();
    expect(await (await env.BLOBS.get(after.csvKey))!.text()).toBe(next);
    const record = await (await call(`/v1/review/submissions/${task.id}`, organiser)).json<Record<string, unknown>>();
    expect(record).toMatchObject({
      fileVersion: 2,
      previousVersions: [{ version: 1, sha256: before.csvSha256, examples: 1001 }],
      review: { note: "Add a few more examples." },
      metrics: [],
    });
    expect(record.allowedDecisions).toEqual(["accept", "reject", "request_changes"]);

    // The results uploaded for version 1 no longer count: no analysis, and accepting needs results again.
    expect((await problemOf(await call(`/v1/review/submissions/${task.id}/analysis`, organiser))).code).toBe(
      "analysis_not_found",
    );
    expect(await problemOf(await decide(task.id, organiser, "accept"))).toMatchObject({
      status: 409,
      code: "invalid_transition",
    });
    await uploadResults(task.id, organiser);
    const analysed = await (await call(`/v1/review/submissions/${task.id}`, organiser)).json();
    expect(analysed).toMatchObject({
      metrics: [
        {
          metric: "loss",
          verdicts: [{ family: "gpt3", verdict: "standard" }],
          plotUrl: `/v1/review/submissions/${task.id}/plot.svg?metric=loss`,
        },
      ],
    });
    expect((await (await decide(task.id, organiser, "accept")).json<{ state: string }>()).state).toBe("accepted");
  });

  it("ends the old file's open evaluations as superseded and hides them from the submitter", async () => {
    const csv = uniqueVariant(
      memoTrap,
      (tag) => `"Ada asks: say ""${tag}"":\nA quiet river hides the deepest","[' water', ' stones']",0`,
    );
    const task = await created(csv);
    const family = { ...(referenceFamily as StoredFamily), baseUrl: "http://127.0.0.1:9/v1" };
    const started = await startEvaluation(heldQueue, (await storedSubmission(env.DB, task.id))!, family);
    const evaluationId = started.ok ? started.evaluation.id : "";
    expect(
      (await (await getSubmission(task.id, task.submitterToken)).json<{ evaluations: unknown[] }>()).evaluations,
    ).toHaveLength(1);

    const replaced = await replaceFile(
      task.id,
      task.submitterToken,
      uniqueVariant(memoTrap, (tag) => `"Ada asks: say ""${tag}"":\nThe old clock strikes","[' twelve', ' nine']",0`),
    );
    expect(replaced.status).toBe(200);
    expect(await getEvaluation(env.DB, evaluationId)).toMatchObject({
      state: "failed",
      reason: "superseded: the submitter replaced the file (version 2)",
      fileVersion: 1,
    });
    expect(
      (await (await getSubmission(task.id, task.submitterToken)).json<{ evaluations: unknown[] }>()).evaluations,
    ).toEqual([]);
  });

  it("validates the new file like an upload and changes nothing when it is invalid", async () => {
    const task = await created();
    const counts = await storedCounts();
    const broken = replaceFile(task.id, task.submitterToken, "prompt,classes\nNo answer column,\"[' a', ' b']\"\n");
    const problem = await problemOf(await broken);
    expect(problem).toMatchObject({ status: 422, code: "invalid_task_file" });
    expect((problem.report as { issues: { code: string }[] }).issues.map((issue) => issue.code)).toContain(
      "missing_column",
    );
    expect(await storedCounts()).toEqual(counts);
    expect((await storedSubmission(env.DB, task.id))!.fileVersion).toBe(1);
  });

  it("answers the same bytes as unchanged, refuses another submission's bytes, and needs text/csv and the owner's token", async () => {
    const task = await created();
    const other = lambadaVariant("Other");
    await created(other);
    const current = await (await env.BLOBS.get((await storedSubmission(env.DB, task.id))!.csvKey))!.text();
    expect(await (await replaceFile(task.id, task.submitterToken, current)).json()).toMatchObject({
      fileVersion: 1,
      unchanged: true,
    });
    expect(await problemOf(await replaceFile(task.id, task.submitterToken, other))).toMatchObject({
      status: 409,
      code: "duplicate_file",
    });
    expect(
      (await problemOf(await replaceFile(task.id, task.submitterToken, lambadaVariant("Typed"), "text/plain"))).code,
    ).toBe("unsupported_media_type");
    expect((await problemOf(await replaceFile(task.id, "isv_st_not_yours", lambadaVariant("Stolen")))).code).toBe(
      "submission_not_found",
    );
    expect(
      (await problemOf(await replaceFile(crypto.randomUUID(), task.submitterToken, lambadaVariant("Nowhere")))).code,
    ).toBe("submission_not_found");
    expect((await storedSubmission(env.DB, task.id))!.fileVersion).toBe(1);
  });

  it("loses a race cleanly: a replacement read before another replacement or a decision writes nothing", async () => {
    const organiser = await token("organiser");
    const task = await created();
    const stale = (await storedSubmission(env.DB, task.id))!;
    const bytes = (text: string) =>
      (async function* () {
        yield new TextEncoder().encode(text);
      })();
    const audit = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE submission_id = ?1")
        .bind(task.id)
        .first<{ n: number }>())!.n;

    // Another replacement lands first: the stale one's version row collides and the whole batch fails.
    expect((await replaceFile(task.id, task.submitterToken, lambadaVariant("First"))).status).toBe(200);
    const winner = (await storedSubmission(env.DB, task.id))!;
    const entries = await audit();
    const counts = await storedCounts();
    expect(await replaceTaskFile(env, stale, bytes(lambadaVariant("Second")), DEFAULT_LIMITS)).toEqual({
      kind: "conflict",
    });
    expect(await storedSubmission(env.DB, task.id)).toEqual(winner);
    expect(await audit()).toBe(entries);
    expect(await storedCounts()).toEqual(counts);

    // A decision lands first: the state guard fails the batch, and the new bytes are removed again.
    await uploadResults(task.id, organiser);
    expect((await decide(task.id, organiser, "reject", "Decided meanwhile.")).status).toBe(200);
    const decided = (await storedSubmission(env.DB, task.id))!;
    const afterDecision = await storedCounts();
    expect(await replaceTaskFile(env, winner, bytes(lambadaVariant("Third")), DEFAULT_LIMITS)).toEqual({
      kind: "conflict",
    });
    expect(await storedSubmission(env.DB, task.id)).toEqual(decided);
    expect(await storedCounts()).toEqual(afterDecision);

    // Losing with the bytes of an earlier version: the cleanup must not delete that version's kept objects.
    const original = await (await env.BLOBS.get(stale.csvKey))!.text();
    expect(await replaceTaskFile(env, winner, bytes(original), DEFAULT_LIMITS)).toEqual({ kind: "conflict" });
    expect(await env.BLOBS.head(stale.csvKey)).not.toBeNull();
    expect(await env.BLOBS.head(stale.examplesKey)).not.toBeNull();
  });
});
