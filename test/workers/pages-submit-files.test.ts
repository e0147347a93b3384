import { env } from "cloudflare:workers";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import facts from "../../fixtures/tasks/reference/facts-standard.csv?raw";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import { listSubmissionFiles } from "../../src/storage/submission-files";
import { storedCounts } from "./helpers";
import { PAGE_ORIGIN, pageRequest, signInAsSubmitter, VALID_FIELDS } from "./page-helpers";

/**
 * The submit page for a task of several files: the rows naming each file's role, then a zip or several files in the
 * file control, read by the same intake as the API's.
 */
const FIELDS: Record<string, string> = { ...VALID_FIELDS, title: "Memo trap with a control, from the page" };

/** memo-trap split after its 150th example: two parts of one task. */
function halves(tag: string): [string, string] {
  const [header = "", ...rows] = memoTrap.replace(/^"(\w+ asks:)/gm, `"[${tag}] $1`).split(/(?=^"\[)/m);
  return [header + rows.slice(0, 150).join(""), header + rows.slice(150).join("")];
}

/** The rows naming the files: [name, role, label?] each, in the form's controls. */
function fileRows(rows: readonly (readonly [string, string, string?])[]): Record<string, string> {
  return Object.fromEntries(
    rows.flatMap(([name, role, label = ""], row) => [
      [`file_name_${row}`, name],
      [`file_role_${row}`, role],
      [`file_label_${row}`, label],
    ]),
  );
}

function postForm(fields: Record<string, string>, files: readonly { name: string; bytes: Uint8Array | string }[]) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) form.append("file", new Blob([file.bytes]), file.name);
  return pageRequest("/submit", { method: "POST", body: form, headers: { origin: PAGE_ORIGIN } });
}

const submissionIdIn = (page: string): string => /\/submissions\/([0-9a-f-]{36})/.exec(page)?.[1] ?? "";

describe("the submit page's rows for several files", () => {
  it("offers three empty rows, each with a name, a role, a label and a paired box, and takes a zip or several files", async () => {
    const page = await (await pageRequest("/submit")).text();
    const controls = ["file_name_2", "file_role_2", "file_label_2", "file_paired_2"];
    expect(controls.map((id) => page.includes(`id="${id}"`))).toEqual([true, true, true, true]);
    expect(page.includes('id="file_name_3"')).toBe(false);
    expect(/<input[^>]*name="file"[^>]*multiple/.test(page) || /<input[^>]*multiple[^>]*name="file"/.test(page)).toBe(
      true,
    );
  });

  it("adds a row on 'Add a file row', keeping what was typed", async () => {
    const body = new URLSearchParams({ ...FIELDS, ...fileRows([["a.csv", "part"]]), action: "more_files" });
    const page = await (
      await pageRequest("/submit", { method: "POST", body, headers: { origin: PAGE_ORIGIN } })
    ).text();
    expect([page.includes('id="file_name_3"'), page.includes('value="a.csv"')]).toEqual([true, true]);
  });
});

describe("a zip sent from the page", () => {
  it("is stored as a task of two parts and a control, and the token is shown", async () => {
    const [first, second] = halves(crypto.randomUUID().slice(0, 8));
    const zip = zipSync({ "part-1.csv": strToU8(first), "part-2.csv": strToU8(second), "facts.csv": strToU8(facts) });
    const rows = fileRows([
      ["part-1.csv", "part"],
      ["part-2.csv", "part"],
      ["facts.csv", "control"],
    ]);
    const response = await postForm({ ...FIELDS, ...rows }, [{ name: "task.zip", bytes: zip }]);
    const page = await response.text();
    expect(response.status).toBe(201);
    const id = submissionIdIn(page);
    const files = await listSubmissionFiles(env.DB, id, 1);
    expect(files.map(({ name, role, exampleCount }) => [name, role, exampleCount])).toEqual([
      ["part-1.csv", "part", 150],
      ["part-2.csv", "part", 150],
      ["facts.csv", "control", 350],
    ]);
  });
});

describe("several files chosen together on the page", () => {
  it("are stored as the parts the rows name", async () => {
    const [first, second] = halves(crypto.randomUUID().slice(0, 8));
    const rows = fileRows([
      ["one.csv", "part"],
      ["two.csv", "part"],
    ]);
    const response = await postForm({ ...FIELDS, ...rows }, [
      { name: "one.csv", bytes: first },
      { name: "two.csv", bytes: second },
    ]);
    expect(response.status).toBe(201);
    const files = await listSubmissionFiles(env.DB, submissionIdIn(await response.text()), 1);
    expect(files.map(({ name, exampleCount }) => [name, exampleCount])).toEqual([
      ["one.csv", 150],
      ["two.csv", 150],
    ]);
  });

  it("a file the rows do not name: the form again with the files' report, nothing stored", async () => {
    const before = await storedCounts();
    const [first, second] = halves(crypto.randomUUID().slice(0, 8));
    const response = await postForm({ ...FIELDS, ...fileRows([["one.csv", "part"]]) }, [
      { name: "one.csv", bytes: first },
      { name: "stray.csv", bytes: second },
    ]);
    const page = await response.text();
    expect(response.status).toBe(422);
    expect([page.includes("file_not_named"), page.includes("stray.csv"), page.includes('value="one.csv"')]).toEqual([
      true,
      true,
      true,
    ]);
    expect(await storedCounts()).toEqual(before);
  });

  it("a variant without a label: the error on that row's label", async () => {
    const rows = fileRows([
      ["one.csv", "part"],
      ["two.csv", "variant"],
    ]);
    const response = await postForm({ ...FIELDS, ...rows }, [{ name: "one.csv", bytes: memoTrap }]);
    const page = await response.text();
    expect(response.status).toBe(400);
    expect(/id="file_label_1-error"[^>]*>Is required\./.test(page)).toBe(true);
  });
});

describe("the page's mistakes with several files", () => {
  it("two files chosen with no rows naming them: the form again, the error on the file control", async () => {
    const response = await postForm(FIELDS, [
      { name: "one.csv", bytes: memoTrap },
      { name: "two.csv", bytes: facts },
    ]);
    const page = await response.text();
    expect(response.status).toBe(400);
    expect([/id="file-error"[^>]*>Several files need/.test(page), page.includes(`value="${FIELDS.title}"`)]).toEqual([
      true,
      true,
    ]);
  });

  it("a row with a label but no name: the error on that row's name", async () => {
    const response = await postForm({ ...FIELDS, file_role_1: "variant", file_label_1: "few-shot" }, [
      { name: "one.csv", bytes: memoTrap },
    ]);
    const page = await response.text();
    expect([response.status, /id="file_name_1-error"[^>]*>Give this file&#39;s name/.test(page)]).toEqual([400, true]);
  });
});

describe("the replace page of a task of several files", () => {
  it("asks for a zip of the files the task names", async () => {
    const [first, second] = halves(crypto.randomUUID().slice(0, 8));
    const rows = fileRows([
      ["one.csv", "part"],
      ["two.csv", "part"],
    ]);
    const created = await postForm({ ...FIELDS, ...rows }, [
      { name: "one.csv", bytes: first },
      { name: "two.csv", bytes: second },
    ]);
    const page = await created.text();
    const id = submissionIdIn(page);
    const token = /(isv_st_[A-Za-z0-9_-]+)/.exec(page)?.[1] ?? "";
    const cookie = await signInAsSubmitter(id, token);
    const replace = await (await pageRequest(`/submissions/${id}/file`, { headers: { cookie } })).text();
    expect([replace.includes('accept=".zip,application/zip"'), replace.includes("(one.csv, two.csv)")]).toEqual([
      true,
      true,
    ]);
  });
});
