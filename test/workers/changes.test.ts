import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { replaceTaskFile } from "../../src/intake/replace-task";
import { DEFAULT_LIMITS } from "../../src/validate/report";
import type { StoredFamily } from "../../src/storage/evaluations";
import { getEvaluation } from "../../src/storage/evaluations";
import { type SubmissionRecord, getSubmission as storedSubmission } from "../../src/storage/submissions";
import {
  VALID_METADATA,
  call,
  postDecision,
  fetchSubmission,
  heldQueue,
  lambadaVariant,
  problemOf,
  storedCounts,
  submit,
  token,
  uniqueVariant,
  postGpt3Results,
} from "./helpers";
import { defined } from "../defined";

async function created(csv = lambadaVariant("Changes")): Promise<{ id: string; submitterToken: string }> {
  const response = await submit({ csv });
  expect(response.status).toBe(201);
  return response.json();
}

const putTaskFile = (id: string, submitterToken: string, csv: string, contentType = "text/csv") =>
  exports.default.fetch(`http://isv.test/v1/submissions/${id}/file`, {
    method: "PUT",
    body: csv,
    headers: { "content-type": contentType, authorization: `Bearer ${submitterToken}` },
  });

const putMetadata = (id: string, submitterToken: string, metadata: object) =>
  call(`/v1/submissions/${id}/metadata`, submitterToken, { method: "PUT", body: JSON.stringify({ metadata }) });

/** Submission `id` as stored in D1; a test fails here if it is not stored. */
const storedRecord = async (id: string): Promise<SubmissionRecord> =>
  defined(await storedSubmission(env.DB, id), `a stored record of submission ${id}`);

/** The text of the R2 object at `key`; a test fails here if there is none. */
const storedText = async (key: string): Promise<string> =>
  defined(await env.BLOBS.get(key), `an R2 object at ${key}`).text();

describe("requesting changes", () => {
  const NOTE = "Please explain how the endings were chosen.";
  let task: { id: string; submitterToken: string };
  let asked: Response;
  let seen: { state: string; review: { note: string; at: string } };
  let askedAgain: Response;
  let edited: Response;
  let audit: { action: string; detail: { before: unknown; after: unknown } }[];
  let revealedToOrganiser: Response;
  let revealedToAdmin: unknown[];

  beforeAll(async () => {
    const organiser = await token("organiser");
    task = await created();
    asked = await postDecision(task.id, organiser, "request_changes", NOTE);
    seen = await (await fetchSubmission(task.id, task.submitterToken)).json();
    askedAgain = await postDecision(task.id, organiser, "request_changes");
    edited = await putMetadata(task.id, task.submitterToken, {
      ...VALID_METADATA,
      dataGeneration: "Endings drawn at random from the corpus.",
    });
    audit = (await (await call(`/v1/review/audit?submission=${task.id}`, organiser)).json<{ entries: typeof audit }>())
      .entries;
    revealedToOrganiser = await call(`/v1/review/audit?submission=${task.id}&reveal=true`, organiser);
    revealedToAdmin = (
      await (
        await call(`/v1/review/audit?submission=${task.id}&reveal=true`, await token("admin"))
      ).json<{ entries: unknown[] }>()
    ).entries;
  });

  it("hands the task back to the submitter with the reviewer's note", async () => {
    expect(await asked.json()).toMatchObject({ state: "changes_requested", note: NOTE });
  });

  it("shows the submitter the state and the note", () => {
    expect(seen.state).toBe("changes_requested");
    expect(seen.review.note).toBe(NOTE);
  });

  it("is not asked twice, while accept and reject stay open as the submitter works (409)", async () => {
    expect(await problemOf(askedAgain)).toMatchObject({
      status: 409,
      code: "invalid_transition",
      allowed: ["accept", "reject"],
    });
  });

  it("returns the task to review when the submitter edits it", async () => {
    expect(edited.status).toBe(200);
    expect((await edited.json<{ state: string }>()).state).toBe("valid");
  });

  it("audits the request and the edit, newest first", () => {
    expect(audit.map((entry) => entry.action)).toEqual(["submission.edit", "submission.request_changes"]);
  });

  it("audits the edit with the metadata and state before and after it", () => {
    expect(audit[0]?.detail).toMatchObject({
      before: { state: "changes_requested" },
      after: { state: "valid", dataGeneration: "Endings drawn at random from the corpus." },
    });
  });

  // The edit's details hold the metadata: reviewers read them anonymised, as the record; an admin can reveal.
  it("shows reviewers the edit's metadata anonymised, without contact email or author names", () => {
    expect(JSON.stringify(audit)).not.toContain(VALID_METADATA.contactEmail);
    expect(JSON.stringify(audit)).not.toContain(defined(VALID_METADATA.authors[0], "an author").name);
  });

  it("refuses to reveal the audit to an organiser (403)", () => {
    expect(revealedToOrganiser.status).toBe(403);
  });

  it("reveals the audit's contact details to an admin", () => {
    expect(JSON.stringify(revealedToAdmin)).toContain(VALID_METADATA.contactEmail);
  });
});

describe("a rejected task", () => {
  let askedForChanges: Response;
  let replaced: Response;

  beforeAll(async () => {
    const organiser = await token("organiser");
    const task = await created();
    await postDecision(task.id, organiser, "reject", "Not inverse.");
    askedForChanges = await postDecision(task.id, organiser, "request_changes");
    replaced = await putTaskFile(task.id, task.submitterToken, lambadaVariant("Late"));
  });

  it("cannot be asked for changes (409)", async () => {
    expect(await problemOf(askedForChanges)).toMatchObject({
      status: 409,
      code: "invalid_transition",
      allowed: ["accept"],
    });
  });

  it("cannot have its file replaced (409)", async () => {
    expect(await problemOf(replaced)).toMatchObject({ status: 409, code: "not_editable", state: "rejected" });
  });
});

describe("replacing the file of a task with requested changes", () => {
  const next = lambadaVariant("Replacement");
  let organiser: string;
  let task: { id: string; submitterToken: string };
  let before: SubmissionRecord;
  let analysisBefore: Response;
  let replaced: Response;
  let after: SubmissionRecord;
  let record: Record<string, unknown>;

  beforeAll(async () => {
    organiser = await token("organiser");
    task = await created();
    await postGpt3Results(task.id, organiser);
    before = await storedRecord(task.id);
    analysisBefore = await call(`/v1/review/submissions/${task.id}/analysis`, organiser);
    await postDecision(task.id, organiser, "request_changes", "Add a few more examples.");
    replaced = await putTaskFile(task.id, task.submitterToken, next);
    after = await storedRecord(task.id);
    record = await (await call(`/v1/review/submissions/${task.id}`, organiser)).json<Record<string, unknown>>();
  });

  it("has an analysis of the first version's results before", () => {
    expect(analysisBefore.status).toBe(200);
  });

  it("answers with version 2, back in review and with no evaluations", async () => {
    expect(replaced.status, await replaced.clone().text()).toBe(200);
    expect(await replaced.json()).toMatchObject({
      id: task.id,
      state: "valid",
      fileVersion: 2,
      examples: 1001,
      evaluations: [],
    });
  });

  it("stores the new file under its own hash", async () => {
    expect(after.csvSha256).not.toBe(before.csvSha256);
    expect(await storedText(after.csvKey)).toBe(next);
  });

  it("keeps the old version's record", async () => {
    const version = await env.DB.prepare(
      "SELECT version, csv_sha256, example_count FROM submission_versions WHERE submission_id = ?1",
    )
      .bind(task.id)
      .all();
    expect(version.results).toEqual([{ version: 1, csv_sha256: before.csvSha256, example_count: 1001 }]);
  });

  it("keeps the old version's file", async () => {
    expect(await env.BLOBS.head(before.csvKey)).not.toBeNull();
  });

  it("shows reviewers the version, the earlier versions and the note that asked for it", () => {
    expect(record).toMatchObject({
      fileVersion: 2,
      previousVersions: [{ version: 1, sha256: before.csvSha256, examples: 1001 }],
      review: { note: "Add a few more examples." },
      metrics: [],
    });
  });

  it("offers every decision again", () => {
    expect(record.allowedDecisions).toEqual(["accept", "reject", "request_changes"]);
  });

  // The results uploaded for version 1 no longer count: no analysis, and accepting needs results again.
  it("no longer counts the first version's results: there is no analysis", async () => {
    expect((await problemOf(await call(`/v1/review/submissions/${task.id}/analysis`, organiser))).code).toBe(
      "analysis_not_found",
    );
  });

  it("needs results again before the task can be accepted (409)", async () => {
    expect(await problemOf(await postDecision(task.id, organiser, "accept"))).toMatchObject({
      status: 409,
      code: "invalid_transition",
    });
  });

  describe("with results uploaded for the new version", () => {
    beforeAll(async () => {
      await postGpt3Results(task.id, organiser);
    });

    it("analyses them", async () => {
      expect(await (await call(`/v1/review/submissions/${task.id}`, organiser)).json()).toMatchObject({
        metrics: [
          {
            metric: "loss",
            verdicts: [{ family: "gpt3", verdict: "standard" }],
            plotUrl: `/v1/review/submissions/${task.id}/plot.svg?metric=loss`,
          },
        ],
      });
    });

    it("can be accepted", async () => {
      expect((await (await postDecision(task.id, organiser, "accept")).json<{ state: string }>()).state).toBe(
        "accepted",
      );
    });
  });
});

describe("replacing the file of a task being evaluated", () => {
  let task: { id: string; submitterToken: string };
  let evaluationId: string;
  let evaluationsBefore: unknown[];
  let replaced: Response;

  beforeAll(async () => {
    const csv = uniqueVariant(
      memoTrap,
      (tag) => `"Ada asks: say ""${tag}"":\nA quiet river hides the deepest","[' water', ' stones']",0`,
    );
    task = await created(csv);
    const family = { ...(referenceFamily as StoredFamily), baseUrl: "http://127.0.0.1:9/v1" };
    const started = await startEvaluation(heldQueue, await storedRecord(task.id), family);
    evaluationId = started.ok ? started.evaluation.id : "";
    evaluationsBefore = (await (await fetchSubmission(task.id, task.submitterToken)).json<{ evaluations: unknown[] }>())
      .evaluations;
    replaced = await putTaskFile(
      task.id,
      task.submitterToken,
      uniqueVariant(memoTrap, (tag) => `"Ada asks: say ""${tag}"":\nThe old clock strikes","[' twelve', ' nine']",0`),
    );
  });

  it("shows the submitter the open evaluation before", () => {
    expect(evaluationsBefore).toHaveLength(1);
  });

  it("ends the old file's open evaluations as superseded", async () => {
    expect(replaced.status).toBe(200);
    expect(await getEvaluation(env.DB, evaluationId)).toMatchObject({
      state: "failed",
      reason: "superseded: the submitter replaced the file (version 2)",
      fileVersion: 1,
    });
  });

  it("hides the superseded evaluations from the submitter", async () => {
    expect(
      (await (await fetchSubmission(task.id, task.submitterToken)).json<{ evaluations: unknown[] }>()).evaluations,
    ).toEqual([]);
  });
});

describe("replacing the file with an invalid one", () => {
  let task: { id: string; submitterToken: string };
  let countsBefore: Awaited<ReturnType<typeof storedCounts>>;
  let refused: Response;

  beforeAll(async () => {
    task = await created();
    countsBefore = await storedCounts();
    refused = await putTaskFile(task.id, task.submitterToken, "prompt,classes\nNo answer column,\"[' a', ' b']\"\n");
  });

  it("is refused with the report an upload would get (422)", async () => {
    const problem = await problemOf(refused);
    expect(problem).toMatchObject({ status: 422, code: "invalid_task_file" });
    expect((problem.report as { issues: { code: string }[] }).issues.map((issue) => issue.code)).toContain(
      "missing_column",
    );
  });

  it("changes nothing: no object or row is added and the task keeps version 1", async () => {
    expect(await storedCounts()).toEqual(countsBefore);
    expect((await storedRecord(task.id)).fileVersion).toBe(1);
  });
});

describe("replacing the file: what is refused", () => {
  let task: { id: string; submitterToken: string };
  let sameBytes: Response;
  let anotherSubmissionsBytes: Response;
  let notCsv: Response;
  let notTheOwner: Response;
  let unknownId: Response;

  beforeAll(async () => {
    task = await created();
    const other = lambadaVariant("Other");
    await created(other);
    const current = await storedText((await storedRecord(task.id)).csvKey);
    sameBytes = await putTaskFile(task.id, task.submitterToken, current);
    anotherSubmissionsBytes = await putTaskFile(task.id, task.submitterToken, other);
    notCsv = await putTaskFile(task.id, task.submitterToken, lambadaVariant("Typed"), "text/plain");
    notTheOwner = await putTaskFile(task.id, "isv_st_not_yours", lambadaVariant("Stolen"));
    unknownId = await putTaskFile(crypto.randomUUID(), task.submitterToken, lambadaVariant("Nowhere"));
  });

  it("answers the same bytes as unchanged", async () => {
    expect(await sameBytes.json()).toMatchObject({ fileVersion: 1, unchanged: true });
  });

  it("refuses the bytes of another submission (409)", async () => {
    expect(await problemOf(anotherSubmissionsBytes)).toMatchObject({ status: 409, code: "duplicate_file" });
  });

  it("needs text/csv", async () => {
    expect((await problemOf(notCsv)).code).toBe("unsupported_media_type");
  });

  it("needs the owner's token", async () => {
    expect((await problemOf(notTheOwner)).code).toBe("submission_not_found");
  });

  it("answers an unknown id as not found", async () => {
    expect((await problemOf(unknownId)).code).toBe("submission_not_found");
  });

  it("keeps version 1 through all of these", async () => {
    expect((await storedRecord(task.id)).fileVersion).toBe(1);
  });
});

describe("a replacement that loses a race (read before another write landed)", () => {
  let stale: SubmissionRecord;
  let winner: SubmissionRecord;
  let byReplacement: Outcome;
  let byDecision: Outcome;
  let byEarlierVersion: Awaited<ReturnType<typeof replaceTaskFile>>;
  interface Outcome {
    outcome: Awaited<ReturnType<typeof replaceTaskFile>>;
    expected: SubmissionRecord;
    stored: SubmissionRecord | undefined;
    counts: [Awaited<ReturnType<typeof storedCounts>>, Awaited<ReturnType<typeof storedCounts>>];
    audit: [number, number];
  }
  const bytes = (text: string) =>
    (async function* () {
      yield new TextEncoder().encode(text);
    })();

  beforeAll(async () => {
    const organiser = await token("organiser");
    const task = await created();
    stale = await storedRecord(task.id);
    const audit = async () =>
      defined(
        await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE submission_id = ?1")
          .bind(task.id)
          .first<{ n: number }>(),
        "a count of audit entries",
      ).n;
    /** Replaces the file from `read`, noting the record, audit entries and stored objects around it. */
    const attempt = async (read: SubmissionRecord, text: string): Promise<Outcome> => {
      const expected = await storedRecord(task.id);
      const [entries, counts] = [await audit(), await storedCounts()];
      const outcome = await replaceTaskFile(env, read, bytes(text), DEFAULT_LIMITS);
      return {
        outcome,
        expected,
        stored: await storedSubmission(env.DB, task.id),
        counts: [counts, await storedCounts()],
        audit: [entries, await audit()],
      };
    };

    // Another replacement lands first: the stale one's version row collides and the whole batch fails.
    expect((await putTaskFile(task.id, task.submitterToken, lambadaVariant("First"))).status).toBe(200);
    winner = await storedRecord(task.id);
    byReplacement = await attempt(stale, lambadaVariant("Second"));

    // A decision lands first: the state guard fails the batch, and the new bytes are removed again.
    await postGpt3Results(task.id, organiser);
    expect((await postDecision(task.id, organiser, "reject", "Decided meanwhile.")).status).toBe(200);
    byDecision = await attempt(winner, lambadaVariant("Third"));

    // Losing with the bytes of an earlier version: the cleanup must not delete that version's kept objects.
    const original = await storedText(stale.csvKey);
    byEarlierVersion = await replaceTaskFile(env, winner, bytes(original), DEFAULT_LIMITS);
  });

  it("answers conflict when another replacement landed first", () => {
    expect(byReplacement.outcome).toEqual({ kind: "conflict" });
  });

  it("leaves the other replacement's record, audit and stored objects as they were", () => {
    expect(byReplacement.stored).toEqual(winner);
    expect(byReplacement.audit[1]).toBe(byReplacement.audit[0]);
    expect(byReplacement.counts[1]).toEqual(byReplacement.counts[0]);
  });

  it("answers conflict when a decision landed first", () => {
    expect(byDecision.outcome).toEqual({ kind: "conflict" });
  });

  it("leaves the decided record as it was and removes the new bytes again", () => {
    expect(byDecision.stored).toEqual(byDecision.expected);
    expect(byDecision.counts[1]).toEqual(byDecision.counts[0]);
  });

  it("answers conflict when it brings the bytes of an earlier version", () => {
    expect(byEarlierVersion).toEqual({ kind: "conflict" });
  });

  it("keeps that earlier version's file and examples when it cleans up", async () => {
    expect(await env.BLOBS.head(stale.csvKey)).not.toBeNull();
    expect(await env.BLOBS.head(stale.examplesKey)).not.toBeNull();
  });
});
