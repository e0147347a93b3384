import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFERENCE_CONFIG, startDevServer } from "../../scripts/dev-server.mjs";
import { defined } from "../defined";
import { freePort } from "./helpers";

/** The reference Worker as deployed (workerd, corpus bundled as a text module), read by OpenAI's own client. */
const startReference = async () => startDevServer({ config: REFERENCE_CONFIG, port: await freePort() });
const SCORING: OpenAI.CompletionCreateParamsNonStreaming = {
  model: "isv-ngram-4",
  prompt: ["The capital of Sheastomor is Steavougrad.", "Ada asks: 🙂"],
  echo: true,
  max_tokens: 0,
  logprobs: 2,
};

describe("the reference Worker under wrangler dev, through the official openai client", () => {
  let server: { url: string; stop: () => Promise<void> };
  let client: OpenAI;

  beforeAll(async () => {
    server = await startReference();
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("lists the models", async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    // The n-gram family, then the RLHF stand-in (src/reference/rlhf.ts): three sizes, each at four step counts.
    const standIn = [1, 3, 5].flatMap((order) => [0, 250, 500, 1000].map((steps) => `isv-rlhf-${order}-${steps}`));
    expect(ids).toEqual(["isv-ngram-1", "isv-ngram-2", "isv-ngram-3", "isv-ngram-4", "isv-ngram-5", ...standIn]);
  });

  describe("a scoring response", () => {
    let completion: OpenAI.Completion;
    const logprobs = (choice = 0) =>
      defined(defined(completion.choices[choice], `choice ${choice}`).logprobs, `choice ${choice}'s logprobs`);

    beforeAll(async () => {
      completion = await client.completions.create(SCORING);
    });

    it("parses as a text completion with a choice per prompt", () => {
      expect(completion.object).toBe("text_completion");
      expect(completion.choices).toHaveLength(2);
    });

    it("parses the tokens and their offsets", () => {
      expect(logprobs().tokens).toEqual(["The", " capital", " of", " Sheastomor", " is", " Steavougrad", "."]);
      expect(logprobs().text_offset).toEqual([0, 3, 11, 14, 25, 28, 40]);
    });

    it("parses the first token's log-probability as null", () => {
      expect(defined(logprobs().token_logprobs, "token_logprobs")[0]).toBeNull();
    });

    it("parses the top alternatives asked for", () => {
      const top = defined(logprobs().top_logprobs, "top_logprobs");
      expect(Object.keys(defined(top[5], "the top alternatives of token 5"))).toHaveLength(2);
    });

    it("parses the usage: every echoed token a prompt token, none generated", () => {
      expect(completion.usage).toMatchObject({ completion_tokens: 0 });
      expect(defined(completion.usage, "usage").prompt_tokens).toBe(
        defined(logprobs(0).tokens, "choice 0's tokens").length +
          defined(logprobs(1).tokens, "choice 1's tokens").length,
      );
    });
  });

  it("surfaces an unknown model as the client's error with status 404 and the code", async () => {
    await expect(client.completions.create({ ...SCORING, model: "gpt-9" })).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
  });

  it("surfaces a bad parameter as the client's BadRequestError", async () => {
    await expect(client.completions.create({ ...SCORING, logprobs: 9 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("gives bit-identical numbers after a restart", async () => {
    const before = await client.completions.create(SCORING);
    const second = await startReference();
    try {
      const again = await new OpenAI({ baseURL: `${second.url}/v1`, apiKey: "unused" }).completions.create(SCORING);
      expect(again.choices.map((choice) => choice.logprobs)).toEqual(before.choices.map((choice) => choice.logprobs));
    } finally {
      await second.stop();
    }
  });
});
