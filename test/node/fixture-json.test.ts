import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  validateModelFamily,
  validateSubmissionMetadata,
  validateValidationReport,
} from "../../src/generated/validators";
import { ISSUE_SEVERITY } from "../../src/validate/issues";
import { ROOT } from "./helpers";

/** Each folder of JSON fixtures and the schema its files must satisfy. */
const FOLDERS = { "fixtures/metadata": validateSubmissionMetadata, "fixtures/families": validateModelFamily };

describe("JSON fixtures match their schemas", () => {
  for (const [folder, validate] of Object.entries(FOLDERS)) {
    const files = readdirSync(join(ROOT, folder)).filter((name) => name.endsWith(".json"));
    it.each(files)(`${folder}/%s`, (name) => {
      const valid = validate(JSON.parse(readFileSync(join(ROOT, folder, name), "utf8")));
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });
  }

  it("the report schema lists exactly the validator's issue codes", () => {
    const schema = JSON.parse(readFileSync(join(ROOT, "schemas/validation-report.schema.json"), "utf8"));
    expect([...schema.$defs.code.enum].sort()).toEqual(Object.keys(ISSUE_SEVERITY).sort());
  });

  it("the report schema rejects an issue code the validator does not have", () => {
    const report = {
      schemaVersion: 1,
      valid: true,
      taskType: null,
      taskTypeSource: null,
      issues: [{ severity: "error", code: "made_up", message: "x" }],
    };
    expect(validateValidationReport(report)).toBe(false);
  });
});
