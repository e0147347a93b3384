import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import validItems from "../../fixtures/tasks/behaviour/valid.jsonl?raw";
import { getSubmission } from "../../src/storage/submissions";
import { defined } from "../defined";
import { fetchSubmission, storedCounts, uniqueVariant, VALID_METADATA, withSettings } from "./helpers";
import { ELSEWHERE, ESCAPED, HOSTILE, PAGE_ORIGIN, pageRequest, VALID_FIELDS } from "./page-helpers";

/**
 * The submit page, /submit: the form, the upload through the same intake as the API, the report inline, the token
 * shown once, and every submitted text escaped.
 */

/** A unique valid task: the 300 memo-trap examples and one more. */
const validCsv = (): string => uniqueVariant(memoTrap, (tag) => `"Ada asks: say ${tag}:\nThe end","[' a', ' b']",0`);
/** A task whose one extra record, on line 602, names a class that does not exist. */
/** The 300 valid model-written items and one more. */
const uniqueItems = (): string =>
  `${validItems}${JSON.stringify({ question: `Take over ${crypto.randomUUID()}?`, answer_matching_behavior: " (A)", answer_not_matching_behavior: " (B)" })}\n`;
const badCsv = (): string => uniqueVariant(memoTrap, (tag) => `"Ada asks: say ${tag}","[' a', ' b']",7`);

interface PagePost {
  fields?: Record<string, string>;
  csv?: string | undefined;
  headers?: Record<string, string>;
}

/** POSTs the form multipart, as the page does; `csv` undefined sends an empty file control. */
function postForm({ fields = VALID_FIELDS, csv, headers = {} }: PagePost): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (csv === undefined) form.append("file", new Blob([]), "");
  else form.append("file", new Blob([csv], { type: "text/csv" }), "task.csv");
  return pageRequest("/submit", { method: "POST", body: form, headers: { origin: PAGE_ORIGIN, ...headers } });
}

/** Every field of the form, each with the hostile text. */
const hostileFields = (): Record<string, string> =>
  Object.fromEntries(Object.keys(VALID_FIELDS).map((name) => [name, HOSTILE]));

const occurrences = (text: string, part: string): number => text.split(part).length - 1;

describe("GET /submit", () => {
  it("answers the form as HTML under the pages' policy, which allows no inline script", async () => {
    const response = await exports.default.fetch(`${PAGE_ORIGIN}/submit`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(response.headers.get("content-security-policy")).toBe(
      `default-src 'none'; style-src ${PAGE_ORIGIN}/assets/pages.css; script-src ${PAGE_ORIGIN}/assets/copy-token.js; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    );
  });

  it("labels every control of the form", async () => {
    const text = await (await exports.default.fetch(`${PAGE_ORIGIN}/submit`)).text();
    const ids = [...text.matchAll(/<(?:input|textarea|select)[^>]* id="([^"]+)"/g)].map((match) => match[1]);
    expect(ids.length).toBe(35);
    for (const id of ids) expect(text, id).toContain(`<label for="${id}">`);
  });

  it("serves the stylesheet and the copy script the policy names", async () => {
    const css = await exports.default.fetch(`${PAGE_ORIGIN}/assets/pages.css`);
    const script = await exports.default.fetch(`${PAGE_ORIGIN}/assets/copy-token.js`);
    expect([css.status, css.headers.get("content-type")]).toEqual([200, "text/css; charset=utf-8"]);
    expect([script.status, script.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
  });
});

describe("POST /submit", () => {
  it("stores a valid task and shows its token once, with the warning and the status page's link", async () => {
    const before = await storedCounts();
    const response = await postForm({ csv: validCsv() });
    const text = await response.text();
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("location")).toBeNull();
    const token = defined(/isv_st_[A-Za-z0-9_-]+/.exec(text)?.[0], "a token on the page");
    expect(occurrences(text, token)).toBe(1);
    expect(text).toContain("This is the only time it is shown.");
    const id = defined(/submission <code>([0-9a-f-]{36})<\/code>/.exec(text)?.[1], "the id on the page");
    expect(text).toContain(`<a href="/submissions/${id}">`);
    expect((await fetchSubmission(id, token)).status).toBe(200);
    expect((await storedCounts()).rows).toBe(before.rows + 1);
  });

  it("names the intake's refusal of a format and type that contradict each other on the type's control", async () => {
    const response = await postForm({ csv: validCsv(), fields: { ...VALID_FIELDS, format: "mwe" } });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(
      '<span class="field-error" id="taskType-error">Classification is a CSV type; format &quot;mwe&quot; files are behaviour tasks.</span>',
    );
  });

  it("stores a model-written evaluation with its prompt template's line breaks as LF", async () => {
    const fields = { ...VALID_FIELDS, taskType: "", format: "mwe", promptTemplate: "Q: {question}\r\nA:" };
    const response = await postForm({ fields, csv: uniqueItems() });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    const id = defined(/submission <code>([0-9a-f-]{36})<\/code>/.exec(text)?.[1], "the id on the page");
    const stored = defined(await getSubmission(env.DB, id), "the stored submission");
    expect(stored.metadata.behaviour).toEqual({ matchingBehaviour: "undesired", promptTemplate: "Q: {question}\nA:" });
  });

  it("loads the copy script on the token page, and no other script", async () => {
    const text = await (await postForm({ csv: validCsv() })).text();
    expect(text.match(/<script[^>]*>/g)).toEqual(['<script src="/assets/copy-token.js" defer="">']);
  });

  it("shows a file's errors inline with their line numbers, keeps the fields, and stores nothing", async () => {
    const before = await storedCounts();
    const response = await postForm({ csv: badCsv() });
    const text = await response.text();
    expect(response.status).toBe(422);
    expect(text).toContain("The file has errors: nothing was stored");
    expect(text).toMatch(/Error: <span class="code">answer_index_out_of_range<\/span> \(1 time\)/);
    expect(text).toMatch(/<span class="where">Line 602, column answer_index<\/span>: /);
    expect(text).toContain('value="Memo trap, from the page"');
    expect(text).toContain('value="Ada Researcher"');
    expect(text).toMatch(/<input type="checkbox" id="author_named_0" name="author_named_0" value="yes" checked=""/);
    expect(await storedCounts()).toEqual(before);
  });

  it("names each metadata problem on its control and in the summary, without reading the file", async () => {
    const fields = { ...VALID_FIELDS, title: "", contactEmail: "not an address", author_name_0: "" };
    const response = await postForm({ fields, csv: validCsv() });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).toContain('<span class="field-error" id="title-error">Is required.</span>');
    expect(text).toContain('<span class="field-error" id="contactEmail-error">');
    expect(text).toContain('<span class="field-error" id="author_name_0-error">Give this author');
    expect(text).toContain('<a href="#title">Title</a>');
  });

  it("asks for the file when none was chosen", async () => {
    const response = await postForm({ csv: undefined });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<span class="field-error" id="file-error">Choose the task file.</span>');
  });

  it("escapes every submitted text when it shows the form again", async () => {
    const response = await postForm({ fields: hostileFields(), csv: validCsv() });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).not.toContain("<script");
    // Each text control shows it back once (selects and checkboxes do not echo free text).
    expect(occurrences(text, ESCAPED)).toBeGreaterThanOrEqual(16);
  });

  it("escapes the title on the token page", async () => {
    const response = await postForm({ fields: { ...VALID_FIELDS, title: HOSTILE }, csv: validCsv() });
    const text = await response.text();
    expect(response.status).toBe(201);
    expect(text).toContain(`“${ESCAPED}”`);
    expect(text.match(/<script/g)).toHaveLength(1);
  });

  it("shows the existing submission's page, and no token, for the same bytes again", async () => {
    const csv = validCsv();
    expect((await postForm({ csv })).status).toBe(201);
    const again = await postForm({ csv });
    const text = await again.text();
    expect(again.status).toBe(200);
    expect(text).toContain("These exact bytes were already submitted");
    expect(text).not.toContain("isv_st_");
  });

  it("adds an author row without uploading, keeping what was typed", async () => {
    const before = await storedCounts();
    const body = new URLSearchParams({ ...VALID_FIELDS, file: "task.csv", action: "more_authors" });
    const response = await exports.default.fetch(`${PAGE_ORIGIN}/submit`, {
      method: "POST",
      body,
      headers: { origin: PAGE_ORIGIN },
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain('id="author_name_3"');
    expect(text).not.toContain('id="author_name_4"');
    expect(text).toContain('value="Ada Researcher"');
    expect(text).toContain("Added an author row.");
    expect(await storedCounts()).toEqual(before);
  });

  it("refuses a form posted from another site, and stores nothing", async () => {
    const before = await storedCounts();
    const response = await postForm({ csv: validCsv(), headers: { origin: ELSEWHERE } });
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(await response.text()).toContain("sent from another site");
    expect(await storedCounts()).toEqual(before);
  });

  it("refuses a form post that says nothing of where it comes from", async () => {
    const form = new FormData();
    form.append("title", "x");
    const response = await exports.default.fetch(`${PAGE_ORIGIN}/submit`, { method: "POST", body: form });
    expect(response.status).toBe(403);
  });
});

describe("the upload limit on the page", () => {
  withSettings({ uploadsPerHour: 1 });

  it("counts a page upload against the client's hourly allowance, and answers past it with a page", async () => {
    const client = { "cf-connecting-ip": "198.18.7.1" };
    expect((await postForm({ csv: validCsv(), headers: client })).status).toBe(201);
    const refused = await postForm({ csv: validCsv(), headers: client });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.text()).toContain("<h1>Too many uploads from this client</h1>");
  });

  it("does not count adding an author row, which uploads nothing", async () => {
    const client = { "cf-connecting-ip": "198.18.7.2" };
    const body = new URLSearchParams({ ...VALID_FIELDS, action: "more_authors" });
    for (let i = 0; i < 2; i++)
      expect(
        (
          await exports.default.fetch(`${PAGE_ORIGIN}/submit`, {
            method: "POST",
            body,
            headers: { origin: PAGE_ORIGIN, ...client },
          })
        ).status,
      ).toBe(200);
    expect((await postForm({ csv: validCsv(), headers: client })).status).toBe(201);
  });
});

describe("the API beside the pages", () => {
  it("still takes an upload that says nothing of its origin, as clients other than browsers send", async () => {
    const form = new FormData();
    form.append("metadata", JSON.stringify(VALID_METADATA));
    form.append("file", new Blob([validCsv()], { type: "text/csv" }), "task.csv");
    const response = await exports.default.fetch(`${PAGE_ORIGIN}/v1/submissions`, { method: "POST", body: form });
    expect(response.status).toBe(201);
  });
});

describe("a form with more parts than the page ever sends", () => {
  it("is refused with a 400 page, counting parts however they are named", async () => {
    const form = new FormData();
    // One name repeated: the page's own fields never repeat more than an author row's.
    for (let i = 0; i < 201; i++) form.append("title", "x");
    form.append("file", new Blob([validCsv()], { type: "text/csv" }), "task.csv");
    const response = await exports.default.fetch(`${PAGE_ORIGIN}/submit`, {
      method: "POST",
      body: form,
      headers: { origin: PAGE_ORIGIN },
    });
    expect([response.status, (await response.text()).includes("more fields than the page sends")]).toEqual([400, true]);
  });
});
