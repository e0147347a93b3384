import { env } from "cloudflare:workers";
import Papa from "papaparse";
import { beforeAll, describe, expect, inject, it } from "vitest";
import corpus from "../../src/reference/corpus.txt?raw";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { trainReferenceFamily } from "../../src/reference/family";
import { classificationLoss, continuationLogprob } from "../../src/reference/trends";
import { getEvaluation, type StoredFamily } from "../../src/storage/evaluations";
import { listResults } from "../../src/storage/results";
import { getSubmission } from "../../src/storage/submissions";
import { parseClassesLiteral } from "../../src/validate/classes-literal";
import { defined } from "../defined";
import { VALID_METADATA, drainShards, heldQueue, submit, uniqueVariant } from "./helpers";

/**
 * An evaluation through the reference server's `vllm` personality (/as/vllm/v1), which answers as vLLM does: one
 * generated token after the echoed prompt, and `text_offset` as a running sum of token-string lengths, which drifts
 * after any character split into bytes. The stored losses must still equal the model's own.
 */
describe("an evaluation through the vllm personality, on prompts with characters split into bytes", () => {
  const models = referenceFamily.models.filter((model) => ["isv-ngram-2", "isv-ngram-5"].includes(model.id));
  let csv: string;
  let evaluationId: string;
  const acks: number[] = [];

  beforeAll(async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    // Every other prompt gets multi-byte characters before the text the classes follow: a 4-byte emoji, a 3-byte
    // CJK character and 2-byte accents. The added row's prompt ends with one.
    let row = 0;
    const tagged = memoTrap.replace(/^"(\w+ asks:)/gm, (_, asks: string) =>
      row++ % 2 === 0 ? `"[${tag}] 🙂 naïve 你 ${asks}` : `"[${tag}] ${asks}`,
    );
    csv = uniqueVariant(
      tagged,
      () => `"Ada asks 🙂: say ""${tag}"":\nA quiet river hides the café","[' water', ' stones']",0`,
    );
    const response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "classification" } });
    expect(response.status).toBe(201);
    const { id } = await response.json<{ id: string }>();
    const submission = defined(await getSubmission(env.DB, id), `stored submission ${id}`);

    const baseUrl = `${inject("referenceUrl").replace(/\/v1$/, "")}/as/vllm/v1`;
    const family: StoredFamily = { ...(referenceFamily as StoredFamily), name: "via-vllm", baseUrl, models };
    const started = await startEvaluation(heldQueue, submission, family);
    expect(started.ok).toBe(true);
    evaluationId = started.ok ? started.evaluation.id : "";

    // Every shard through the real queue handler, one batch a shard.
    for (const result of await drainShards(evaluationId)) acks.push(result.explicitAcks.length);
  }, 60_000);

  const examples = () => Papa.parse<string[]>(csv, { skipEmptyLines: true }).data.slice(1);

  it("has multi-byte characters in half the prompts", () => {
    expect(
      examples().filter(([prompt], i) => /\P{ASCII}/u.test(defined(prompt, `example ${i}'s prompt`))),
    ).toHaveLength(151);
  });

  it("has each shard acked by the queue handler", () => {
    for (const acked of acks) expect(acked).toBe(1);
  });

  it("ends evaluated, with no reason", async () => {
    const evaluation = defined(await getEvaluation(env.DB, evaluationId), `evaluation ${evaluationId}`);
    expect({ state: evaluation.state, reason: evaluation.reason }).toEqual({ state: "evaluated", reason: null });
  });

  it("scores every example on every model, flagging none", async () => {
    const results = await listResults(env.DB, evaluationId);
    expect(results.map(({ model, flag }) => ({ model, flag }))).toEqual(
      models.flatMap(({ id }) => examples().map(() => ({ model: id, flag: null }))),
    );
  });

  it("stores per-example losses equal to a direct computation", async () => {
    const reference = trainReferenceFamily(corpus);
    const rows = examples();
    for (const result of await listResults(env.DB, evaluationId)) {
      const example = `${result.model} #${result.index}`;
      const [prompt, classes, answer] = defined(rows[result.index], `the example of ${example}`);
      const text = defined(prompt, `the prompt of ${example}`);
      const member = defined(reference.member(result.model), `reference member ${result.model}`);
      const parsed = parseClassesLiteral(defined(classes, `the classes of ${example}`));
      const scores = (parsed.ok ? parsed.classes : []).map((name) => continuationLogprob(member, text, name));
      const loss = defined(result.metrics?.loss, `a loss for ${example}`);
      expect(
        Math.abs(loss - classificationLoss(scores, Number(answer))),
        `${result.model} #${result.index}`,
      ).toBeLessThan(1e-9);
    }
  });
});
