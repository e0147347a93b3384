import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  NO_PREFILL,
  NO_PROMPT_LOGPROBS,
  ProviderError,
  openAiCompletionsAdapter,
  tgiAdapter,
  type ScoringAdapter,
} from "../../src/evaluate/adapters";
import { continuationScore, type ScoredText } from "../../src/evaluate/metrics";
import { alignOffsets } from "../../src/evaluate/token-alignment";
import { trainReferenceFamily } from "../../src/reference/family";
import { createReferenceApp } from "../../src/reference/server";
import { defined } from "../defined";
import { ROOT } from "./helpers";

/**
 * Contract tests: every adapter against every provider personality it can talk to (src/reference/personalities),
 * in-process through the reference app. Where the server can score, each token's offset and log-probability and
 * each class's score equal the reference model's own; where it cannot, the answer is the exact permanent error.
 */
const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
const app = createReferenceApp({ family: () => family, vars: () => ({}) });
const send = async (url: string, init: RequestInit) => app.request(url, init);
const MODEL = "isv-ngram-4";

const openAi = (personality: string, maxTokens?: 0 | 1) =>
  openAiCompletionsAdapter({
    baseUrl: `http://reference.test/as/${personality}/v1`,
    promptsPerRequest: 20,
    ...(maxTokens === undefined ? {} : { maxTokens }),
    fetch: send,
  });
const tgi = (personality: string) =>
  tgiAdapter({ baseUrl: `http://reference.test/as/${personality}/{model}`, fetch: send });

/** ASCII, characters split into bytes (2, 3 and 4 of them), a character outside the BMP, and several in a row. */
const TEXTS = [
  "The capital of Sheastomor is Steavougrad",
  "Ada sees 🙂 the café",
  "Ada 你 x",
  "你好, Ada",
  "naïve 🙂🙂 end é",
];

/** Prompts and classes: a leading space after ASCII, after a multi-byte prompt, and a class that starts with a split character. */
const CLASSES = [
  { prompt: "The capital of Sheastomor is", continuation: " Steavougrad" },
  { prompt: "Ada sees 🙂 the", continuation: " café" },
  { prompt: "Ada sees ", continuation: "🙂 the café" },
];

/** The reference model's own numbers: each token's offset and log-probability. */
const direct = (text: string): ScoredText => ({
  tokens: defined(family.member(MODEL), `reference member ${MODEL}`)
    .score(text, 0)
    .map(({ offset, logprob }) => ({ offset, logprob })),
});

/** A class's score straight from the model: the log-probabilities of its tokens, those starting at or after the prompt's end. */
function directClassScore(prompt: string, continuation: string): { logprob: number; tokens: number } {
  const tokens = direct(prompt + continuation).tokens.filter((token) => token.offset >= prompt.length);
  return {
    logprob: tokens.reduce(
      (sum, token) => sum + defined(token.logprob, `a log-probability at offset ${token.offset}`),
      0,
    ),
    tokens: tokens.length,
  };
}

/** Each of CLASSES with the score `adapter` gives its continuation. */
function classScores(adapter: ScoringAdapter) {
  return Promise.all(
    CLASSES.map(async ({ prompt, continuation }) => {
      const [text] = await adapter.score(MODEL, [prompt + continuation]);
      const scored = defined(text, `a score for ${JSON.stringify(prompt + continuation)}`);
      return { prompt, continuation, score: continuationScore(scored, prompt.length) };
    }),
  );
}

function expectClassScoresDirect(scores: Awaited<ReturnType<typeof classScores>>) {
  for (const { prompt, continuation, score } of scores) {
    const expected = directClassScore(prompt, continuation);
    expect(score, `${JSON.stringify(prompt)} + ${JSON.stringify(continuation)}`).toMatchObject({
      ok: true,
      tokens: expected.tokens,
    });
    expect(score.ok && Math.abs(score.logprob - expected.logprob)).toBeLessThanOrEqual(1e-12);
  }
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => "scored",
    (error: unknown) =>
      error instanceof ProviderError
        ? { message: error.message, retryable: error.retryable, status: error.status }
        : error,
  );

describe("openai-completions × the servers that score prompts", () => {
  const scorers = ["vllm", "vllm-legacy", "openai-legacy"].flatMap((personality) =>
    ([0, 1] as const).map((maxTokens) => ({ personality, maxTokens })),
  );

  describe.each(scorers)("$personality with max_tokens $maxTokens", ({ personality, maxTokens }) => {
    it("gives every token of ASCII and multi-byte texts the model's log-probability and its true offset", async () => {
      expect(await openAi(personality, maxTokens).score(MODEL, TEXTS)).toEqual(TEXTS.map(direct));
    });

    it("scores classes (a leading space; after a multi-byte prompt; starting with a split character) as the model does", async () => {
      expectClassScoresDirect(await classScores(openAi(personality, maxTokens)));
    });
  });
});

describe("openai-completions × llama.cpp's server (no prompt log-probabilities)", () => {
  it("llamacpp, one text: refuses chat-format logprobs.content for good", async () => {
    expect(await failure(openAi("llamacpp").score(MODEL, TEXTS.slice(1, 2)))).toEqual({
      message: `${NO_PROMPT_LOGPROBS}: its logprobs are chat-format (logprobs.content) and cover generated tokens only, as llama.cpp's server answers`,
      retryable: false,
      status: undefined,
    });
  });

  it("llamacpp, several texts: refuses the JSON array of completions for good", async () => {
    expect(await failure(openAi("llamacpp").score(MODEL, TEXTS))).toEqual({
      message: `${NO_PROMPT_LOGPROBS}: it answered a JSON array of completions, one per prompt, whose logprobs (logprobs.content) cover generated tokens only, as llama.cpp's server does`,
      retryable: false,
      status: undefined,
    });
  });

  it("llamacpp with max_tokens 0: refuses an answer that does not echo the text for good", async () => {
    expect(await failure(openAi("llamacpp", 0).score(MODEL, TEXTS.slice(1, 2)))).toEqual({
      message: `${NO_PROMPT_LOGPROBS}: its log-probabilities cover generated tokens only (the answer does not echo the text)`,
      retryable: false,
      status: undefined,
    });
  });

  it("llamacpp-noecho: its 500 'Only no echo is supported' is a permanent refusal, with the server's reason", async () => {
    expect(await failure(openAi("llamacpp-noecho").score(MODEL, TEXTS))).toEqual({
      message: `${NO_PROMPT_LOGPROBS}: the server refuses echo, answering 500 "Only no echo is supported" (as llama.cpp's server does)`,
      retryable: false,
      status: 500,
    });
  });
});

describe("tgi × text-generation-inference 3", () => {
  it("tgi3-prefill: gives every token of ASCII and multi-byte texts the model's log-probability and its true offset", async () => {
    const scored = await Promise.all(TEXTS.map(async (text) => (await tgi("tgi3-prefill").score(MODEL, [text]))[0]));
    expect(scored).toEqual(TEXTS.map(direct));
  });

  it("tgi3-prefill: scores classes (a leading space; after a multi-byte prompt; starting with a split character) as the model does", async () => {
    expectClassScoresDirect(await classScores(tgi("tgi3-prefill")));
  });

  it("tgi3 (prefill log-probabilities off): refuses for good, saying to start TGI with --enable-prefill-logprobs", async () => {
    expect(await failure(tgi("tgi3").score(MODEL, TEXTS.slice(0, 1)))).toEqual({
      message: NO_PREFILL,
      retryable: false,
      status: undefined,
    });
  });
});

describe("openai-completions: which offsets it reads (a stub server: answers no real server gives on demand)", () => {
  /** A stand-in server that answers one fixed choice for whatever is asked. */
  const answering = (choice: object) =>
    openAiCompletionsAdapter({
      baseUrl: "http://stub.test/v1",
      fetch: async () => Response.json({ choices: [{ index: 0, ...choice }] }),
    });

  it("keeps the offsets as given when the answer has no token strings", async () => {
    const [scored] = await answering({
      text: "Ada sees!",
      logprobs: { token_logprobs: [null, -1.5, -2], text_offset: [0, 3, 8] },
    }).score("m", ["Ada sees"]);
    expect(scored).toEqual({
      tokens: [
        { offset: 0, logprob: null },
        { offset: 3, logprob: -1.5 },
      ],
    });
  });

  it("reads raw tokenizer pieces (Ġ and ▁ for spaces) as the text they stand for", async () => {
    const adapter = answering({
      text: "Ada sees it",
      logprobs: { tokens: ["Ada", "Ġsees", "▁it"], token_logprobs: [null, -1, -2], text_offset: [0, 3, 9] },
    });
    expect(await adapter.score("m", ["Ada sees it"])).toEqual([
      {
        tokens: [
          { offset: 0, logprob: null },
          { offset: 3, logprob: -1 },
          { offset: 8, logprob: -2 },
        ],
      },
    ]);
  });

  it("flags a text whose tokens do not spell it out, so its examples are excluded and counted", async () => {
    const adapter = answering({
      text: "Ada sees",
      logprobs: { tokens: ["Bob", " saw"], token_logprobs: [null, -1], text_offset: [0, 3] },
    });
    const [scored] = await adapter.score("m", ["Ada sees"]);
    expect(continuationScore(defined(scored, "a scored text"), 3)).toEqual({ ok: false, flag: "unaligned_tokens" });
  });

  it("drops the generated token by count when generation stopped at the length asked, whatever its string", async () => {
    // "é" split into two one-byte pieces, then a generated piece: only the count says which is which.
    const adapter = answering({
      text: "café\ufffd",
      finish_reason: "length",
      logprobs: {
        tokens: ["caf", "\ufffd", "\ufffd", "\ufffd"],
        token_logprobs: [null, -1, -2, -9],
        text_offset: [0, 3, 4, 5],
      },
    });
    const [scored] = await adapter.score("m", ["café"]);
    expect(scored).toEqual({
      tokens: [
        { offset: 0, logprob: null },
        { offset: 3, logprob: -1 },
        { offset: 3, logprob: -2 },
      ],
    });
  });

  it("drops an empty generated token (an end of text decoded as nothing) rather than adding it to the class", async () => {
    const adapter = answering({
      text: "Ada sees",
      finish_reason: "stop",
      logprobs: { tokens: ["Ada", " sees", ""], token_logprobs: [null, -1, -7], text_offset: [0, 3, 8] },
    });
    const [scored] = await adapter.score("m", ["Ada sees"]);
    expect(scored).toEqual({
      tokens: [
        { offset: 0, logprob: null },
        { offset: 3, logprob: -1 },
      ],
    });
  });

  it("keeps every token when an answer that stopped early left the generated token out", async () => {
    const adapter = answering({
      text: "Ada sees",
      finish_reason: "stop",
      logprobs: { tokens: ["Ada", " sees"], token_logprobs: [null, -1], text_offset: [0, 3] },
    });
    expect(await adapter.score("m", ["Ada sees"])).toEqual([
      {
        tokens: [
          { offset: 0, logprob: null },
          { offset: 3, logprob: -1 },
        ],
      },
    ]);
  });

  it("treats an answer of null as a refusal, not a crash", async () => {
    const adapter = openAiCompletionsAdapter({
      baseUrl: "http://stub.test/v1",
      fetch: async () => Response.json(null),
    });
    expect(await failure(adapter.score("m", ["x"]))).toEqual({
      message: "expected 1 choices in the provider's response",
      retryable: false,
      status: undefined,
    });
  });
});

describe("alignOffsets: each token's true offset from the token strings", () => {
  it("gives a character's byte pieces (U+FFFD) its offset, where vLLM's running sum drifts", () => {
    // vLLM's text_offset for these tokens is [0, 3, 4, 5, 6, 7, 8].
    expect(alignOffsets(["Ada", " ", "\ufffd", "\ufffd", "\ufffd", " ", "x"], "Ada 你 x").offsets).toEqual([
      0, 3, 4, 4, 4, 5, 6,
    ]);
  });

  it("places the pieces of characters split in a row on their own characters, counting UTF-8 bytes", () => {
    expect(
      alignOffsets(["\ufffd", "\ufffd", "\ufffd", "\ufffd", "\ufffd", "\ufffd", ",", " Ada"], "你好, Ada").offsets,
    ).toEqual([0, 0, 0, 1, 1, 1, 2, 3]);
  });

  it("reads OpenAI's bytes:\\xNN pieces, several bytes to a token", () => {
    expect(
      alignOffsets(["Ada", " ", "bytes:\\xe4\\xbd", "bytes:\\xa0", "bytes:\\xe5", "bytes:\\xa5\\xbd"], "Ada 你好")
        .offsets,
    ).toEqual([0, 3, 4, 4, 5, 5]);
  });

  it("gives a piece that starts inside a character the offset of the token before, so no boundary is claimed there", () => {
    // " \ufffd" is the space and 你's first byte; the next piece starts inside 你, which so starts no token.
    expect(alignOffsets(["Ada", " \ufffd", "\ufffd\ufffd", " x"], "Ada 你 x").offsets).toEqual([0, 3, 3, 5]);
  });

  it("gives every piece of a run the run's offset when its pieces' sizes are not known", () => {
    // Two U+FFFD pieces for 日本 (6 bytes): each stands for 1 to 3 bytes, so where 本 starts is not known.
    expect(alignOffsets(["A", "\ufffd", "\ufffd", "!"], "A日本!").offsets).toEqual([0, 1, 1, 3]);
  });

  it("leaves a class that starts inside such a run without a token at its start (flagged, never guessed)", () => {
    const { offsets } = alignOffsets(["A", "\ufffd", "\ufffd", "!"], "A日本!");
    expect(continuationScore({ tokens: offsets.map((offset) => ({ offset, logprob: -1 })) }, 2)).toEqual({
      ok: false,
      flag: "token_boundary",
    });
  });

  it("finds a piece that merges the prompt's last character with the class's first: no token starts the class", () => {
    const { offsets } = alignOffsets(["A", "bytes:\\xe6\\x97", "bytes:\\xa5\\xe6", "bytes:\\x9c\\xac"], "A日本");
    expect(offsets).toEqual([0, 1, 1, 1]);
  });

  it("gives an empty token the offset of the one before (the reference server's TGI route)", () => {
    expect(alignOffsets(["Ada", " ", "你", "", "", " ", "x"], "Ada 你 x").offsets).toEqual([0, 3, 4, 4, 4, 5, 6]);
  });

  it("starts a special token not in the text (a BOS) at the cursor, without moving it", () => {
    expect(alignOffsets(["<s>", "Ada", " sees"], "Ada sees").offsets).toEqual([0, 0, 3]);
  });

  it("places the byte pieces of a text's last character on it", () => {
    expect(alignOffsets(["caf", "\ufffd", "\ufffd"], "café").offsets).toEqual([0, 3, 3]);
  });

  it("counts a character outside the BMP as two UTF-16 units", () => {
    expect(alignOffsets(["Ada", " ", "\ufffd", "\ufffd", "\ufffd", "\ufffd", " the"], "Ada 🙂 the").offsets).toEqual([
      0, 3, 4, 4, 4, 4, 6,
    ]);
  });

  it("says tokens that stop short of the text are not aligned", () => {
    expect(alignOffsets(["Ada", " sees"], "Ada sees the lamp").aligned).toBe(false);
  });

  it("says a token not in the text after its start is not aligned, rather than pulling it into a run", () => {
    expect(alignOffsets(["A", "\ufffd", "Z", "B"], "A\ufffdB").aligned).toBe(false);
  });
});
