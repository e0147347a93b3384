import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import gpt3 from "../../fixtures/families/gpt3.json";
import { validateLeaderboard } from "../../src/generated/validators";
import { VALID_METADATA, call, decide, lambadaVariant, problemOf, submit, token, uploadResults } from "./helpers";

const METADATA = {
  ...VALID_METADATA,
  title: '=HYPERLINK("http://evil.example","click") <b>bold</b>',
  authors: [
    { name: "Named Author", affiliation: "Lab", agreesToBeNamed: true },
    { name: "Private Author", agreesToBeNamed: false },
  ],
  contactEmail: "secret-contact@example.org",
};

/** A fresh lambada variant (1,001 examples) with GPT-3 results uploaded for every example, so it can be accepted. */
async function taskWithResults(organiser: string): Promise<string> {
  return (await taskWithToken(organiser)).id;
}

async function taskWithToken(organiser: string): Promise<{ id: string; submitterToken: string }> {
  const response = await submit({ csv: lambadaVariant("A unique example"), metadata: METADATA });
  expect(response.status).toBe(201);
  const created = await response.json<{ id: string; submitterToken: string }>();
  await uploadResults(created.id, organiser);
  return created;
}

describe("review decisions", () => {
  it("follows the state machine: 409 names what is allowed, and accepting needs results", async () => {
    const organiser = await token("organiser");
    const bare = await submit({ csv: lambadaVariant("Bare") });
    const { id } = await bare.json<{ id: string }>();
    expect(await problemOf(await decide(id, organiser, "accept"))).toMatchObject({
      status: 409,
      code: "invalid_transition",
      allowed: ["reject", "request_changes"],
    });
    expect(await (await decide(id, organiser, "reject", "Out of scope.")).json()).toMatchObject({
      id,
      state: "rejected",
      note: "Out of scope.",
    });
    expect(await problemOf(await decide(id, organiser, "reject"))).toMatchObject({
      status: 409,
      state: "rejected",
      allowed: ["accept"],
    });
    const audit = await (await call(`/v1/review/audit?submission=${id}`, organiser)).json<{
      entries: { action: string; detail: { before: string; after: string; note: string } }[];
    }>();
    expect(
      audit.entries.map((entry) => [entry.action, entry.detail.before, entry.detail.after, entry.detail.note]),
    ).toEqual([["submission.reject", "valid", "rejected", "Out of scope."]]);
    expect(
      (
        await problemOf(
          await call(`/v1/review/submissions/${id}/decision`, organiser, {
            method: "POST",
            body: JSON.stringify({ decision: "approve", note: "" }),
          }),
        )
      ).code,
    ).toBe("bad_request");
    expect((await decide(id, "isv_ot_wrong", "accept")).status).toBe(401);
  });

  it("lists submissions newest first with filters and a cursor, and shows records anonymised unless an admin reveals them", async () => {
    const organiser = await token("organiser");
    const admin = await token("admin");
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push((await (await submit({ csv: lambadaVariant("Listed"), metadata: METADATA })).json<{ id: string }>()).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { submissions: { id: string; taskType: string }[]; nextCursor: string | null } = await (
        await call(
          `/v1/review/submissions?taskType=sequence_prob&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
          organiser,
        )
      ).json();
      expect(page.submissions.every((item) => item.taskType === "sequence_prob")).toBe(true);
      seen.push(...page.submissions.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(seen.indexOf(ids[2]!)).toBeLessThan(seen.indexOf(ids[0]!));
    expect((await problemOf(await call("/v1/review/submissions?cursor=forged", organiser))).code).toBe("bad_request");

    const record = await (await call(`/v1/review/submissions/${ids[0]}`, organiser)).json<{
      metadata: Record<string, unknown>;
      report: unknown;
    }>();
    expect(record.metadata).not.toHaveProperty("authors");
    expect(JSON.stringify(record)).not.toContain("secret-contact@example.org");
    expect((await problemOf(await call(`/v1/review/submissions/${ids[0]}?reveal=true`, organiser))).code).toBe(
      "forbidden",
    );
    const revealed = await (await call(`/v1/review/submissions/${ids[0]}?reveal=true`, admin)).json<{
      metadata: { contactEmail: string };
    }>();
    expect(revealed.metadata.contactEmail).toBe("secret-contact@example.org");
  });
});

describe("filtering the review list", () => {
  it("finds submissions by the families they have results on and by their verdict there", async () => {
    const organiser = await token("organiser");
    const onGpt3 = await taskWithResults(organiser);
    const onCopy = (await (await submit({ csv: lambadaVariant("Copied") })).json<{ id: string }>()).id;
    await uploadResults(onCopy, organiser, { ...gpt3, name: "gpt3-copy" });
    const listed = async (query: string): Promise<string[]> =>
      (
        await (
          await call(`/v1/review/submissions?limit=100&${query}`, organiser)
        ).json<{ submissions: { id: string }[] }>()
      ).submissions.map((item) => item.id);

    expect(await listed("family=gpt3&verdict=standard")).toContain(onGpt3);
    expect(await listed("family=gpt3&verdict=standard")).not.toContain(onCopy);
    expect(await listed("family=gpt3-copy")).toEqual([onCopy]);
    expect(await listed("family=gpt3-copy&verdict=inverse")).toEqual([]);
    expect(await listed("verdict=standard")).toEqual(expect.arrayContaining([onGpt3, onCopy]));
    expect((await problemOf(await call("/v1/review/submissions?verdict=sideways", organiser))).code).toBe(
      "bad_request",
    );
  });
});

describe("the public leaderboard", () => {
  it("shows accepted tasks only, in its schema, with named authors only and nothing private", async () => {
    const organiser = await token("organiser");
    const accepted = await taskWithResults(organiser);
    const rejected = await taskWithResults(organiser);
    expect((await decide(accepted, organiser, "accept")).status).toBe(200);
    expect((await decide(rejected, organiser, "reject")).status).toBe(200);

    const response = await call("/v1/leaderboard");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("cache-control")).toBe("public, max-age=60");
    const text = await response.text();
    const board = JSON.parse(text);
    expect(validateLeaderboard(board), JSON.stringify(validateLeaderboard.errors)).toBe(true);
    const ids = board.tasks.map((task: { id: string }) => task.id);
    expect(ids).toContain(accepted);
    expect(ids).not.toContain(rejected);
    const entry = board.tasks.find((task: { id: string }) => task.id === accepted);
    expect(entry).toMatchObject({
      authors: [{ name: "Named Author", affiliation: "Lab" }],
      metric: "loss",
      families: [{ family: "gpt3", verdict: "standard" }],
      plotUrl: `/v1/submissions/${accepted}/plot.svg`,
    });
    expect(entry.inverseStrength).toBeLessThan(0);
    expect(text).not.toContain("secret-contact@example.org");
    expect(text).not.toContain("Private Author");
    expect(board.tasks.map((task: { rank: number }) => task.rank)).toEqual(
      board.tasks.map((_: unknown, i: number) => i + 1),
    );

    const etag = response.headers.get("etag")!;
    expect((await call("/v1/leaderboard", undefined, { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await call(`/v1/submissions/${accepted}/plot.svg`)).headers.get("content-type")).toBe(
      "image/svg+xml; charset=utf-8",
    );
    expect((await call(`/v1/submissions/${rejected}/plot.svg`)).status).toBe(404);

    // Un-accepting removes it, and the ETag changes.
    expect((await decide(accepted, organiser, "reject", "Reconsidered.")).status).toBe(200);
    const after = await call("/v1/leaderboard", undefined, { headers: { "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect((await after.json<{ tasks: { id: string }[] }>()).tasks.map((task) => task.id)).not.toContain(accepted);
  });

  it("shows results uploaded after acceptance: the snapshot is rebuilt when an accepted task gets a new analysis", async () => {
    const organiser = await token("organiser");
    const id = await taskWithResults(organiser);
    await decide(id, organiser, "accept");
    const familiesOf = async () =>
      (
        (
          await (await call("/v1/leaderboard")).json<{ tasks: { id: string; families: { family: string }[] }[] }>()
        ).tasks.find((task) => task.id === id)?.families ?? []
      ).map((family) => family.family);
    expect(await familiesOf()).toEqual(["gpt3"]);
    await uploadResults(id, organiser, { ...gpt3, name: "gpt3-rerun" });
    expect(await familiesOf()).toEqual(["gpt3", "gpt3-rerun"]);
  });

  it("neutralises formulas in the CSV export", async () => {
    const organiser = await token("organiser");
    const id = await taskWithResults(organiser);
    await decide(id, organiser, "accept");
    const csv = await (await call("/v1/leaderboard.csv")).text();
    const row = csv.split("\n").find((line) => line.includes(id))!;
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""click"") <b>bold</b>"`);
    expect(csv.split("\n")[0]).toBe(
      "rank,title,task_type,examples,authors,inverse_strength,headline_metric,verdicts,data_licence,accepted_at,id",
    );
  });
});

describe("the submitter's side", () => {
  const asSubmitter = (path: string, submitterToken: string, init: RequestInit = {}) =>
    exports.default.fetch(`http://isv.test${path}`, {
      ...init,
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${submitterToken}`,
        ...(init.headers ?? {}),
      },
    });

  it("edits metadata until review decides, never the task type, and only with the submitter's token", async () => {
    const created = await (await submit({ csv: lambadaVariant("Editable") })).json<{
      id: string;
      submitterToken: string;
    }>();
    const edited = await asSubmitter(`/v1/submissions/${created.id}/metadata`, created.submitterToken, {
      method: "PUT",
      body: JSON.stringify({ metadata: { ...VALID_METADATA, title: "A better title" } }),
    });
    expect(edited.status).toBe(200);
    expect(await edited.json()).toMatchObject({
      title: "A better title",
      metadata: { title: "A better title", taskType: "sequence_prob" },
    });
    const retype = await asSubmitter(`/v1/submissions/${created.id}/metadata`, created.submitterToken, {
      method: "PUT",
      body: JSON.stringify({ metadata: { ...VALID_METADATA, taskType: "classification" } }),
    });
    expect((await problemOf(retype)).code).toBe("invalid_metadata");
    expect(
      (
        await asSubmitter(`/v1/submissions/${created.id}/metadata`, "isv_st_someone_else", {
          method: "PUT",
          body: JSON.stringify({ metadata: VALID_METADATA }),
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await problemOf(
          await asSubmitter(`/v1/submissions/${created.id}/metadata`, created.submitterToken, {
            method: "PUT",
            body: JSON.stringify({ metadata: { title: "x" } }),
          }),
        )
      ).code,
    ).toBe("invalid_metadata");

    await decide(created.id, await token("organiser"), "reject", "Not inverse.");
    const late = await asSubmitter(`/v1/submissions/${created.id}/metadata`, created.submitterToken, {
      method: "PUT",
      body: JSON.stringify({ metadata: VALID_METADATA }),
    });
    expect(await problemOf(late)).toMatchObject({ status: 409, code: "not_editable", state: "rejected" });
  });

  it("withdraws a task, which leaves the leaderboard, and says so once", async () => {
    const organiser = await token("organiser");
    const { id, submitterToken } = await taskWithToken(organiser);
    await decide(id, organiser, "accept");
    expect(
      (await (await call("/v1/leaderboard")).json<{ tasks: { id: string }[] }>()).tasks.map((t) => t.id),
    ).toContain(id);
    expect(
      await (await asSubmitter(`/v1/submissions/${id}/withdraw`, submitterToken, { method: "POST" })).json(),
    ).toEqual({ id, state: "withdrawn" });
    expect(
      (await (await call("/v1/leaderboard")).json<{ tasks: { id: string }[] }>()).tasks.map((t) => t.id),
    ).not.toContain(id);
    expect(
      (await problemOf(await asSubmitter(`/v1/submissions/${id}/withdraw`, submitterToken, { method: "POST" }))).code,
    ).toBe("invalid_transition");
    expect(await problemOf(await decide(id, organiser, "accept"))).toMatchObject({ status: 409, allowed: [] });
  });

  it("never shows a private family's results to the submitter, on the public plot or on the leaderboard", async () => {
    const organiser = await token("organiser");
    const { id, submitterToken } = await taskWithToken(organiser);
    const hidden = {
      ...gpt3,
      name: "private-gpt3",
      visibility: "private",
      models: gpt3.models.map((m) => ({ ...m, id: `${m.id}` })),
    };
    await uploadResults(id, organiser, hidden);
    const view = await (await asSubmitter(`/v1/submissions/${id}`, submitterToken)).json<{
      results: { families: { family: string }[] };
    }>();
    expect(view.results.families.map((family) => family.family)).toEqual(["gpt3"]);
    await decide(id, organiser, "accept");
    const plot = await (await call(`/v1/submissions/${id}/plot.svg`)).text();
    expect(plot).toContain('data-family="gpt3"');
    expect(plot).not.toContain("private-gpt3");
    const board = await (await call("/v1/leaderboard")).json<{
      tasks: { id: string; families: { family: string }[] }[];
    }>();
    expect(board.tasks.find((task) => task.id === id)!.families.map((family) => family.family)).toEqual(["gpt3"]);
  });
});
