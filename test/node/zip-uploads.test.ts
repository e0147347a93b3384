import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer } from "../../scripts/dev-server.mjs";
import { fileStream } from "../../src/cli/file-stream";
import { ARCHIVE_ISSUE_SEVERITY } from "../../src/validate/zip/archive-issues";
import { validateZipStream } from "../../src/validate/zip/zip-validator";
import { ROOT, freePort } from "./helpers";

/**
 * Every zip in fixtures/zips sent to the real Worker under `wrangler dev` as an upload: each refused one is refused
 * with exactly the archive issues the same reader reports offline (`isv validate`), and the good one is stored
 * with its roles. (What stays in storage after a refusal is checked in test/workers/multi-file-submissions.test.ts.)
 */
const ZIPS = join(ROOT, "fixtures", "zips");
const METADATA = JSON.parse(readFileSync(join(ROOT, "fixtures/metadata/classification.json"), "utf8"));
const GOOD_ROLES = [
  { name: "task/part-1.csv", role: "part" },
  { name: "task/part-2.csv", role: "part" },
  { name: "control/facts-standard.csv", role: "control" },
];
const REFUSED = readdirSync(ZIPS)
  .filter((name) => name.endsWith(".zip") && name !== "good.zip" && name !== "finder.zip")
  .sort();

/** The archive's own issues in a files report, as code@entry. */
const archiveIssues = (issues: readonly { code: string; entry?: string }[]): string[] =>
  issues.filter((issue) => issue.code in ARCHIVE_ISSUE_SEVERITY).map((issue) => `${issue.code}@${issue.entry ?? "-"}`);

describe("fixture zips uploaded to the Worker", () => {
  const state = mkdtempSync(join(tmpdir(), "isv-zip-uploads-"));
  let server: { url: string; stop: () => Promise<void> } | undefined;

  beforeAll(async () => {
    server = await startDevServer({
      port: await freePort(),
      persistTo: state,
      vars: { DEFAULT_FAMILIES: "", UPLOADS_PER_HOUR: "100000" },
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  async function upload(name: string, files: object[]): Promise<Response> {
    const form = new FormData();
    form.append("metadata", JSON.stringify({ ...METADATA, files }));
    form.append("file", new Blob([readFileSync(join(ZIPS, name))], { type: "application/zip" }), name);
    return fetch(`${server?.url}/v1/submissions`, { method: "POST", body: form });
  }

  it.each(REFUSED)("%s is refused with the archive issues the reader reports offline", async (name) => {
    const offline = await validateZipStream(fileStream(join(ZIPS, name)));
    const response = await upload(name, [{ name: "part.csv", role: "part" }]);
    const body = (await response.json()) as { code: string; report: { valid: boolean; issues: { code: string }[] } };
    expect([response.status, body.code, body.report.valid]).toEqual([422, "invalid_task_file", false]);
    expect(archiveIssues(body.report.issues)).toEqual(archiveIssues(offline.issues));
  });

  it("good.zip is stored with its files' roles and ranges", async () => {
    const response = await upload("good.zip", GOOD_ROLES);
    const body = (await response.json()) as { files: { name: string; role: string; examples: number }[] };
    expect([response.status, body.files.map(({ name, role, examples }) => `${name}:${role}:${examples}`)]).toEqual([
      201,
      ["task/part-1.csv:part:300", "task/part-2.csv:part:400", "control/facts-standard.csv:control:350"],
    ]);
  });
});
