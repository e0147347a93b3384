import { beforeAll, describe, expect, it } from "vitest";
import { validateValidationReport } from "../../src/generated/validators";
import { TaskFileValidator } from "../../src/validate/validator";
import { problemOf, storedCounts, submit } from "./helpers";

describe("POST /v1/submissions: one row of 10^6 empty fields", () => {
  let before: Awaited<ReturnType<typeof storedCounts>>;
  let response: Response;
  let problem: Awaited<ReturnType<typeof problemOf>>;

  beforeAll(async () => {
    before = await storedCounts();
    response = await submit({ csv: `prompt,classes,answer_index\n${",".repeat(999_999)}\n` });
    problem = await problemOf(response);
  });

  it("is refused as an invalid task file (422)", () => {
    expect(problem).toMatchObject({ code: "invalid_task_file", status: 422 });
  });

  it("is answered with a complete report whose one error is too_many_fields on line 2", () => {
    const report = problem.report as { truncated: boolean; issues: { code: string; line: number; column: string }[] };
    expect(validateValidationReport(report)).toBe(true);
    expect(report.truncated).toBe(false);
    expect(report.issues.filter((issue) => issue.code !== "too_few_examples")).toMatchObject([
      { code: "too_many_fields", line: 2, column: "65" },
    ]);
  });

  it("stores nothing", async () => {
    expect(await storedCounts()).toEqual(before);
  });
});

describe("validation inside workerd", () => {
  it("lets a timer set before it run while it checks one large chunk", async () => {
    const row = `"Is it so? Answer:","[' Yes', ' No']",1\n`;
    const chunk = new TextEncoder().encode(`prompt,classes,answer_index\n${row.repeat(50_000)}`);
    const validator = new TaskFileValidator({ limits: { minExamples: 0 } });
    let ranMeanwhile = false;
    setTimeout(() => {
      ranMeanwhile = true;
    }, 0);
    await validator.write(chunk);
    const finishedFirst = !ranMeanwhile;
    validator.finish();
    expect(finishedFirst).toBe(false);
  });
});
