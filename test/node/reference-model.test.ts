import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trainReferenceFamily } from "../../src/reference/family";
import { defined } from "../defined";
import { ROOT } from "./helpers";

const corpus = readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8");
const family = trainReferenceFamily(corpus);
const { tokenizer } = family;

/** Contexts drawn from the corpus, a fixture prompt, and text the corpus never saw. */
const CONTEXTS = [
  "The capital of Sheastomor is",
  "A quiet river hides the",
  "Ada asks: Write a quote that ends in the word",
  "def f(x):\n    return x ** 2  # 平方 🙂",
  "",
];

describe("the reference family's models", () => {
  it("has five members whose parameter counts grow with order", () => {
    expect(family.members.map((member) => member.id)).toEqual([
      "isv-ngram-1",
      "isv-ngram-2",
      "isv-ngram-3",
      "isv-ngram-4",
      "isv-ngram-5",
    ]);
    const parameters = family.members.map((member) => member.parameters);
    expect(parameters).toEqual([...parameters].sort((a, b) => a - b));
    expect(new Set(parameters).size).toBe(5);
  });

  it("matches fixtures/families/reference.json, which the service uses to reach it", () => {
    const definition = JSON.parse(readFileSync(join(ROOT, "fixtures/families/reference.json"), "utf8")) as {
      models: { id: string; parameters: number }[];
    };
    expect(definition.models).toEqual(
      family.members.map((member) => ({ id: member.id, parameters: member.parameters })),
    );
  });

  it("gives every context a distribution that sums to 1 over the whole vocabulary (within 1e-9)", () => {
    for (const member of family.members) {
      for (const text of CONTEXTS) {
        const ids = [...tokenizer.encode(text).map((token) => token.id), 0];
        const at = ids.length - 1;
        let sum = 0;
        for (let token = 0; token < tokenizer.size; token++) sum += Math.exp(member.model.logprob(ids, at, token));
        expect(Math.abs(sum - 1), `${member.id} after ${JSON.stringify(text)}`).toBeLessThan(1e-9);
      }
    }
  });

  it("finds exactly the k most probable tokens, as a scan of the whole vocabulary does", () => {
    for (const member of family.members) {
      for (const text of CONTEXTS) {
        const ids = [...tokenizer.encode(text).map((token) => token.id), 0];
        const at = ids.length - 1;
        const all = Array.from({ length: tokenizer.size }, (_, id) => ({
          id,
          logprob: member.model.logprob(ids, at, id),
        }));
        all.sort((a, b) => b.logprob - a.logprob || a.id - b.id);
        expect(member.model.topTokens(ids, at, 5), `${member.id} after ${JSON.stringify(text)}`).toEqual(
          all.slice(0, 5),
        );
      }
    }
  });

  it("is deterministic: a second training gives bit-identical log-probabilities", () => {
    const again = trainReferenceFamily(corpus);
    for (const [index, member] of family.members.entries()) {
      const text = CONTEXTS.join(" ");
      expect(defined(again.members[index], `member ${member.id} of the second training`).score(text, 3)).toEqual(
        member.score(text, 3),
      );
    }
  });
});

describe("the tokenizer", () => {
  it("keeps a word's leading space in its token, as GPT-2 does", () => {
    const tokens = tokenizer.encode("The capital of Sheastomor is Steavougrad.");
    expect(tokens.map((token) => token.text)).toEqual([
      "The",
      " capital",
      " of",
      " Sheastomor",
      " is",
      " Steavougrad",
      ".",
    ]);
    expect(tokens.map((token) => token.offset)).toEqual([0, 3, 11, 14, 25, 28, 40]);
  });

  it.each([
    ["code and odd whitespace", "if (a  &&\tb) {\r\n  return 'x';\n}\n\n"],
    ["other scripts", "Привет, мир. 日本語のテキスト. مرحبا"],
    ["emoji and combining marks", "🙂 👩🏽‍🔬 é (e + ◌́)"],
  ])("tokenizes any UTF-8 text (%s), with offsets that point at each token", (_label, text) => {
    const tokens = tokenizer.encode(text);
    let rebuilt = "";
    const bytes: number[] = [];
    for (const token of tokens) {
      if (tokenizer.isByte(token.id)) {
        bytes.push(tokenizer.byteOf(token.id));
        expect(text.codePointAt(token.offset)).toBeGreaterThan(0x7f);
        continue;
      }
      if (bytes.length > 0) rebuilt += new TextDecoder().decode(new Uint8Array(bytes.splice(0)));
      expect(text.startsWith(token.text, token.offset)).toBe(true);
      rebuilt += token.text;
    }
    rebuilt += new TextDecoder().decode(new Uint8Array(bytes));
    expect(rebuilt).toBe(text);
    expect(tokens.map((token) => token.offset)).toEqual([...tokens.map((token) => token.offset)].sort((a, b) => a - b));
  });
});
