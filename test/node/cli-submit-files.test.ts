import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer } from "../../scripts/dev-server.mjs";
import { ROOT, freePort, isv } from "./helpers";

/**
 * `isv submit` of several files against the real Worker under `wrangler dev` (evaluation off, so each upload ends
 * at the files' listing): memo-trap cut in two parts and a control (facts), as one zip and as three files.
 */
const METADATA = {
  ...JSON.parse(readFileSync(join(ROOT, "fixtures/metadata/classification.json"), "utf8")),
  taskType: "classification",
};
const memoTrap = readFileSync(join(ROOT, "fixtures/tasks/reference/memo-trap-inverse.csv"), "utf8");
const facts = readFileSync(join(ROOT, "fixtures/tasks/reference/facts-standard.csv"), "utf8");

/** memo-trap split after its 150th example: each example starts a line with a quote and a name that asks. */
function splitMemoTrap(): [string, string] {
  const [header = "", ...rest] = memoTrap.split(/(?=^"\w+ asks:)/m);
  return [header + rest.slice(0, 150).join(""), header + rest.slice(150).join("")];
}

const ROLES = ["--role", "part-1.csv=part", "--role", "part-2.csv=part", "--role", "facts.csv=control"];

describe("isv submit of several files, to the Worker under wrangler dev", () => {
  const dir = mkdtempSync(join(tmpdir(), "isv-submit-files-"));
  const state = mkdtempSync(join(tmpdir(), "isv-submit-files-state-"));
  const path = (name: string): string => join(dir, name);
  let server: { url: string; stop: () => Promise<void> };
  const submit = (...args: string[]) => isv("submit", ...args, "--url", server.url, "--no-wait");

  beforeAll(async () => {
    const [first, second] = splitMemoTrap();
    writeFileSync(path("part-1.csv"), first);
    writeFileSync(path("part-2.csv"), second);
    writeFileSync(path("facts.csv"), facts);
    writeFileSync(
      path("task.zip"),
      zipSync({ "part-1.csv": strToU8(first), "part-2.csv": strToU8(second), "facts.csv": strToU8(facts) }),
    );
    writeFileSync(path("meta.json"), JSON.stringify(METADATA));
    writeFileSync(
      path("meta-files.json"),
      JSON.stringify({
        ...METADATA,
        files: [
          { name: "part-1.csv", role: "part" },
          { name: "part-2.csv", role: "part" },
          { name: "facts.csv", role: "control", label: "facts" },
        ],
      }),
    );
    server = await startDevServer({
      port: await freePort(),
      persistTo: state,
      vars: { DEFAULT_FAMILIES: "", UPLOADS_PER_HOUR: "100000" },
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  it("uploads a zip with --role, then lists its files with their roles and ranges", async () => {
    const result = await submit(path("task.zip"), "--meta", path("meta.json"), ...ROLES);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split("\n").slice(2)).toEqual([
      "files:",
      "  part-1.csv  part                     examples 0-149 (150)",
      "  part-2.csv  part                     examples 150-299 (150)",
      "  facts.csv   control                  examples 300-649 (350)",
    ]);
  });

  it("uploads several files, each as a part named file, with the roles in the metadata", async () => {
    const files = ["part-1.csv", "part-2.csv", "facts.csv"].map(path);
    const result = await submit(...files, "--meta", path("meta-files.json"));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^submission \S+\nsubmitter token isv_st_\S+ \(shown only now: keep it\)\nfiles:$/m);
    expect(result.stdout).toContain("  facts.csv   control, facts           examples 300-649 (350)");
  });

  it("refuses before sending a control marked --paired whose examples do not match the task's", async () => {
    const files = ["part-1.csv", "part-2.csv", "facts.csv"].map(path);
    const result = await submit(...files, "--meta", path("meta-files.json"), "--paired", path("facts.csv"));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "error paired_count_mismatch: facts.csv: Marked paired, so its examples must match the task's one to one, but it has 350 and the parts together have 300.",
    );
  });

  it("checks the roles before sending: a file without one is reported by name, and nothing is sent", async () => {
    const files = ["part-1.csv", "part-2.csv", "facts.csv"].map(path);
    const result = await submit(...files, "--meta", path("meta.json"), ...ROLES.slice(0, 4));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "error file_not_named: facts.csv: Not named in the metadata's files: give it a role (part, control or variant) or leave it out.",
    );
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe(
      "the files: INVALID: 3 task files, 3 valid, 1 error (1 about the files together), 0 warnings",
    );
    expect(result.stderr).toContain("isv submit: the files have errors, so nothing was sent.");
  });

  it("reports a zip's files under the zip's name", async () => {
    const result = await submit(path("task.zip"), "--meta", path("meta.json"), ...ROLES.slice(0, 4));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`error file_not_named: ${path("task.zip")}/facts.csv: Not named`);
  });
});

describe("isv submit and isv status, against a stub of the service", () => {
  let stub: Server;
  let url = "";
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  const dir = mkdtempSync(join(tmpdir(), "isv-submit-stub-"));

  beforeAll(async () => {
    stub = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.writeHead(answer.status, { "content-type": "application/json" });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    writeFileSync(join(dir, "meta.json"), JSON.stringify(METADATA));
    writeFileSync(join(dir, "a.csv"), memoTrap);
    writeFileSync(join(dir, "b.csv"), facts);
  });
  afterAll(async () => {
    await new Promise((resolve) => stub.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the files report the service refused several files with", async () => {
    const report = {
      schemaVersion: 1,
      valid: false,
      issues: [{ severity: "error", code: "named_file_missing", message: "Named but not sent.", entry: "c.csv" }],
      errorCount: 1,
      warningCount: 0,
      files: [],
      truncated: false,
      stats: { bytes: 0, entries: 0, inflatedBytes: 0 },
      limits: {},
    };
    answer = { status: 422, body: { code: "invalid_task_file", detail: "The task files have 1 error.", report } };
    const result = await isv(
      "submit",
      join(dir, "a.csv"),
      join(dir, "b.csv"),
      "--meta",
      join(dir, "meta.json"),
      "--role",
      "a.csv=part",
      "--role",
      "b.csv=control",
      "--url",
      url,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("error named_file_missing: c.csv: Named but not sent.");
    expect(result.stderr).toContain("the service refused the submission (422 invalid_task_file)");
  });

  it("shows the slices and the task − control difference in isv status", async () => {
    const statement = "The task's trend is worse than the control \"facts.csv\"'s by 0.300 per decade on loss.";
    answer = {
      status: 200,
      body: {
        id: "s1",
        state: "submitted",
        title: "t",
        evaluations: [],
        results: null,
        slices: {
          schemaVersion: 1,
          codeVersion: "v",
          metric: "loss",
          slices: [
            { kind: "task", name: "the task", taskType: "classification", examples: 300, reason: "too few" },
            { kind: "control", name: "facts.csv", taskType: "classification", examples: 300, reason: "too few" },
          ],
          contrasts: [
            {
              family: "isv-reference",
              other: { role: "control", label: "facts.csv" },
              pairing: "unpaired",
              per: "decade",
              difference: { estimate: 0.3, test: { level: 0.95, interval: [0.2, 0.4] } },
              claim: "excludes_zero",
              statement,
              warnings: [],
            },
          ],
          uncompared: [],
        },
      },
    };
    const result = await isv("status", "s1", "--url", url, "--token", "isv_st_x");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      [
        "slices, on loss (the headline metric):",
        "  the task (300 examples): too few",
        "  control facts.csv (300 examples): too few",
        "task − control or variant:",
        "  control facts.csv, isv-reference: 0.3000 per decade (95% t interval 0.2000 to 0.4000, unpaired): excludes 0",
        `    ${statement}`,
      ].join("\n"),
    );
  });
});

describe("isv submit: usage", () => {
  it.each([
    ["a zip among other files", ["a.zip", "b.csv"], "a zip is sent alone"],
    [
      "a role that is none",
      ["a.csv", "--role", "a.csv=task"],
      '--role takes NAME=part|control|variant[:LABEL]; got "a.csv=task"',
    ],
  ])("exits 2 on %s", async (_, args, message) => {
    const result = await isv(
      "submit",
      ...args,
      "--url",
      "http://127.0.0.1:9",
      "--meta",
      join(ROOT, "fixtures/metadata/classification.json"),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("documents several files and --role in isv submit --help", async () => {
    const result = await isv("submit", "--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--role NAME=ROLE[:LABEL]  NAME (a FILE as given, or a path inside the zip)");
  });
});
