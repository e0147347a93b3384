import { readFileSync } from "node:fs";
import { join } from "node:path";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { trainReferenceFamily, type ReferenceMember } from "../../src/reference/family";
import { parseClassesLiteral } from "../../src/validate/classes-literal";
import { ROOT } from "./helpers";

/**
 * The family's designed trends, from its real computations on the fixture tasks. Losses are the prize's:
 * sequence_prob, -sum log p(completion | prompt); classification, -log softmax over the classes' summed
 * log-probabilities. They are computed here from token log-probabilities, as an evaluator would from the API.
 */
const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
const rows = (name: string): string[][] =>
  Papa.parse<string[]>(readFileSync(join(ROOT, "fixtures/tasks/reference", name), "utf8"), { skipEmptyLines: true }).data.slice(1);

/** log p(continuation | prompt): the log-probabilities of the tokens that start at or after the prompt's end. */
function continuationLogprob(member: ReferenceMember, prompt: string, continuation: string): number {
  const tokens = member.score(prompt + continuation, 0);
  expect(tokens.some((token) => token.offset === prompt.length), "the continuation starts on a token boundary").toBe(true);
  return tokens.filter((token) => token.offset >= prompt.length).reduce((sum, token) => sum + token.logprob!, 0);
}

function classificationLoss(member: ReferenceMember, prompt: string, classes: string[], answer: number): number {
  const scores = classes.map((name) => continuationLogprob(member, prompt, name));
  const max = Math.max(...scores);
  const logSumExp = max + Math.log(scores.reduce((sum, score) => sum + Math.exp(score - max), 0));
  return logSumExp - scores[answer]!;
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

describe("known scaling on the fixture tasks", () => {
  it("facts-standard.csv: loss falls with every step in size (standard scaling)", () => {
    const facts = rows("facts-standard.csv");
    const losses = family.members.map((member) => mean(facts.map(([prompt, completion]) => -continuationLogprob(member, prompt!, completion!))));
    for (let i = 1; i < losses.length; i++) expect(losses[i]!, `order ${i + 1} vs ${i}`).toBeLessThan(losses[i - 1]! - 0.5);
    expect(losses[0]! - losses[4]!).toBeGreaterThan(5);
  });

  it("memo-trap-inverse.csv: loss rises with size and accuracy falls from 100% to 0% (inverse scaling)", () => {
    const memo = rows("memo-trap-inverse.csv").map(([prompt, classes, answer]) => {
      const parsed = parseClassesLiteral(classes!);
      if (!parsed.ok) throw new Error(parsed.message);
      return { prompt: prompt!, classes: parsed.classes, answer: Number(answer) };
    });
    const results = family.members.map((member) => {
      const losses = memo.map((example) => classificationLoss(member, example.prompt, example.classes, example.answer));
      return { loss: mean(losses), accuracy: mean(losses.map((loss) => (loss < Math.log(2) ? 1 : 0))) };
    });
    // Orders 1 and 2 cannot see the proverb and agree to within 0.01; each longer context recalls more of it.
    expect(Math.abs(results[1]!.loss - results[0]!.loss)).toBeLessThan(0.01);
    for (let i = 2; i < results.length; i++) expect(results[i]!.loss, `order ${i + 1}`).toBeGreaterThan(results[i - 1]!.loss + 0.5);
    expect(results.map((result) => result.accuracy)).toEqual([1, 1, 2 / 3, 1 / 3, 0]);
  });
});
