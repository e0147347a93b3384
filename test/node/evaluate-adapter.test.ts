import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProviderError, openAiCompletionsAdapter, retryAfterMs, tgiAdapter } from "../../src/evaluate/adapters";
import { continuationScore } from "../../src/evaluate/metrics";
import { trainReferenceFamily } from "../../src/reference/family";
import type { FaultVars } from "../../src/reference/faults";
import { createReferenceApp } from "../../src/reference/server";
import { defined } from "../defined";
import { ROOT } from "./helpers";
import { serveOverHttp } from "../reference-http";

/**
 * The adapter against the reference server's real app, called in-process through its fetch handler (the e2e
 * tests reach the same server over loopback HTTP under wrangler dev).
 */
const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
const member = (model: string) => defined(family.member(model), `reference member ${model}`);
const referenceAdapter = (vars: FaultVars = {}) => {
  const app = createReferenceApp({ family: () => family, vars: () => vars });
  return openAiCompletionsAdapter({
    baseUrl: "http://reference.test/v1",
    promptsPerRequest: 10,
    fetch: async (url, init) => app.request(url, init),
  });
};

describe("openai-completions adapter", () => {
  it("scores texts: every token's offset and log-probability, in request order", async () => {
    const texts = ["The capital of Sheastomor is Steavougrad", "Ada sees the old lamp"];
    const scored = await referenceAdapter().score("isv-ngram-3", texts);
    const direct = texts.map((text) => member("isv-ngram-3").score(text, 0));
    expect(scored).toEqual(
      direct.map((tokens) => ({ tokens: tokens.map((token) => ({ offset: token.offset, logprob: token.logprob })) })),
    );
    const prompt = "The capital of Sheastomor is";
    expect(continuationScore(defined(scored[0], "the first text's score"), prompt.length)).toMatchObject({
      ok: true,
      tokens: 1,
    });
  });

  it("asks for one generated token by default, and for none when the family says so", async () => {
    const app = createReferenceApp({ family: () => family, vars: () => ({}) });
    const bodies: { max_tokens: number; echo: boolean; logprobs: number }[] = [];
    const capture = (maxTokens?: 0 | 1) =>
      openAiCompletionsAdapter({
        baseUrl: "http://reference.test/v1",
        ...(maxTokens === undefined ? {} : { maxTokens }),
        fetch: async (url, init) => {
          bodies.push(JSON.parse(String(init.body)));
          return app.request(url, init);
        },
      });
    await capture().score("isv-ngram-2", ["Ada sees"]);
    await capture(0).score("isv-ngram-2", ["Ada sees"]);
    expect(bodies.map(({ max_tokens, echo, logprobs }) => ({ max_tokens, echo, logprobs }))).toEqual([
      { max_tokens: 1, echo: true, logprobs: 1 },
      { max_tokens: 0, echo: true, logprobs: 1 },
    ]);
  });

  it("scores the text's own tokens only, dropping the one generated after it", async () => {
    const text = "The capital of Sheastomor is";
    const [withGenerated] = await referenceAdapter().score("isv-ngram-4", [text]);
    const { tokens } = defined(withGenerated, "the text's score");
    const direct = member("isv-ngram-4").score(text, 0);
    expect(tokens).toHaveLength(direct.length);
    expect(tokens.every((token) => token.offset < text.length)).toBe(true);
  });

  it("turns a 429 into a retryable error carrying Retry-After", async () => {
    const limited = await referenceAdapter({ FAULT_RATE_429: "1" })
      .score("isv-ngram-1", ["x"])
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(ProviderError);
    expect(limited).toMatchObject({ retryable: true, status: 429, retryAfterMs: 1000 });
  });

  it("turns a 500 into a retryable error", async () => {
    expect(
      await referenceAdapter({ FAULT_RATE_500: "1" })
        .score("isv-ngram-1", ["x"])
        .catch((error: unknown) => error),
    ).toMatchObject({ retryable: true, status: 500 });
  });

  it("turns a 404 into a permanent provider_not_found error, in its own words, not the provider's", async () => {
    const missing = await referenceAdapter()
      .score("gpt-9", ["x"])
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({
      failure: "provider_not_found",
      retryable: false,
      status: 404,
      message: "the provider answered HTTP 404",
    });
  });

  it("treats a response cut short as retryable, not as data", async () => {
    const error = await referenceAdapter({ FAULT_RATE_MALFORMED: "1" })
      .score("isv-ngram-1", ["x"])
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ retryable: true, message: expect.stringContaining("not valid JSON") });
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(retryAfterMs("2")).toBe(2000);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", Date.parse("Thu, 01 Jan 2026 00:00:00 GMT"))).toBe(5000);
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});

describe("a call its caller cancels", () => {
  /** The reference server over loopback HTTP, answering after 5 s, counting the requests it receives. */
  async function slowServer() {
    const app = createReferenceApp({ family: () => family, vars: () => ({ FAULT_LATENCY_MS: "5000" }) });
    let received = 0;
    const server = await serveOverHttp({
      request: (input, init) => {
        received++;
        return app.request(input, init);
      },
    });
    return { server, received: () => received };
  }
  const cancelled = new Error("cancelled by the caller");

  it("rejects with the caller's reason once the request in flight is cancelled", async () => {
    const { server, received } = await slowServer();
    try {
      const adapter = openAiCompletionsAdapter({ baseUrl: `${server.origin}/v1` });
      const controller = new AbortController();
      const call = adapter.score("isv-ngram-1", ["Ada sees the old lamp"], controller.signal);
      while (received() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      controller.abort(cancelled);
      await expect(call).rejects.toBe(cancelled);
    } finally {
      await server.close();
    }
  });

  it("sends nothing when it is cancelled before it starts", async () => {
    const { server, received } = await slowServer();
    try {
      const adapter = tgiAdapter({ baseUrl: `${server.origin}/tgi/{model}` });
      await expect(adapter.score("isv-ngram-1", ["a", "b"], AbortSignal.abort(cancelled))).rejects.toBe(cancelled);
      expect(received()).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe("tgi adapter", () => {
  const tgiFor = (vars: FaultVars = {}) => {
    const app = createReferenceApp({ family: () => family, vars: () => vars });
    return tgiAdapter({
      baseUrl: "http://reference.test/tgi/{model}",
      fetch: async (url, init) => app.request(url, init),
    });
  };

  it("scores a text from the prefill details, with offsets rebuilt from token texts, even through byte tokens", async () => {
    const texts = ["The capital of Sheastomor is Steavougrad", "Ada sees 🙂 the old lamp"];
    const scored = await Promise.all(
      texts.map(async (text) => ({ text, results: await tgiFor().score("isv-ngram-4", [text]) })),
    );
    for (const { text, results } of scored) {
      const [result] = results;
      const direct = member("isv-ngram-4").score(text, 0);
      expect(result).toEqual({ tokens: direct.map((token) => ({ offset: token.offset, logprob: token.logprob })) });
    }
  });

  it("answers the same as openai-completions for the same model, and classifies errors alike", async () => {
    const text = "In Sheastomor, people speak";
    const [viaTgi] = await tgiFor().score("isv-ngram-5", [text]);
    const [viaOpenAi] = await referenceAdapter().score("isv-ngram-5", [text]);
    expect(viaTgi).toEqual(viaOpenAi);
    expect(
      await tgiFor()
        .score("gpt-9", ["x"])
        .catch((error: unknown) => error),
    ).toMatchObject({ retryable: false, status: 404 });
    expect(
      await tgiFor({ FAULT_RATE_429: "1" })
        .score("isv-ngram-1", ["x"])
        .catch((error: unknown) => error),
    ).toMatchObject({ retryable: true, status: 429, retryAfterMs: 1000 });
  });
});
