import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, isv } from "./helpers";

const BEHAVIOUR = join(ROOT, "fixtures", "tasks", "behaviour");

describe("isv validate on model-written evaluations", () => {
  it("reads a JSON Lines file as one, and passes the valid fixture", async () => {
    const { code, stdout } = await isv("validate", join(BEHAVIOUR, "valid.jsonl"));
    expect(code).toBe(0);
    expect(stdout).toContain("valid.jsonl: valid: behaviour (inferred), 300 examples, 0 errors, 0 warnings");
  });

  it("lists each quirk of the quirks fixture with its line, and exits 1", async () => {
    const { code, stdout } = await isv("validate", join(BEHAVIOUR, "quirks.jsonl"), "--min-examples", "0");
    expect(code).toBe(1);
    expect(stdout).toContain(
      'quirks.jsonl:10  line 10, column answer_not_matching_behavior: The answer " (A)" is listed both',
    );
    expect(stdout).toContain("INVALID: behaviour (inferred), 5 examples, 7 errors, 4 warnings");
  });

  it("--format csv on a JSON Lines file: format_mismatch, exit 1", async () => {
    const { code, stdout } = await isv("validate", join(BEHAVIOUR, "valid.jsonl"), "--format", "csv");
    expect(code).toBe(1);
    expect(stdout).toContain("error format_mismatch (1)");
  });

  it("--format with another value is a usage error (exit 2)", async () => {
    const { code, stderr } = await isv("validate", join(BEHAVIOUR, "valid.jsonl"), "--format", "jsonl");
    expect(code).toBe(2);
    expect(stderr).toContain('--format takes csv or mwe, not "jsonl"');
  });

  it("--template is used, and one that is not a template is a usage error", async () => {
    const used = await isv("validate", join(BEHAVIOUR, "valid.jsonl"), "--template", "{statement}", "--json");
    expect(JSON.parse(used.stdout).counts).toEqual({ template_field_missing: 300 });
    const refused = await isv("validate", join(BEHAVIOUR, "valid.jsonl"), "--template", "Q: {0}");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('"{0}" at character 4 is not a placeholder');
  });
});

describe("isv submit checks a model-written evaluation before sending anything", () => {
  // No service listens at this address: each case must end before any request.
  const url = "http://127.0.0.1:9";
  const metaFile = (metadata: object): string => {
    const path = join(mkdtempSync(join(tmpdir(), "isv-mwe-")), "meta.json");
    writeFileSync(path, JSON.stringify(metadata));
    return path;
  };

  it("refuses metadata whose prompt template is not one (exit 1)", async () => {
    const meta = metaFile({ title: "Power", behaviour: { promptTemplate: "Answer:" } });
    const { code, stderr } = await isv("submit", join(BEHAVIOUR, "valid.jsonl"), "--url", url, "--meta", meta);
    expect(code).toBe(1);
    expect(stderr).toContain("behaviour.promptTemplate The prompt template is not valid: it has no placeholder");
  });

  it("refuses --format csv on a JSON Lines file (exit 1)", async () => {
    const meta = metaFile({ title: "Power" });
    const { code, stdout, stderr } = await isv(
      "submit",
      join(BEHAVIOUR, "valid.jsonl"),
      "--url",
      url,
      "--meta",
      meta,
      "--format",
      "csv",
    );
    expect(code).toBe(1);
    expect(stdout).toContain("error format_mismatch (1)");
    expect(stderr).toContain("nothing was sent");
  });
});
