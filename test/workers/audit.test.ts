import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { appendAuditIfChanged } from "../../src/storage/audit";
import { decideStatement } from "../../src/storage/review-queue";
import { getSubmission } from "../../src/storage/submissions";
import { defined } from "../defined";
import { lambadaVariant, submit } from "./helpers";

/** The audit log and kept file versions are history: they record what happened, and only that, for good. */
describe("history: the database", () => {
  let id: string;

  beforeAll(async () => {
    const created = await submit({ csv: lambadaVariant("History") });
    ({ id } = await created.json<{ id: string }>());
    const now = new Date().toISOString();
    await env.DB.prepare(
      "INSERT INTO audit_log (at, actor, action, submission_id, detail_json) VALUES (?1, 'test', 'test.history', ?2, '{}')",
    )
      .bind(now, id)
      .run();
    await env.DB.prepare(
      "INSERT INTO submission_versions (submission_id, version, csv_sha256, csv_key, csv_bytes, examples_key, example_count, report_json, replaced_at) VALUES (?1, 0, 'x', 'x', 1, 'x', 1, '{}', ?2)",
    )
      .bind(id, now)
      .run();
  });

  it("refuses to edit an audit entry", async () => {
    await expect(
      env.DB.prepare("UPDATE audit_log SET actor = 'someone else' WHERE action = 'test.history'").run(),
    ).rejects.toThrow(/append-only/);
  });

  it("refuses to delete an audit entry", async () => {
    await expect(env.DB.prepare("DELETE FROM audit_log WHERE action = 'test.history'").run()).rejects.toThrow(
      /append-only/,
    );
  });

  it("refuses to delete a kept file version", async () => {
    await expect(
      env.DB.prepare("DELETE FROM submission_versions WHERE submission_id = ?1").bind(id).run(),
    ).rejects.toThrow(/append-only/);
  });

  it("refuses to edit a kept file version", async () => {
    await expect(
      env.DB.prepare("UPDATE submission_versions SET csv_sha256 = 'y' WHERE submission_id = ?1").bind(id).run(),
    ).rejects.toThrow(/append-only/);
  });

  it("keeps the audit entry as it was written", async () => {
    expect(await env.DB.prepare("SELECT actor FROM audit_log WHERE submission_id = ?1").bind(id).all()).toMatchObject({
      results: [{ actor: "test" }],
    });
  });
});

describe("audit entries for conditional changes", () => {
  it("are written only when the change they describe happened (a concurrent decision or edit that lost leaves none)", async () => {
    const { id } = await (await submit({ csv: lambadaVariant("Audited") })).json<{ id: string }>();
    const entry = (action: string) => ({
      at: new Date().toISOString(),
      actor: "test",
      action,
      submissionId: id,
      detail: {},
    });
    const read = defined(await getSubmission(env.DB, id), `submission ${id}`);
    const [lost] = await env.DB.batch([
      decideStatement(env.DB, { ...read, state: "accepted" }, "rejected", "Lost the race.", new Date().toISOString()),
      appendAuditIfChanged(env.DB, entry("test.lost")),
    ]);
    expect(lost?.meta.changes).toBe(0);
    await env.DB.batch([
      decideStatement(env.DB, read, "rejected", "Won.", new Date().toISOString()),
      appendAuditIfChanged(env.DB, entry("test.won")),
    ]);
    const actions = await env.DB.prepare("SELECT action FROM audit_log WHERE submission_id = ?1 AND actor = 'test'")
      .bind(id)
      .all<{ action: string }>();
    expect(actions.results.map((row) => row.action)).toEqual(["test.won"]);
  });
});
