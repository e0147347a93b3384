import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import { listEvaluations } from "../../src/storage/evaluations";
import { getSubmission } from "../../src/storage/submissions";
import { defined } from "../defined";
import { lambadaVariant, postDecision, submit, token, uniqueVariant, VALID_METADATA, withSettings } from "./helpers";
import { CROSS_SITE, ESCAPED, HOSTILE, PAGE_ORIGIN, pageRequest, submitSignedIn } from "./page-helpers";

/**
 * The replace page, GET /submissions/{id}/file (linked from the status page), and its form, POST to the same
 * path: the same service as PUT /v1/submissions/{id}/file, streamed, for the signed-in session only, refused from
 * another site, under the upload allowance and size limit; a rejected file comes back with its report inline, a new
 * one redirects to the status page.
 *
 * This file's settings (saved below, restored at the end) name the built-in family as public and refuse every
 * automatic evaluation (a daily cap of 0): a new file's evaluation is started and kept, failed with the reason, as
 * the API's is, and nothing is queued in the background.
 */
withSettings({ publicFamilies: ["isv-reference"], automaticEvaluationsPerDay: 0 });

/** A new sequence_prob task from the API, with the hostile text in its title; its id and signed-in cookie. */
const signedInTask = (label: string, csv = lambadaVariant(label)): Promise<{ id: string; cookie: string }> =>
  submitSignedIn({ csv, metadata: { ...VALID_METADATA, title: HOSTILE } });

/** Posts the form as the page does (multipart, the file alone), from this site unless `headers` say otherwise. */
function postFile(id: string, file: string | undefined, cookie?: string, headers: Record<string, string> = {}) {
  const form = new FormData();
  if (file === undefined) form.append("file", new Blob([]), "");
  else form.append("file", new Blob([file], { type: "text/csv" }), "task.csv");
  return pageRequest(`/submissions/${id}/file`, {
    method: "POST",
    body: form,
    headers: { origin: PAGE_ORIGIN, ...(cookie ? { cookie } : {}), ...headers },
  });
}

const fileVersionOf = async (id: string) => defined(await getSubmission(env.DB, id), id).fileVersion;
const statusPage = async (id: string, cookie: string, query = "") =>
  (await pageRequest(`/submissions/${id}${query}`, { headers: { cookie } })).text();

/** A LAMBADA variant with one more record, its last, that has no ending (its completion is empty). */
const badLambada = (): string => uniqueVariant(lambadaVariant("Bad"), () => `10000,"No ending here",`);
/** The physical line of a file's last record (LAMBADA's prompts span several lines). */
const lastLine = (file: string): number => file.trimEnd().split("\n").length;

describe("the replace page", () => {
  const replacePage = (id: string, cookie?: string) =>
    pageRequest(`/submissions/${id}/file`, { headers: cookie ? { cookie } : {} });

  it("is linked from the status page, which has no file form, while the task is editable", async () => {
    const { id, cookie } = await signedInTask("Replace link");
    const text = await statusPage(id, cookie);
    expect(text).toContain(`<a href="/submissions/${id}/file">Replace the task file</a>`);
    expect([text.includes('type="file"'), text.includes("multipart/form-data")]).toEqual([false, false]);
  });

  it("offers a labelled file input posting multipart to the same path", async () => {
    const { id, cookie } = await signedInTask("Replace form");
    const response = await replacePage(id, cookie);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain(
      `<form method="post" action="/submissions/${id}/file" enctype="multipart/form-data"><div class="field">`,
    );
    expect(text).toContain('<label for="file">New task file</label>');
    expect(text).toContain(
      '<input id="file" name="file" required="" aria-describedby="file-hint" type="file" accept=".csv,text/csv"/>',
    );
    expect(text).toContain('<button type="submit">Replace the file</button>');
  });

  it("names the task and its file version, escaping the title, and links back to the status page", async () => {
    const { id, cookie } = await signedInTask("Replace page escaped");
    const text = await (await replacePage(id, cookie)).text();
    expect(text).toContain(
      `<q>${ESCAPED}</q>: file version 1 is the task&#39;s. <a href="/submissions/${id}">Back to the status page</a>`,
    );
    expect(text).not.toContain(HOSTILE);
  });

  it("is the 401 sign-in page without a session", async () => {
    const { id } = await signedInTask("Replace page no session");
    const response = await replacePage(id);
    expect(response.status).toBe(401);
    expect(await response.text()).toContain(`action="/submissions/${id}/sign-in"`);
  });

  it("is neither linked nor served once review decided the task", async () => {
    const { id, cookie } = await signedInTask("Replace form decided");
    expect((await postDecision(id, await token("organiser"), "reject")).status).toBe(200);
    const text = await statusPage(id, cookie);
    expect(text).not.toContain(`/submissions/${id}/file`);
    expect(text).toContain("Its details and file can no longer be changed.");
    const response = await replacePage(id, cookie);
    expect(response.status).toBe(409);
    expect(await response.text()).toContain("A rejected submission can no longer be changed.");
  });
});

describe("replacing the file", () => {
  it("puts a new file in place and redirects to the status page, which shows the new version and says so", async () => {
    const { id, cookie } = await signedInTask("Replace happy");
    const response = await postFile(id, lambadaVariant("Replace happy, new"), cookie);
    expect([response.status, response.headers.get("location")]).toEqual([303, `/submissions/${id}?done=replaced`]);
    expect(await fileVersionOf(id)).toBe(2);
    const text = await statusPage(id, cookie, "?done=replaced");
    expect(text).toContain("The new file is in place: it is evaluated afresh, and the earlier file is kept.");
    expect(text).toContain("<dt>File version</dt><dd>2</dd>");
  });

  it("starts the new file's evaluation on the public families, as the API does", async () => {
    const { id, cookie } = await signedInTask("Replace evaluation");
    expect((await postFile(id, lambadaVariant("Replace evaluation, new"), cookie)).status).toBe(303);
    const evaluations = await listEvaluations(env.DB, id);
    const versions = evaluations.map((evaluation) => [evaluation.family, evaluation.fileVersion]);
    expect(versions.sort()).toEqual([
      ["isv-reference", 1],
      ["isv-reference", 2],
    ]);
  });

  it("shows an invalid file's report with its line numbers, with 422, and keeps the current file", async () => {
    const { id, cookie } = await signedInTask("Replace invalid");
    const file = badLambada();
    const response = await postFile(id, file, cookie);
    const text = await response.text();
    expect(response.status).toBe(422);
    expect(text).toContain("The new file has 1 error: the task keeps its current file.");
    expect(text).toContain('<h2 id="report-heading">The new file&#39;s report</h2>');
    expect(text).toContain(
      `<span class="where">Line ${lastLine(file)}, column completion</span>: The &quot;completion&quot;`,
    );
    expect(text).toContain(`action="/submissions/${id}/file"`);
    expect(await fileVersionOf(id)).toBe(1);
  });

  it("escapes the task's title on the page that shows a rejected file", async () => {
    const { id, cookie } = await signedInTask("Replace escaped");
    const text = await (await postFile(id, badLambada(), cookie)).text();
    expect(text).toContain(`<q>${ESCAPED}</q>`);
    expect(text).not.toContain(HOSTILE);
  });

  it("asks for the file when none was chosen, with 400, changing nothing", async () => {
    const { id, cookie } = await signedInTask("Replace empty");
    const response = await postFile(id, undefined, cookie);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Choose the new task file.");
    expect(await fileVersionOf(id)).toBe(1);
  });

  it("redirects saying nothing changed when the file is the one the task has", async () => {
    const csv = lambadaVariant("Replace unchanged");
    const { id, cookie } = await signedInTask("Replace unchanged", csv);
    const response = await postFile(id, csv, cookie);
    expect([response.status, response.headers.get("location")]).toEqual([303, `/submissions/${id}?done=unchanged`]);
    expect(await statusPage(id, cookie, "?done=unchanged")).toContain(
      "The file you sent is the one the task already has: nothing changed.",
    );
    expect(await fileVersionOf(id)).toBe(1);
  });

  it("refuses another task's exact bytes with 409, keeping the current file", async () => {
    const other = lambadaVariant("Replace duplicate, other");
    expect((await submit({ csv: other })).status).toBe(201);
    const { id, cookie } = await signedInTask("Replace duplicate");
    const response = await postFile(id, other, cookie);
    expect(response.status).toBe(409);
    expect(await response.text()).toContain(
      "These exact bytes were already submitted as another task: the task keeps its current file.",
    );
    expect(await fileVersionOf(id)).toBe(1);
  });
});

describe("refusals", () => {
  it("refuses a file posted from another site with 403", async () => {
    const { id, cookie } = await signedInTask("Replace cross-site");
    const response = await postFile(id, lambadaVariant("Replace cross-site, new"), cookie, CROSS_SITE);
    expect(response.status).toBe(403);
    expect(await fileVersionOf(id)).toBe(1);
  });

  it("refuses a file without a session with the 401 sign-in page", async () => {
    const { id } = await signedInTask("Replace no session");
    const response = await postFile(id, lambadaVariant("Replace no session, new"));
    expect(response.status).toBe(401);
    expect(await response.text()).toContain(`action="/submissions/${id}/sign-in"`);
    expect(await fileVersionOf(id)).toBe(1);
  });

  it("refuses a file once review decided the task, with 409 and the reason", async () => {
    const { id, cookie } = await signedInTask("Replace decided");
    expect((await postDecision(id, await token("organiser"), "reject")).status).toBe(200);
    const response = await postFile(id, lambadaVariant("Replace decided, new"), cookie);
    expect(response.status).toBe(409);
    expect(await response.text()).toContain("A rejected submission can no longer be changed.");
    expect(await fileVersionOf(id)).toBe(1);
  });

  it("refuses a body that is not multipart with 415", async () => {
    const { id, cookie } = await signedInTask("Replace not multipart");
    const response = await pageRequest(`/submissions/${id}/file`, {
      method: "POST",
      body: lambadaVariant("Replace not multipart, new"),
      headers: { origin: PAGE_ORIGIN, cookie, "content-type": "text/plain" },
    });
    expect(response.status).toBe(415);
    expect(await fileVersionOf(id)).toBe(1);
  });
});

describe("the limits of uploads", () => {
  let task: { id: string; cookie: string };
  const client = "198.51.100.77";

  beforeAll(async () => {
    task = await signedInTask("Replace limits");
  });
  // After the task is stored: its upload would be past these limits.
  withSettings({ uploadsPerHour: 1, maxFileBytes: 4096 });

  it("refuses a file past the size limit with 413, its report inline, and keeps the current file", async () => {
    const response = await postFile(task.id, memoTrap, task.cookie, { "cf-connecting-ip": client });
    const text = await response.text();
    expect(response.status).toBe(413);
    expect(text).toContain("The new file is larger than 4 KiB: the task keeps its current file.");
    expect(text).toContain('<span class="code">file_too_large</span>');
    expect(await fileVersionOf(task.id)).toBe(1);
  });

  it("counts against the client's upload allowance: past it, 429 with Retry-After, and the file stays", async () => {
    const response = await postFile(task.id, "prompt,classes,answer_index\n", task.cookie, {
      "cf-connecting-ip": client,
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("3600");
    expect(await fileVersionOf(task.id)).toBe(1);
  });
});
