import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import gpt3 from "../../fixtures/families/gpt3.json";
import { validateLeaderboard } from "../../src/generated/validators";
import {
  VALID_METADATA,
  call,
  postDecision,
  lambadaVariant,
  problemOf,
  submit,
  token,
  postGpt3Results,
} from "./helpers";
import { defined } from "../defined";

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
  await postGpt3Results(created.id, organiser);
  return created;
}

describe("review decisions", () => {
  let id: string;
  let acceptWithoutResults: Response;
  let rejected: Response;
  let rejectedAgain: Response;
  let auditEntries: { action: string; detail: { before: string; after: string; note: string } }[];
  let unknownDecision: Response;
  let unknownToken: Response;

  beforeAll(async () => {
    const organiser = await token("organiser");
    ({ id } = await (await submit({ csv: lambadaVariant("Bare") })).json<{ id: string }>());
    acceptWithoutResults = await postDecision(id, organiser, "accept");
    rejected = await postDecision(id, organiser, "reject", "Out of scope.");
    rejectedAgain = await postDecision(id, organiser, "reject");
    auditEntries = (
      await (await call(`/v1/review/audit?submission=${id}`, organiser)).json<{ entries: typeof auditEntries }>()
    ).entries;
    unknownDecision = await call(`/v1/review/submissions/${id}/decision`, organiser, {
      method: "POST",
      body: JSON.stringify({ decision: "approve", note: "" }),
    });
    unknownToken = await postDecision(id, "isv_ot_wrong", "accept");
  });

  it("refuses to accept a task without results (409), naming the decisions allowed", async () => {
    expect(await problemOf(acceptWithoutResults)).toMatchObject({
      status: 409,
      code: "invalid_transition",
      allowed: ["reject", "request_changes"],
    });
  });

  it("rejects a valid task, keeping the reviewer's note", async () => {
    expect(await rejected.json()).toMatchObject({ id, state: "rejected", note: "Out of scope." });
  });

  it("refuses to reject a rejected task (409), naming the state and the decision still allowed", async () => {
    expect(await problemOf(rejectedAgain)).toMatchObject({ status: 409, state: "rejected", allowed: ["accept"] });
  });

  it("audits each decision made, with the states before and after and the note, and no refused one", () => {
    expect(
      auditEntries.map((entry) => [entry.action, entry.detail.before, entry.detail.after, entry.detail.note]),
    ).toEqual([["submission.reject", "valid", "rejected", "Out of scope."]]);
  });

  it("answers 400 to a decision it does not know", async () => {
    expect((await problemOf(unknownDecision)).code).toBe("bad_request");
  });

  it("answers 401 to a token it does not know", () => {
    expect(unknownToken.status).toBe(401);
  });
});

describe("the review list", () => {
  let organiser: string;
  let admin: string;
  const ids: string[] = [];
  const pages: { submissions: { id: string; taskType: string }[]; nextCursor: string | null }[] = [];
  const seen = (): string[] => pages.flatMap((page) => page.submissions.map((item) => item.id));

  beforeAll(async () => {
    organiser = await token("organiser");
    admin = await token("admin");
    for (let i = 0; i < 3; i++)
      ids.push((await (await submit({ csv: lambadaVariant("Listed"), metadata: METADATA })).json<{ id: string }>()).id);
    let cursor: string | null = null;
    do {
      const page: (typeof pages)[number] = await (
        await call(
          `/v1/review/submissions?taskType=sequence_prob&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
          organiser,
        )
      ).json();
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor);
  });

  it("pages through every submission with a cursor, each once", () => {
    expect(new Set(seen()).size).toBe(seen().length);
    expect(seen()).toEqual(expect.arrayContaining(ids));
  });

  it("filters by task type", () => {
    for (const page of pages) expect(page.submissions.every((item) => item.taskType === "sequence_prob")).toBe(true);
  });

  it("lists the newest first", () => {
    const first = defined(ids[0], "the first submission");
    const third = defined(ids[2], "the third submission");
    expect(seen().indexOf(third)).toBeLessThan(seen().indexOf(first));
  });

  it("refuses a cursor it did not make (400)", async () => {
    expect((await problemOf(await call("/v1/review/submissions?cursor=forged", organiser))).code).toBe("bad_request");
  });

  it("shows a record without its authors", async () => {
    const record = await (await call(`/v1/review/submissions/${ids[0]}`, organiser)).json<{
      metadata: Record<string, unknown>;
    }>();
    expect(record.metadata).not.toHaveProperty("authors");
  });

  it("shows a record without the contact email", async () => {
    const record = await (await call(`/v1/review/submissions/${ids[0]}`, organiser)).text();
    expect(record).not.toContain("secret-contact@example.org");
  });

  it("refuses to reveal a record to an organiser (403)", async () => {
    expect((await problemOf(await call(`/v1/review/submissions/${ids[0]}?reveal=true`, organiser))).code).toBe(
      "forbidden",
    );
  });

  it("reveals a record's contact details to an admin", async () => {
    const revealed = await (await call(`/v1/review/submissions/${ids[0]}?reveal=true`, admin)).json<{
      metadata: { contactEmail: string };
    }>();
    expect(revealed.metadata.contactEmail).toBe("secret-contact@example.org");
  });
});

describe("filtering the review list by family and verdict", () => {
  let organiser: string;
  let onGpt3: string;
  let onCopy: string;
  const listed = async (query: string): Promise<string[]> =>
    (
      await (
        await call(`/v1/review/submissions?limit=100&${query}`, organiser)
      ).json<{ submissions: { id: string }[] }>()
    ).submissions.map((item) => item.id);

  beforeAll(async () => {
    organiser = await token("organiser");
    onGpt3 = await taskWithResults(organiser);
    onCopy = (await (await submit({ csv: lambadaVariant("Copied") })).json<{ id: string }>()).id;
    await postGpt3Results(onCopy, organiser, { ...gpt3, name: "gpt3-copy" });
  });

  it("finds a submission by a family it has results on and its verdict there", async () => {
    expect(await listed("family=gpt3&verdict=standard")).toContain(onGpt3);
  });

  it("leaves out a submission whose results are on other families only", async () => {
    expect(await listed("family=gpt3&verdict=standard")).not.toContain(onCopy);
  });

  it("lists exactly the submissions with results on a family", async () => {
    expect(await listed("family=gpt3-copy")).toEqual([onCopy]);
  });

  it("lists none for a verdict no submission has on that family", async () => {
    expect(await listed("family=gpt3-copy&verdict=inverse")).toEqual([]);
  });

  it("finds submissions by their verdict on any family", async () => {
    expect(await listed("verdict=standard")).toEqual(expect.arrayContaining([onGpt3, onCopy]));
  });

  it("refuses a verdict it does not know (400)", async () => {
    expect((await problemOf(await call("/v1/review/submissions?verdict=sideways", organiser))).code).toBe(
      "bad_request",
    );
  });
});

describe("the public leaderboard", () => {
  let organiser: string;
  let accepted: string;
  let rejected: string;
  let response: Response;
  let text: string;
  let board: {
    tasks: { id: string; rank: number; inverseStrength: number; [field: string]: unknown }[];
  };
  let etag: string;

  beforeAll(async () => {
    organiser = await token("organiser");
    accepted = await taskWithResults(organiser);
    rejected = await taskWithResults(organiser);
    expect((await postDecision(accepted, organiser, "accept")).status).toBe(200);
    expect((await postDecision(rejected, organiser, "reject")).status).toBe(200);
    response = await call("/v1/leaderboard");
    text = await response.text();
    board = JSON.parse(text);
    etag = defined(response.headers.get("etag"), "an ETag header");
  });

  it("may be read from any origin", () => {
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("may be cached for a minute", () => {
    expect(response.headers.get("cache-control")).toBe("public, max-age=60");
  });

  it("matches its schema", () => {
    expect(validateLeaderboard(board), JSON.stringify(validateLeaderboard.errors)).toBe(true);
  });

  it("lists an accepted task", () => {
    expect(board.tasks.map((task) => task.id)).toContain(accepted);
  });

  it("leaves out a rejected task", () => {
    expect(board.tasks.map((task) => task.id)).not.toContain(rejected);
  });

  it("shows a task's named authors, headline metric, verdicts and plot", () => {
    expect(board.tasks.find((task) => task.id === accepted)).toMatchObject({
      authors: [{ name: "Named Author", affiliation: "Lab" }],
      metric: "loss",
      families: [{ family: "gpt3", verdict: "standard" }],
      plotUrl: `/v1/submissions/${accepted}/plot.svg`,
    });
  });

  it("gives a task that scales normally an inverse strength below 0", () => {
    expect(
      defined(
        board.tasks.find((task) => task.id === accepted),
        "the accepted task on the leaderboard",
      ).inverseStrength,
    ).toBeLessThan(0);
  });

  it("never shows a contact email", () => {
    expect(text).not.toContain("secret-contact@example.org");
  });

  it("never names an author who did not agree to be named", () => {
    expect(text).not.toContain("Private Author");
  });

  it("ranks the tasks 1, 2, 3 … in the order listed", () => {
    expect(board.tasks.map((task) => task.rank)).toEqual(board.tasks.map((_, i) => i + 1));
  });

  it("answers 304 to a request with the current ETag", async () => {
    expect((await call("/v1/leaderboard", undefined, { headers: { "if-none-match": etag } })).status).toBe(304);
  });

  it("serves an accepted task's plot as SVG", async () => {
    expect((await call(`/v1/submissions/${accepted}/plot.svg`)).headers.get("content-type")).toBe(
      "image/svg+xml; charset=utf-8",
    );
  });

  it("serves no public plot for a rejected task (404)", async () => {
    expect((await call(`/v1/submissions/${rejected}/plot.svg`)).status).toBe(404);
  });

  describe("once the accepted task is rejected after all", () => {
    let after: Response;

    beforeAll(async () => {
      expect((await postDecision(accepted, organiser, "reject", "Reconsidered.")).status).toBe(200);
      after = await call("/v1/leaderboard", undefined, { headers: { "if-none-match": etag } });
    });

    it("changes the ETag: a request with the old one gets the new leaderboard", () => {
      expect(after.status).toBe(200);
    });

    it("leaves the task out", async () => {
      expect((await after.json<{ tasks: { id: string }[] }>()).tasks.map((task) => task.id)).not.toContain(accepted);
    });
  });
  it("shows results uploaded after acceptance: the snapshot is rebuilt when an accepted task gets a new analysis", async () => {
    const organiser = await token("organiser");
    const id = await taskWithResults(organiser);
    await postDecision(id, organiser, "accept");
    const familiesOf = async () =>
      (
        (
          await (await call("/v1/leaderboard")).json<{ tasks: { id: string; families: { family: string }[] }[] }>()
        ).tasks.find((task) => task.id === id)?.families ?? []
      ).map((family) => family.family);
    expect(await familiesOf()).toEqual(["gpt3"]);
    await postGpt3Results(id, organiser, { ...gpt3, name: "gpt3-rerun" });
    expect(await familiesOf()).toEqual(["gpt3", "gpt3-rerun"]);
  });

  describe("as CSV", () => {
    let csv: string;
    let id: string;

    beforeAll(async () => {
      id = await taskWithResults(organiser);
      await postDecision(id, organiser, "accept");
      csv = await (await call("/v1/leaderboard.csv")).text();
    });

    it("neutralises formulas", () => {
      const row = defined(
        csv.split("\n").find((line) => line.includes(id)),
        `a line for task ${id}`,
      );
      expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""click"") <b>bold</b>"`);
    });

    it("starts with a header naming its columns", () => {
      expect(csv.split("\n")[0]).toBe(
        "rank,title,task_type,examples,authors,inverse_strength,headline_metric,verdicts,data_licence,accepted_at,id",
      );
    });
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

  describe("editing metadata", () => {
    let created: { id: string; submitterToken: string };
    let edited: Response;
    let retyped: Response;
    let byAnotherToken: Response;
    let malformed: Response;
    let afterDecision: Response;
    const put = (submitterToken: string, metadata: object) =>
      asSubmitter(`/v1/submissions/${created.id}/metadata`, submitterToken, {
        method: "PUT",
        body: JSON.stringify({ metadata }),
      });

    beforeAll(async () => {
      created = await (await submit({ csv: lambadaVariant("Editable") })).json<{
        id: string;
        submitterToken: string;
      }>();
      edited = await put(created.submitterToken, { ...VALID_METADATA, title: "A better title" });
      retyped = await put(created.submitterToken, { ...VALID_METADATA, taskType: "classification" });
      byAnotherToken = await put("isv_st_someone_else", VALID_METADATA);
      malformed = await put(created.submitterToken, { title: "x" });
      await postDecision(created.id, await token("organiser"), "reject", "Not inverse.");
      afterDecision = await put(created.submitterToken, VALID_METADATA);
    });

    it("saves an edit made with the submitter's token, keeping the task type", async () => {
      expect(edited.status).toBe(200);
      expect(await edited.json()).toMatchObject({
        title: "A better title",
        metadata: { title: "A better title", taskType: "sequence_prob" },
      });
    });

    it("refuses an edit that changes the task type", async () => {
      expect((await problemOf(retyped)).code).toBe("invalid_metadata");
    });

    it("answers 404 to another token, as for a task that does not exist", () => {
      expect(byAnotherToken.status).toBe(404);
    });

    it("refuses metadata that breaks its schema", async () => {
      expect((await problemOf(malformed)).code).toBe("invalid_metadata");
    });

    it("refuses edits once review has decided (409)", async () => {
      expect(await problemOf(afterDecision)).toMatchObject({ status: 409, code: "not_editable", state: "rejected" });
    });
  });

  describe("withdrawing an accepted task", () => {
    let id: string;
    let listedBefore: string[];
    let withdrawn: Response;
    let listedAfter: string[];
    let withdrawnAgain: Response;
    let acceptedAgain: Response;
    const leaderboardIds = async (): Promise<string[]> =>
      (await (await call("/v1/leaderboard")).json<{ tasks: { id: string }[] }>()).tasks.map((t) => t.id);

    beforeAll(async () => {
      const organiser = await token("organiser");
      const task = await taskWithToken(organiser);
      id = task.id;
      await postDecision(id, organiser, "accept");
      listedBefore = await leaderboardIds();
      const withdraw = () => asSubmitter(`/v1/submissions/${id}/withdraw`, task.submitterToken, { method: "POST" });
      withdrawn = await withdraw();
      listedAfter = await leaderboardIds();
      withdrawnAgain = await withdraw();
      acceptedAgain = await postDecision(id, organiser, "accept");
    });

    it("is on the leaderboard before it is withdrawn", () => {
      expect(listedBefore).toContain(id);
    });

    it("is withdrawn at the submitter's request", async () => {
      expect(await withdrawn.json()).toEqual({ id, state: "withdrawn" });
    });

    it("leaves the leaderboard once withdrawn", () => {
      expect(listedAfter).not.toContain(id);
    });

    it("says so once: a second withdrawal is refused", async () => {
      expect((await problemOf(withdrawnAgain)).code).toBe("invalid_transition");
    });

    it("leaves review no decision to make on it", async () => {
      expect(await problemOf(acceptedAgain)).toMatchObject({ status: 409, allowed: [] });
    });
  });

  describe("a private family's results", () => {
    let id: string;
    let submitterView: { results: { families: { family: string }[] } };

    beforeAll(async () => {
      const organiser = await token("organiser");
      const task = await taskWithToken(organiser);
      id = task.id;
      const hidden = {
        ...gpt3,
        name: "private-gpt3",
        visibility: "private",
        models: gpt3.models.map((m) => ({ ...m, id: `${m.id}` })),
      };
      await postGpt3Results(id, organiser, hidden);
      submitterView = await (await asSubmitter(`/v1/submissions/${id}`, task.submitterToken)).json();
      await postDecision(id, organiser, "accept");
    });

    it("are never shown to the submitter", () => {
      expect(submitterView.results.families.map((family) => family.family)).toEqual(["gpt3"]);
    });

    it("are never drawn on the public plot", async () => {
      const plot = await (await call(`/v1/submissions/${id}/plot.svg`)).text();
      expect(plot).toContain('data-family="gpt3"');
      expect(plot).not.toContain("private-gpt3");
    });

    it("are never listed on the leaderboard", async () => {
      const board = await (await call("/v1/leaderboard")).json<{
        tasks: { id: string; families: { family: string }[] }[];
      }>();
      const entry = defined(
        board.tasks.find((task) => task.id === id),
        `task ${id} on the leaderboard`,
      );
      expect(entry.families.map((family) => family.family)).toEqual(["gpt3"]);
    });
  });
});
