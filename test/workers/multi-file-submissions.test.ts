import { env } from "cloudflare:workers";
import { zipSync, strToU8 } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import facts from "../../fixtures/tasks/reference/facts-standard.csv?raw";
import classification from "../../fixtures/tasks/valid/classification.csv?raw";
import { readExamples } from "../../src/storage/examples";
import { VALID_METADATA, fetchSubmission, problemOf, storedCounts } from "./helpers";
import { exports } from "cloudflare:workers";

/**
 * A submission of several task files: a zip, or several parts named file, with each file's role in the metadata.
 * The zip is made here with fflate from the fixture task files (the same three as fixtures/zips/good.zip), so the
 * tests can vary it.
 */
const GOOD_FILES = {
  "task/part-1.csv": memoTrap,
  "task/part-2.csv": classification,
  "control/facts-standard.csv": facts,
};

const ROLES = [
  { name: "task/part-1.csv", role: "part" },
  { name: "task/part-2.csv", role: "part" },
  { name: "control/facts-standard.csv", role: "control" },
];

const zipOf = (files: Record<string, string>): Uint8Array =>
  zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])), {
    mtime: new Date("2022-10-10T00:00:00Z"),
  });

interface Sent {
  metadata: object;
  files: { name: string; bytes: Uint8Array | string; type?: string }[];
}

function post({ metadata, files }: Sent): Promise<Response> {
  const form = new FormData();
  form.append("metadata", JSON.stringify(metadata));
  for (const file of files) form.append("file", new Blob([file.bytes], { type: file.type ?? "text/csv" }), file.name);
  return exports.default.fetch("http://isv.test/v1/submissions", { method: "POST", body: form });
}

const sendZip = (files: Record<string, string>, roles: object[] = ROLES, title = VALID_METADATA.title) =>
  post({
    metadata: { ...VALID_METADATA, title, files: roles },
    files: [{ name: "task.zip", bytes: zipOf(files), type: "application/zip" }],
  });

const staged = async (): Promise<number> => (await env.BLOBS.list({ prefix: "staging/" })).objects.length;

interface Created {
  id: string;
  submitterToken: string;
  taskType: string;
  examples: number;
  files: { name: string; role: string; firstExample: number; examples: number; paired: boolean }[];
  report: { valid: boolean; files: { name: string; role?: string }[] };
}

describe("a zip of two parts and a control", () => {
  let response: Response;
  let body: Created;

  beforeAll(async () => {
    response = await sendZip(GOOD_FILES);
    body = await response.json<Created>();
  });

  it("is accepted (201) as a task of the parts' type", () => {
    expect(response.status).toBe(201);
    expect(body.taskType).toBe("classification");
  });

  it("lists each file with its role and its range of the examples, in the metadata's order", () => {
    expect(
      body.files.map(({ name, role, firstExample, examples }) => ({ name, role, firstExample, examples })),
    ).toEqual([
      { name: "task/part-1.csv", role: "part", firstExample: 0, examples: 300 },
      { name: "task/part-2.csv", role: "part", firstExample: 300, examples: 400 },
      { name: "control/facts-standard.csv", role: "control", firstExample: 700, examples: 350 },
    ]);
    expect(body.examples).toBe(1050);
  });

  it("reports every file under its name, with its role", () => {
    expect(body.report.valid).toBe(true);
    expect(body.report.files.map(({ name, role }) => [name, role])).toEqual([
      ["task/part-1.csv", "part"],
      ["task/part-2.csv", "part"],
      ["control/facts-standard.csv", "control"],
    ]);
  });

  it("stores each file byte for byte under the key a single upload of it would use", async () => {
    const rows = await env.DB.prepare(
      "SELECT name, file_key FROM submission_files WHERE submission_id = ?1 ORDER BY position",
    )
      .bind(body.id)
      .all<{ name: string; file_key: string }>();
    const texts = await Promise.all(rows.results.map(async (row) => (await env.BLOBS.get(row.file_key))?.text()));
    expect(texts).toEqual([memoTrap, classification, facts]);
  });

  it("evaluates one list of examples: the files' examples in the metadata's order, each keeping its own type", async () => {
    const record = await env.DB.prepare("SELECT examples_key FROM submissions WHERE id = ?1")
      .bind(body.id)
      .first<{ examples_key: string }>();
    const examples = (await readExamples(env.BLOBS, record?.examples_key ?? "")) ?? [];
    expect(examples.length).toBe(1050);
    expect([examples[0]?.taskType, examples[299]?.row, examples[300]?.row, examples[700]?.taskType]).toEqual([
      "classification",
      300,
      1,
      "sequence_prob",
    ]);
  });

  it("is shown to its submitter with its files", async () => {
    const status = await (await fetchSubmission(body.id, body.submitterToken)).json<Created>();
    expect(status.files.map((file) => file.name)).toEqual(ROLES.map((role) => role.name));
  });

  it("leaves nothing in staging", async () => {
    expect(await staged()).toBe(0);
  });

  it("sent again with the same roles, is a duplicate of the first", async () => {
    const again = await sendZip(GOOD_FILES);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: body.id, duplicate: true });
  });
});

describe("the same files as several parts named file", () => {
  it("make the same task as the zip: same files, roles and examples", async () => {
    const response = await post({
      metadata: { ...VALID_METADATA, files: ROLES.slice(0, 2).map((role) => ({ ...role, name: role.name.slice(5) })) },
      files: [
        { name: "part-1.csv", bytes: memoTrap },
        { name: "part-2.csv", bytes: classification },
      ],
    });
    const body = await response.json<Created>();
    expect(response.status).toBe(201);
    expect(body.files.map(({ name, examples }) => [name, examples])).toEqual([
      ["part-1.csv", 300],
      ["part-2.csv", 400],
    ]);
  });
});

describe("refused sets of files store nothing", () => {
  const refusals: [string, () => Promise<Response>, number, string, string][] = [
    [
      "a file the metadata does not name",
      () => sendZip(GOOD_FILES, ROLES.slice(0, 2)),
      422,
      "file_not_named",
      "control/facts-standard.csv",
    ],
    [
      "a named file that was not sent",
      () => sendZip({ "task/part-1.csv": memoTrap }, ROLES.slice(0, 2)),
      422,
      "named_file_missing",
      "task/part-2.csv",
    ],
    [
      "a paired control with another number of examples",
      () =>
        sendZip(GOOD_FILES, [
          ...ROLES.slice(0, 2),
          { name: "control/facts-standard.csv", role: "control", paired: true },
        ]),
      422,
      "paired_count_mismatch",
      "control/facts-standard.csv",
    ],
    [
      "a part of another type than the first part",
      () => sendZip(GOOD_FILES, [...ROLES.slice(0, 2), { name: "control/facts-standard.csv", role: "part" }]),
      422,
      "task_type_mismatch",
      "control/facts-standard.csv",
    ],
    [
      "a path that leaves the archive",
      () => sendZip({ ...GOOD_FILES, "../evil.csv": memoTrap }, [...ROLES, { name: "../evil.csv", role: "part" }]),
      422,
      "unsafe_name",
      "../evil.csv",
    ],
  ];

  for (const [what, send, status, code, entry] of refusals) {
    it(`${what}: ${status} ${code}, naming the file`, async () => {
      const before = await storedCounts();
      const response = await send();
      const problem = await problemOf(response);
      expect(problem.status).toBe(status);
      const report = problem.report as { valid: boolean; issues: { code: string; entry?: string }[] };
      expect(report.valid).toBe(false);
      expect(report.issues.map((issue) => [issue.code, issue.entry])).toContainEqual([code, entry]);
      expect(await storedCounts()).toEqual(before);
      expect(await staged()).toBe(0);
    });
  }

  it("a zip whose metadata names no files: invalid_metadata on files, before reading it", async () => {
    const before = await storedCounts();
    const response = await post({
      metadata: VALID_METADATA,
      files: [{ name: "task.zip", bytes: zipOf(GOOD_FILES), type: "application/zip" }],
    });
    const problem = await problemOf(response);
    expect([problem.code, problem.fields]).toEqual([
      "invalid_metadata",
      [{ field: "files", message: "is required for several files: name each file and its role" }],
    ]);
    expect(await storedCounts()).toEqual(before);
  });

  it("metadata with no part: invalid_metadata naming files", async () => {
    const response = await sendZip(
      GOOD_FILES,
      ROLES.map((role) => ({ ...role, role: "control" })),
    );
    const problem = await problemOf(response);
    expect([problem.code, problem.fields]).toEqual([
      "invalid_metadata",
      [{ field: "files", message: "name at least one file as a part: the task is its parts" }],
    ]);
  });

  it("a variant without a label: invalid_metadata naming the label, once", async () => {
    const response = await sendZip(GOOD_FILES, [
      ...ROLES.slice(0, 2),
      { name: "control/facts-standard.csv", role: "variant" },
    ]);
    const problem = await problemOf(response);
    expect([problem.code, problem.fields]).toEqual([
      "invalid_metadata",
      [{ field: "files[2].label", message: "is required" }],
    ]);
  });

  it("a name listed twice: invalid_metadata on the second", async () => {
    const response = await sendZip(GOOD_FILES, [...ROLES, { name: "task/part-1.csv", role: "control" }]);
    const problem = await problemOf(response);
    expect(problem.fields).toEqual([{ field: "files[3].name", message: "is listed already, as files[0]" }]);
  });
});

describe("what else comes with the files", () => {
  it("a part after a zip: 400 unexpected_part, nothing stored or staged", async () => {
    const before = await storedCounts();
    const response = await post({
      metadata: { ...VALID_METADATA, files: ROLES },
      files: [
        { name: "task.zip", bytes: zipOf(GOOD_FILES), type: "application/zip" },
        { name: "extra.csv", bytes: memoTrap },
      ],
    });
    expect((await problemOf(response)).code).toBe("unexpected_part");
    expect(await storedCounts()).toEqual(before);
    expect(await staged()).toBe(0);
  });

  it("a part of another name among the files: 400 unexpected_part, the files staged before it discarded", async () => {
    const form = new FormData();
    form.append("metadata", JSON.stringify({ ...VALID_METADATA, files: ROLES.slice(0, 2) }));
    form.append("file", new Blob([memoTrap], { type: "text/csv" }), "task/part-1.csv");
    form.append("note", "hello");
    const response = await exports.default.fetch("http://isv.test/v1/submissions", { method: "POST", body: form });
    expect((await problemOf(response)).code).toBe("unexpected_part");
    expect(await staged()).toBe(0);
  });

  it("more files than a zip may hold: too_many_entries, reading stops there", async () => {
    const files = Array.from({ length: 40 }, (_, k) => ({ name: `p${k}.csv`, bytes: "prompt,completion\n" }));
    const response = await post({ metadata: { ...VALID_METADATA, files: [{ name: "p0.csv", role: "part" }] }, files });
    const report = (await problemOf(response)).report as { files: unknown[]; issues: { code: string }[] };
    expect([report.files.length, report.issues[0]?.code]).toEqual([32, "too_many_entries"]);
    expect(await staged()).toBe(0);
  });

  it("a part's filename with a right-to-left override is shown escaped", async () => {
    const response = await post({
      metadata: { ...VALID_METADATA, files: ROLES.slice(0, 1) },
      files: [{ name: "evil\u202Ecsv.exe", bytes: memoTrap }],
    });
    const report = (await problemOf(response)).report as { issues: { code: string; entry?: string }[] };
    expect(report.issues.map((issue) => [issue.code, issue.entry])).toContainEqual([
      "unsafe_name",
      "evil\\u{202e}csv.exe",
    ]);
  });
});

/** The good zip's roles with a label on the control: another task than the one the other tests send. */
const EDITED_ROLES = ROLES.map((file) => (file.role === "control" ? { ...file, label: "facts" } : file));

describe("editing the details of a task of several files", () => {
  let id: string;
  let submitterToken: string;
  const putMetadata = (metadata: object) =>
    exports.default.fetch(`http://isv.test/v1/submissions/${id}/metadata`, {
      method: "PUT",
      headers: { authorization: `Bearer ${submitterToken}`, "content-type": "application/json" },
      body: JSON.stringify({ metadata }),
    });

  beforeAll(async () => {
    const response = await sendZip(GOOD_FILES, EDITED_ROLES, "A task edited later");
    ({ id, submitterToken } = await response.json<Created>());
  });

  it("keeps the files' roles when the edit leaves them out", async () => {
    const response = await putMetadata({ ...VALID_METADATA, title: "A task edited once" });
    const body = await response.json<{ metadata: { files?: unknown } }>();
    expect([response.status, body.metadata.files]).toEqual([200, EDITED_ROLES]);
  });

  it("refuses other roles: invalid_metadata on files, nothing changed", async () => {
    const swapped = EDITED_ROLES.map((file) => ({
      ...file,
      role: file.role === "control" ? "variant" : file.role,
      label: "x",
    }));
    const problem = await problemOf(await putMetadata({ ...VALID_METADATA, files: swapped }));
    expect([problem.code, problem.fields]).toEqual([
      "invalid_metadata",
      [{ field: "files", message: "cannot change" }],
    ]);
  });
});

describe("a new zip for a task of several files", () => {
  let id: string;
  let submitterToken: string;
  const roles = ROLES.map((file) => (file.role === "control" ? { ...file, label: "replaced later" } : file));
  const putFile = (body: Uint8Array | string, type: string) =>
    exports.default.fetch(`http://isv.test/v1/submissions/${id}/file`, {
      method: "PUT",
      headers: { authorization: `Bearer ${submitterToken}`, "content-type": type },
      body,
    });

  beforeAll(async () => {
    ({ id, submitterToken } = await (await sendZip(GOOD_FILES, roles, "A task given new files")).json<Created>());
  });

  it("refuses one file for a task of several: 415", async () => {
    expect((await problemOf(await putFile(memoTrap, "text/csv"))).code).toBe("unsupported_media_type");
  });

  it("answers the same files as unchanged", async () => {
    const response = await putFile(zipOf(GOOD_FILES), "application/zip");
    expect([response.status, (await response.json<{ unchanged?: boolean }>()).unchanged]).toEqual([200, true]);
  });

  it("refuses a zip without a named file: 422 named_file_missing, the version kept", async () => {
    const { "control/facts-standard.csv": _control, ...partsOnly } = GOOD_FILES;
    const problem = await problemOf(await putFile(zipOf(partsOnly), "application/zip"));
    const report = problem.report as { issues: { code: string; entry?: string }[] };
    expect(report.issues.map((issue) => [issue.code, issue.entry])).toEqual([
      ["named_file_missing", "control/facts-standard.csv"],
    ]);
    const status = await (await fetchSubmission(id, submitterToken)).json<{ fileVersion: number }>();
    expect(status.fileVersion).toBe(1);
  });

  it("makes new files version 2, listed with their ranges", async () => {
    const shorter = memoTrap
      .split(/(?=^"\w+ asks:)/m)
      .slice(0, 251)
      .join("");
    const response = await putFile(zipOf({ ...GOOD_FILES, "task/part-1.csv": shorter }), "application/zip");
    const answer = await response.json<Created & { fileVersion: number }>();
    expect([response.status, answer.fileVersion, answer.files.map((file) => file.examples)]).toEqual([
      200,
      2,
      [250, 400, 350],
    ]);
    const status = await (await fetchSubmission(id, submitterToken)).json<Created & { fileVersion: number }>();
    expect([status.fileVersion, status.examples]).toEqual([2, 1000]);
    expect(status.files.map(({ name, firstExample, examples }) => [name, firstExample, examples])).toEqual([
      ["task/part-1.csv", 0, 250],
      ["task/part-2.csv", 250, 400],
      ["control/facts-standard.csv", 650, 350],
    ]);
  });
});

describe("names in the metadata's files", () => {
  it("match the zip's entries as the reader normalises them: ./task/part-1.csv is task/part-1.csv", async () => {
    // The label makes it another task than the other tests' uploads of the same zip.
    const roles = ROLES.map((file) => ({ ...file, name: `./${file.name}`, label: "dot" }));
    const response = await sendZip(GOOD_FILES, roles, "Names written with ./");
    const body = await response.json<Created>();
    expect([response.status, body.files.map((file) => file.name)]).toEqual([201, ROLES.map((file) => file.name)]);
  });

  it("longer than 255 bytes in UTF-8 (though not 255 characters): invalid_metadata on that name", async () => {
    const long = `${"é".repeat(130)}.csv`;
    const problem = await problemOf(await sendZip(GOOD_FILES, [...ROLES, { name: long, role: "control" }]));
    expect(problem.fields).toEqual([{ field: "files[3].name", message: "is longer than 255 bytes in UTF-8" }]);
  });
});

describe("two files without the metadata's files", () => {
  it("are refused (400 unexpected_part), not the second silently dropped; nothing stored or staged", async () => {
    const before = await storedCounts();
    const response = await post({
      metadata: VALID_METADATA,
      files: [
        { name: "a.csv", bytes: memoTrap },
        { name: "b.csv", bytes: classification },
      ],
    });
    const problem = await problemOf(response);
    expect([problem.code, problem.detail]).toEqual([
      "unexpected_part",
      'Several files need the metadata\'s files, naming each with its role; without them send one file ("b.csv" came after it).',
    ]);
    expect(await storedCounts()).toEqual(before);
    expect(await staged()).toBe(0);
  });
});
