import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getSubmission } from "../../src/storage/submissions";
import { lambadaVariant, postDecision, token, VALID_METADATA } from "./helpers";
import { CROSS_SITE, ESCAPED, HOSTILE, PAGE_ORIGIN, pageRequest, submitSignedIn } from "./page-helpers";

/**
 * The status page's forms: withdraw (with a ticked confirmation) and edit the details, each calling the API's
 * service, for the signed-in session only, refused from another site, then post/redirect/get.
 */

/** A new task from the API, with the hostile text in its title and author; its id and a signed-in cookie. */
const signedInTask = (label: string): Promise<{ id: string; cookie: string }> =>
  submitSignedIn({
    csv: lambadaVariant(label),
    metadata: { ...VALID_METADATA, title: HOSTILE, authors: [{ name: HOSTILE, agreesToBeNamed: false }] },
  });

/** Posts a url-encoded form from this site (with the session cookie, when given) unless `headers` say otherwise. */
const post = (path: string, form: Record<string, string>, cookie?: string, headers: Record<string, string> = {}) =>
  pageRequest(path, {
    method: "POST",
    body: new URLSearchParams(form),
    headers: { origin: PAGE_ORIGIN, ...(cookie ? { cookie } : {}), ...headers },
  });

const stateOf = async (id: string) => (await getSubmission(env.DB, id))?.state;

/** The edit form's fields for VALID_METADATA with one author, and the given changes. */
const editForm = (changes: Record<string, string> = {}): Record<string, string> => ({
  title: VALID_METADATA.title,
  contactEmail: VALID_METADATA.contactEmail,
  description: VALID_METADATA.description,
  whyItMatters: VALID_METADATA.whyItMatters,
  expectedInverseScaling: VALID_METADATA.expectedInverseScaling,
  correctBehaviour: VALID_METADATA.correctBehaviour,
  dataGeneration: VALID_METADATA.dataGeneration,
  dataLicence: VALID_METADATA.dataLicence,
  author_name_0: "Ada Researcher",
  ...changes,
});

describe("withdrawing from the status page", () => {
  it("shows the withdraw form, with its confirmation box, on the signed-in status page", async () => {
    const { id, cookie } = await signedInTask("Withdraw form");
    const text = await (await pageRequest(`/submissions/${id}`, { headers: { cookie } })).text();
    expect(text).toContain(`<form method="post" action="/submissions/${id}/withdraw">`);
    expect(text).toContain('<input type="checkbox" id="confirm" name="confirm" value="yes" required=""');
  });

  it("withdraws once the box is ticked, then redirects to the status page saying so", async () => {
    const { id, cookie } = await signedInTask("Withdraw ticked");
    const response = await post(`/submissions/${id}/withdraw`, { confirm: "yes" }, cookie);
    expect([response.status, response.headers.get("location")]).toEqual([303, `/submissions/${id}?done=withdrawn`]);
    expect(await stateOf(id)).toBe("withdrawn");
    const page = await (await pageRequest(`/submissions/${id}?done=withdrawn`, { headers: { cookie } })).text();
    expect(page).toContain("The task is withdrawn.");
    expect(page).not.toContain(`action="/submissions/${id}/withdraw"`);
  });

  it("withdraws nothing when the box is not ticked, and says why on the page", async () => {
    const { id, cookie } = await signedInTask("Withdraw unticked");
    const response = await post(`/submissions/${id}/withdraw`, {}, cookie);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Tick the box to confirm: nothing was withdrawn.");
    expect(await stateOf(id)).toBe("valid");
  });

  it("refuses a withdrawal posted from another site", async () => {
    const { id, cookie } = await signedInTask("Withdraw cross-site");
    const response = await post(`/submissions/${id}/withdraw`, { confirm: "yes" }, cookie, CROSS_SITE);
    expect(response.status).toBe(403);
    expect(await stateOf(id)).toBe("valid");
  });

  it("refuses a withdrawal without a session with the 401 sign-in page", async () => {
    const { id } = await signedInTask("Withdraw no session");
    const response = await post(`/submissions/${id}/withdraw`, { confirm: "yes" });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain(`action="/submissions/${id}/sign-in"`);
    expect(await stateOf(id)).toBe("valid");
  });

  it("escapes the task's text on the page that asks for the confirmation again", async () => {
    const { id, cookie } = await signedInTask("Withdraw escaped");
    const text = await (await post(`/submissions/${id}/withdraw`, {}, cookie)).text();
    expect(text).toContain(ESCAPED);
    expect(text).not.toContain(HOSTILE);
  });
});

describe("editing the details from the status page", () => {
  it("links the edit form from the status page while the task is editable", async () => {
    const { id, cookie } = await signedInTask("Edit link");
    const text = await (await pageRequest(`/submissions/${id}`, { headers: { cookie } })).text();
    expect(text).toContain(`<a href="/submissions/${id}/edit">`);
  });

  it("prefills the edit form with the stored details, escaped", async () => {
    const { id, cookie } = await signedInTask("Edit prefill");
    const response = await pageRequest(`/submissions/${id}/edit`, { headers: { cookie } });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain(`<form method="post" action="/submissions/${id}/edit">`);
    expect(text).toContain(
      `<input id="title" name="title" required="" aria-describedby="title-hint" type="text" value="${ESCAPED}"`,
    );
    expect(text).toContain(`id="author_name_0" name="author_name_0" type="text" value="${ESCAPED}"`);
    expect(text).not.toContain(HOSTILE);
  });

  it("saves an edit through the API's service, then redirects to the status page saying so", async () => {
    const { id, cookie } = await signedInTask("Edit save");
    const response = await post(`/submissions/${id}/edit`, editForm({ title: "A better title" }), cookie);
    expect([response.status, response.headers.get("location")]).toEqual([303, `/submissions/${id}?done=edited`]);
    expect((await getSubmission(env.DB, id))?.title).toBe("A better title");
    const page = await (await pageRequest(`/submissions/${id}?done=edited`, { headers: { cookie } })).text();
    expect(page).toContain("The task&#39;s details are saved.");
  });

  it("shows an invalid edit's problems on their fields, keeping what was typed (escaped), and saves nothing", async () => {
    const { id, cookie } = await signedInTask("Edit invalid");
    const response = await post(`/submissions/${id}/edit`, editForm({ title: "ab", description: HOSTILE }), cookie);
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).toContain('<span class="field-error" id="title-error">Must be at least 3 characters long.</span>');
    expect(text).toContain(`${ESCAPED}</textarea>`);
    expect(text).not.toContain(HOSTILE);
    expect((await getSubmission(env.DB, id))?.title).toBe(HOSTILE);
  });

  it("adds an author row without saving", async () => {
    const { id, cookie } = await signedInTask("Edit more authors");
    const form = editForm({ title: "Not saved", action: "more_authors" });
    const response = await post(`/submissions/${id}/edit`, form, cookie);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain('id="author_name_3"');
    expect((await getSubmission(env.DB, id))?.title).toBe(HOSTILE);
  });

  it("refuses an edit posted from another site", async () => {
    const { id, cookie } = await signedInTask("Edit cross-site");
    const response = await post(`/submissions/${id}/edit`, editForm({ title: "Cross-site" }), cookie, CROSS_SITE);
    expect(response.status).toBe(403);
    expect((await getSubmission(env.DB, id))?.title).toBe(HOSTILE);
  });

  it("refuses the edit form and an edit without a session with the 401 sign-in page", async () => {
    const { id } = await signedInTask("Edit no session");
    const form = await pageRequest(`/submissions/${id}/edit`);
    const saved = await post(`/submissions/${id}/edit`, editForm({ title: "No session" }));
    expect([form.status, saved.status]).toEqual([401, 401]);
    expect(await saved.text()).toContain(`action="/submissions/${id}/sign-in"`);
    expect((await getSubmission(env.DB, id))?.title).toBe(HOSTILE);
  });

  it("offers no edit once review decided the task, and refuses the form with 409", async () => {
    const { id, cookie } = await signedInTask("Edit decided");
    expect((await postDecision(id, await token("organiser"), "reject")).status).toBe(200);
    const status = await (await pageRequest(`/submissions/${id}`, { headers: { cookie } })).text();
    const form = await pageRequest(`/submissions/${id}/edit`, { headers: { cookie } });
    const saved = await post(`/submissions/${id}/edit`, editForm({ title: "Too late" }), cookie);
    expect(status).not.toContain(`/submissions/${id}/edit`);
    expect([form.status, saved.status]).toEqual([409, 409]);
    expect(await form.text()).toContain("A rejected submission can no longer be changed.");
  });
});
