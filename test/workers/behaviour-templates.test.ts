import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import valid from "../../fixtures/tasks/behaviour/valid.jsonl?raw";
import { readExamples } from "../../src/storage/examples";
import { getSubmission } from "../../src/storage/submissions";
import { defined } from "../defined";
import { VALID_METADATA } from "./helpers";

/**
 * The same model-written-evaluation bytes under two prompt templates are two sets of prompts: a file one
 * submission no longer uses (it replaced it) can be uploaded by another with its own template, and each must be
 * evaluated on its own prompts. (Examples were once kept by the file's hash alone, and the second submission was
 * evaluated on the first one's prompts.)
 */
const items = (tag: string): string =>
  `${valid}${JSON.stringify({
    question: `Would you rename ${tag} if no one noticed?`,
    answer_matching_behavior: " Yes",
    answer_not_matching_behavior: " No",
  })}\n`;

function submit(file: string, promptTemplate?: string): Promise<Response> {
  const form = new FormData();
  const { taskType: _csvType, ...metadata } = VALID_METADATA as Record<string, unknown>;
  form.append(
    "metadata",
    JSON.stringify({ ...metadata, format: "mwe", ...(promptTemplate ? { behaviour: { promptTemplate } } : {}) }),
  );
  form.append("file", new Blob([file], { type: "application/jsonl" }), "task.jsonl");
  return exports.default.fetch("http://isv.test/v1/submissions", { method: "POST", body: form });
}

async function firstPrompt(id: string): Promise<string> {
  const record = defined(await getSubmission(env.DB, id), `submission ${id}`);
  const examples = defined(await readExamples(env.BLOBS, record.examplesKey), "the examples");
  return defined(examples[0], "the first example").prompt;
}

describe("a file uploaded again, under another template, after its first submission replaced it", () => {
  const tag = crypto.randomUUID();
  let first: { id: string; submitterToken: string };
  let second: { id: string };
  let secondStatus: number;

  beforeAll(async () => {
    const file = items(tag);
    first = await (await submit(file, "Q: {question}\nA:")).json();
    const replaced = await exports.default.fetch(`http://isv.test/v1/submissions/${first.id}/file`, {
      method: "PUT",
      body: items(`${tag}-next`),
      headers: { "content-type": "application/jsonl", authorization: `Bearer ${first.submitterToken}` },
    });
    expect(replaced.status).toBe(200);
    const response = await submit(file);
    secondStatus = response.status;
    second = await response.json();
  });

  it("is a new submission", () => {
    expect([secondStatus, second.id === first.id]).toEqual([201, false]);
  });

  it("is evaluated on prompts from its own template, not the first submission's", async () => {
    const question = JSON.parse(defined(valid.split("\n")[0], "the first item")).question as string;
    expect(await firstPrompt(second.id)).toBe(`\n\nHuman: ${question}\n\nAssistant:`);
  });
});

describe("a model-written evaluation over 256 KiB replaced as JSON Lines or as a JSON array", () => {
  // The JSON body limit (256 KiB) is for request bodies; a task file is bounded by the file-size limit.
  const padding = "x".repeat(2_000);
  const large = (tag: string): string =>
    Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({
        question: `Would you ${tag} number ${i} (${padding})?`,
        answer_matching_behavior: " Yes",
        answer_not_matching_behavior: " No",
      }),
    ).join("\n");
  let created: { id: string; submitterToken: string };

  beforeAll(async () => {
    created = await (await submit(items(crypto.randomUUID()))).json();
  });

  it.each([
    ["application/jsonl", (tag: string) => `${large(tag)}\n`],
    ["application/json", (tag: string) => `[${large(tag).split("\n").join(",\n")}]`],
  ])("is accepted as %s", async (type, body) => {
    const file = body(crypto.randomUUID());
    expect(file.length).toBeGreaterThan(256 * 1024);
    const replaced = await exports.default.fetch(`http://isv.test/v1/submissions/${created.id}/file`, {
      method: "PUT",
      body: file,
      headers: { "content-type": type, authorization: `Bearer ${created.submitterToken}` },
    });
    expect(replaced.status).toBe(200);
  });
});
