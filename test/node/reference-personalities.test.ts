import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { trainReferenceFamily } from "../../src/reference/family";
import type { FaultVars } from "../../src/reference/faults";
import { createReferenceApp } from "../../src/reference/server";
import { defined } from "../defined";
import { ROOT } from "./helpers";

/**
 * The reference server's provider personalities (/as/{name}/…): each real server's accepted requests, refusals and
 * error bodies, over the reference family's real numbers.
 */
const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
const server = (vars: FaultVars = {}) => createReferenceApp({ family: () => family, vars: () => vars });
const app = server();

async function post(
  path: string,
  body: unknown,
  target = app,
  // biome-ignore lint/suspicious/noExplicitAny: each personality answers its own JSON shape, asserted field by field
): Promise<{ status: number; body: any; response: Response }> {
  const response = await target.request(path, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  const text = await response.clone().text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain-text bodies stay text
  }
  return { status: response.status, body: parsed, response };
}

const PROMPT = "The capital of Sheastomor is";
const MODEL = "isv-ngram-3";
/** The unprefixed server's numbers for a prompt (echo, max_tokens 0). */
async function reference(prompt: string, model = MODEL, logprobs = 1) {
  const { body } = await post("/v1/completions", { model, prompt, echo: true, max_tokens: 0, logprobs });
  return body.choices[0].logprobs as {
    tokens: string[];
    token_logprobs: (number | null)[];
    text_offset: number[];
    top_logprobs: (Record<string, number> | null)[];
  };
}
/** The greedy next token, from the unprefixed server. */
async function nextToken(prompt: string, model = MODEL) {
  const { body } = await post("/v1/completions", { model, prompt, max_tokens: 1, logprobs: 1 });
  return {
    token: body.choices[0].logprobs.tokens[0] as string,
    logprob: body.choices[0].logprobs.token_logprobs[0] as number,
    text: body.choices[0].text as string,
  };
}

describe("vllm personality (/as/vllm/v1)", () => {
  const SCORE = { model: MODEL, prompt: PROMPT, echo: true, logprobs: 1, max_tokens: 1 };

  it("answers echo + logprobs + max_tokens 1 with the prompt's tokens, then one greedy token, and text = prompt + generated", async () => {
    const { status, body } = await post("/as/vllm/v1/completions", SCORE);
    expect(status).toBe(200);
    const direct = await reference(PROMPT);
    const next = await nextToken(PROMPT);
    expect(body.choices[0].text).toBe(PROMPT + next.text);
    expect(body.choices[0].logprobs.tokens).toEqual([...direct.tokens, next.token]);
  });

  it("ends echo + max_tokens 1 for length, counting the prompt's tokens and the one generated", async () => {
    const { body } = await post("/as/vllm/v1/completions", SCORE);
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.usage).toEqual({
      prompt_tokens: 5,
      total_tokens: 6,
      completion_tokens: 1,
      prompt_tokens_details: null,
    });
  });

  it("gives the prompt tokens the same log-probabilities as the unprefixed server (first null)", async () => {
    const { body } = await post("/as/vllm/v1/completions", {
      ...SCORE,
      model: "isv-ngram-5",
      prompt: "In Sheastomor, people speak",
    });
    const direct = await reference("In Sheastomor, people speak", "isv-ngram-5");
    expect(body.choices[0].logprobs.token_logprobs.slice(0, -1)).toEqual(direct.token_logprobs);
    expect(body.choices[0].logprobs.token_logprobs[0]).toBeNull();
    expect(body.choices[0].logprobs.top_logprobs[0]).toBeNull();
  });

  it("adds exactly one generated token, at text_offset = the prompt's length, with its greedy log-probability", async () => {
    const { body } = await post("/as/vllm/v1/completions", SCORE);
    const logprobs = body.choices[0].logprobs;
    const promptTokens = (await reference(PROMPT)).tokens.length;
    expect(logprobs.tokens).toHaveLength(promptTokens + 1);
    expect(logprobs.text_offset.at(-1)).toBe(PROMPT.length);
    expect(logprobs.token_logprobs.at(-1)).toBe((await nextToken(PROMPT)).logprob);
  });

  it("lists the chosen token first in top_logprobs, then the N most likely", async () => {
    const { body } = await post("/as/vllm/v1/completions", { ...SCORE, logprobs: 2 });
    const logprobs = body.choices[0].logprobs;
    // " Sheastomor" (position 3) is not among the 2 most likely after "The capital of": 3 entries, itself first.
    expect(Object.keys(logprobs.top_logprobs[3])).toEqual([" Sheastomor", " Bekaistan", " Boubromor"]);
    expect(logprobs.top_logprobs[3][" Sheastomor"]).toBe(logprobs.token_logprobs[3]);
  });

  it("refuses max_tokens 0 without echo: 400 and vLLM's error body", async () => {
    const { status, body } = await post("/as/vllm/v1/completions", { model: MODEL, prompt: PROMPT, max_tokens: 0 });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        message: "max_tokens must be at least 1, got 0. (parameter=max_tokens, value=0)",
        type: "BadRequestError",
        param: "max_tokens",
        code: 400,
      },
    });
  });

  it("accepts max_tokens 0 with echo, as vLLM does: the prompt alone, with the unprefixed server's numbers", async () => {
    const { status, body } = await post("/as/vllm/v1/completions", { ...SCORE, max_tokens: 0 });
    expect(status).toBe(200);
    const direct = await reference(PROMPT);
    expect(body.choices[0]).toMatchObject({
      index: 0,
      text: PROMPT,
      finish_reason: "length",
      stop_reason: null,
      prompt_logprobs: null,
    });
    expect(body.choices[0].logprobs.tokens).toEqual(direct.tokens);
    expect(body.choices[0].logprobs.token_logprobs).toEqual(direct.token_logprobs);
  });

  it("counts the internal token of max_tokens 0 with echo in usage, as vLLM does", async () => {
    const { body } = await post("/as/vllm/v1/completions", { ...SCORE, max_tokens: 0 });
    expect(body.usage).toEqual({
      prompt_tokens: 5,
      total_tokens: 6,
      completion_tokens: 1,
      prompt_tokens_details: null,
    });
  });

  it("refuses logprobs above its --max-logprobs default of 20", async () => {
    const { status, body } = await post("/as/vllm/v1/completions", { ...SCORE, logprobs: 21 });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        message:
          "Requested sample logprobs of 21, which is greater than max allowed: 20 (parameter=logprobs, value=21)",
        type: "BadRequestError",
        param: "logprobs",
        code: 400,
      },
    });
  });

  it("accepts logprobs 20", async () => {
    const { status, body } = await post("/as/vllm/v1/completions", { ...SCORE, logprobs: 20 });
    expect(status).toBe(200);
    expect(Object.keys(body.choices[0].logprobs.top_logprobs[1]).length).toBeGreaterThanOrEqual(20);
  });

  it("answers an unknown model with 404 NotFoundError", async () => {
    const { status, body } = await post("/as/vllm/v1/completions", { ...SCORE, model: "gpt-9" });
    expect(status).toBe(404);
    expect(body).toEqual({
      error: { message: "The model `gpt-9` does not exist.", type: "NotFoundError", param: "model", code: 404 },
    });
  });

  it("adds up token string lengths for text_offset, so a character split into bytes (each U+FFFD) shifts later offsets", async () => {
    const { body } = await post("/as/vllm/v1/completions", { ...SCORE, prompt: "Ada 你 x" });
    const logprobs = body.choices[0].logprobs;
    expect(logprobs.tokens).toEqual(["Ada", " ", "\ufffd", "\ufffd", "\ufffd", " ", "x", logprobs.tokens[7]]);
    // True offsets of " " and "x" are 5 and 6: vLLM's are 7 and 8.
    expect(logprobs.text_offset).toEqual([0, 3, 4, 5, 6, 7, 8, 9]);
  });

  describe("prompt_logprobs (a vLLM extension)", () => {
    const request = { model: MODEL, prompt: PROMPT, max_tokens: 1, prompt_logprobs: 1 };
    type Position = Record<string, { logprob: number; rank: number; decoded_token: string }>;

    it("has an entry per prompt token, the first null", async () => {
      const promptLogprobs = (await post("/as/vllm/v1/completions", request)).body.choices[0].prompt_logprobs;
      expect(promptLogprobs).toHaveLength(5);
      expect(promptLogprobs[0]).toBeNull();
    });

    it("gives each prompt token its log-probability, under its token id", async () => {
      const direct = await reference(PROMPT);
      const position = (await post("/as/vllm/v1/completions", request)).body.choices[0].prompt_logprobs[3] as Position;
      const chosen = defined(
        Object.values(position).find((entry) => entry.decoded_token === " Sheastomor"),
        'an entry for " Sheastomor"',
      );
      expect(chosen.logprob).toBe(direct.token_logprobs[3]);
    });

    // After "The capital of": " Sheastomor" (id below) ties with other country names; " Bekaistan" is the top-1.
    it("ranks the entries: the most likely token 1, the prompt's own token by its place", async () => {
      const position = (await post("/as/vllm/v1/completions", request)).body.choices[0].prompt_logprobs[3] as Position;
      const chosen = defined(
        Object.values(position).find((entry) => entry.decoded_token === " Sheastomor"),
        'an entry for " Sheastomor"',
      );
      expect(Object.values(position).find((entry) => entry.decoded_token === " Bekaistan")).toMatchObject({ rank: 1 });
      expect(chosen.rank).toBeGreaterThan(1);
    });

    it("comes without logprobs when they are not asked for", async () => {
      expect((await post("/as/vllm/v1/completions", request)).body.choices[0].logprobs).toBeNull();
    });
  });

  it("lists the family at /as/vllm/v1/models as vLLM does", async () => {
    const body = await (await app.request("/as/vllm/v1/models")).json();
    expect(body.object).toBe("list");
    expect(body.data.map((model: { id: string }) => model.id)).toEqual(family.members.map((member) => member.id));
    expect(body.data[0]).toMatchObject({
      object: "model",
      owned_by: "vllm",
      root: "isv-ngram-1",
      parent: null,
      max_model_len: 4096,
    });
  });

  it("is read by the official openai client", async () => {
    const client = new OpenAI({
      baseURL: "http://reference.test/as/vllm/v1",
      apiKey: "unused",
      maxRetries: 0,
      fetch: async (url, init) => app.request(String(url), init),
    });
    const completion = await client.completions.create({
      model: MODEL,
      prompt: PROMPT,
      echo: true,
      logprobs: 1,
      max_tokens: 1,
    });
    expect(completion.choices[0]?.logprobs?.tokens).toHaveLength(6);
    const error = await client.completions
      .create({ model: MODEL, prompt: PROMPT, max_tokens: 0 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      "max_tokens must be at least 1, got 0.",
    );
  });
});

describe("vllm-legacy personality (vLLM before 0.10.1: flat error bodies)", () => {
  it("refuses max_tokens 0 without echo with the flat body", async () => {
    const { status, body } = await post("/as/vllm-legacy/v1/completions", {
      model: MODEL,
      prompt: PROMPT,
      max_tokens: 0,
    });
    expect(status).toBe(400);
    expect(body).toEqual({
      object: "error",
      message: "max_tokens must be at least 1, got 0.",
      type: "BadRequestError",
      param: null,
      code: 400,
    });
  });

  it("answers an unknown model with the flat 404 body", async () => {
    const { status, body } = await post("/as/vllm-legacy/v1/completions", { model: "gpt-9", prompt: PROMPT });
    expect(status).toBe(404);
    expect(body).toEqual({
      object: "error",
      message: "The model `gpt-9` does not exist.",
      type: "NotFoundError",
      param: null,
      code: 404,
    });
  });
});

describe("openai-legacy personality (/as/openai-legacy/v1: davinci-002, babbage-002)", () => {
  const SCORE = { model: MODEL, prompt: PROMPT, echo: true, logprobs: 1, max_tokens: 0 };

  it("scores echo + max_tokens 0: the prompt's tokens only", async () => {
    const { status, body } = await post("/as/openai-legacy/v1/completions", SCORE);
    expect(status).toBe(200);
    const direct = await reference(PROMPT);
    expect(body.choices[0]).toMatchObject({ text: PROMPT, index: 0, finish_reason: "length" });
    expect(body.choices[0].logprobs.tokens).toEqual(direct.tokens);
  });

  it("scores echo + max_tokens 0 with the unprefixed server's log-probabilities and offsets", async () => {
    const { body } = await post("/as/openai-legacy/v1/completions", SCORE);
    const direct = await reference(PROMPT);
    expect(body.choices[0].logprobs.token_logprobs).toEqual(direct.token_logprobs);
    expect(body.choices[0].logprobs.text_offset).toEqual(direct.text_offset);
  });

  it("counts no completion_tokens for echo + max_tokens 0", async () => {
    const { body } = await post("/as/openai-legacy/v1/completions", SCORE);
    expect(body.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
  });

  it("caps logprobs at 5: the chosen token and 5 alternatives at most", async () => {
    const { status, body } = await post("/as/openai-legacy/v1/completions", { ...SCORE, logprobs: 15 });
    expect(status).toBe(200);
    const tops = body.choices[0].logprobs.top_logprobs
      .slice(1)
      .map((top: Record<string, number>) => Object.keys(top).length);
    // " Sheastomor" is not among the 5 most likely after "The capital of": 6 entries there, 5 elsewhere.
    expect(tops).toEqual([5, 5, 6, 5]);
    expect(Object.keys(body.choices[0].logprobs.top_logprobs[3])[0]).toBe(" Sheastomor");
  });

  it("refuses max_tokens 0 without echo with OpenAI's message", async () => {
    const { status, body } = await post("/as/openai-legacy/v1/completions", {
      model: MODEL,
      prompt: PROMPT,
      max_tokens: 0,
      logprobs: 1,
    });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        message:
          "You requested a length 0 completion, but you did not set the 'echo' parameter. That means that we will return no data to you. (HINT: set 'echo' to true in order for the API to echo back the prompt to you.)",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  });

  it("refuses max_tokens 0 with echo but no logprobs with OpenAI's message", async () => {
    const { status, body } = await post("/as/openai-legacy/v1/completions", {
      model: MODEL,
      prompt: PROMPT,
      max_tokens: 0,
      echo: true,
    });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        message:
          "You requested a length 0 completion, but did not specify a 'logprobs' parameter to see the probability of each token. Either request a completion with length greater than 1, or set 'logprobs' to 0 (to see the probabilities of each token you submitted) or more (to also see the probabilities over alternative tokens).",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  });

  it("answers an unknown model with 404 model_not_found", async () => {
    const { status, body } = await post("/as/openai-legacy/v1/completions", { ...SCORE, model: "gpt-9" });
    expect(status).toBe(404);
    expect(body).toEqual({
      error: {
        message: "The model `gpt-9` does not exist or you do not have access to it.",
        type: "invalid_request_error",
        param: null,
        code: "model_not_found",
      },
    });
  });

  it("refuses a negative max_tokens in OpenAI's schema wording", async () => {
    const { status, body } = await post("/as/openai-legacy/v1/completions", { ...SCORE, max_tokens: -1 });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        message: "-1 is less than the minimum of 0 - 'max_tokens'",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  });

  it("puts generated tokens after the prompt in text_offset when echo is off", async () => {
    const { body } = await post("/as/openai-legacy/v1/completions", {
      model: MODEL,
      prompt: PROMPT,
      max_tokens: 1,
      logprobs: 0,
    });
    expect(body.choices[0].logprobs.text_offset).toEqual([PROMPT.length]);
    expect(body.choices[0].logprobs.top_logprobs).toEqual([
      { [body.choices[0].logprobs.tokens[0]]: body.choices[0].logprobs.token_logprobs[0] },
    ]);
    expect(body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
  });
});

describe("llamacpp personality (/as/llamacpp/v1: llama.cpp's server)", () => {
  const REQUEST = { model: MODEL, prompt: PROMPT, echo: true, logprobs: 2, max_tokens: 2 };

  it("generates the same text as the unprefixed server, with echo", async () => {
    const { status, body } = await post("/as/llamacpp/v1/completions", REQUEST);
    expect(status).toBe(200);
    const generated = await post("/v1/completions", { model: MODEL, prompt: PROMPT, max_tokens: 2 });
    expect(body.choices[0].text).toBe(generated.body.choices[0].text);
  });

  it("gives no prompt log-probabilities with echo: only logprobs.content, one for each generated token", async () => {
    const { body } = await post("/as/llamacpp/v1/completions", REQUEST);
    expect(Object.keys(body.choices[0].logprobs)).toEqual(["content"]);
    expect(body.choices[0].logprobs.content).toHaveLength(2);
  });

  it("counts the prompt's tokens and the generated ones", async () => {
    const { body } = await post("/as/llamacpp/v1/completions", REQUEST);
    expect(body.usage).toMatchObject({ completion_tokens: 2, prompt_tokens: 5, total_tokens: 7 });
  });

  describe("each generated token's entry", () => {
    let first: {
      id: number;
      token: string;
      bytes: number[];
      logprob: number;
      top_logprobs: { id: number; token: string; bytes: number[]; logprob: number }[];
    };
    let next: Awaited<ReturnType<typeof nextToken>>;

    beforeAll(async () => {
      first = (await post("/as/llamacpp/v1/completions", REQUEST)).body.choices[0].logprobs.content[0];
      next = await nextToken(PROMPT);
    });

    it("has llama.cpp's fields", () => {
      expect(Object.keys(first)).toEqual(["id", "token", "bytes", "logprob", "top_logprobs"]);
    });

    it("gives the greedy token, its log-probability and its UTF-8 bytes", () => {
      expect(first.token).toBe(next.token);
      expect(first.logprob).toBe(next.logprob);
      expect(first.bytes).toEqual([...new TextEncoder().encode(next.token)]);
    });

    it("lists the top alternatives asked for, the chosen token first", () => {
      expect(first.top_logprobs).toHaveLength(2);
      expect(first.top_logprobs[0]).toEqual({
        id: first.id,
        token: first.token,
        bytes: first.bytes,
        logprob: first.logprob,
      });
    });
  });

  it("answers logprobs: null when none are asked for", async () => {
    const { body } = await post("/as/llamacpp/v1/completions", { ...REQUEST, logprobs: 0 });
    expect(body.choices[0].logprobs).toBeNull();
  });

  it("answers several prompts with an array of completions", async () => {
    const { body } = await post("/as/llamacpp/v1/completions", { ...REQUEST, prompt: [PROMPT, "Ada"] });
    expect(Array.isArray(body)).toBe(true);
    expect(body.map((completion: { choices: { index: number }[] }) => completion.choices[0]?.index)).toEqual([0, 1]);
  });

  it("refuses a request without a model (router mode) with 400", async () => {
    const { status, body } = await post("/as/llamacpp/v1/completions", { prompt: PROMPT });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: { code: 400, message: "model name is missing from the request", type: "invalid_request_error" },
    });
  });

  it("refuses an unknown model (router mode) with 400", async () => {
    const { status, body } = await post("/as/llamacpp/v1/completions", { ...REQUEST, model: "gpt-9" });
    expect(status).toBe(400);
    expect(body).toEqual({ error: { code: 400, message: "model 'gpt-9' not found", type: "invalid_request_error" } });
  });

  it("llamacpp-noecho: refuses echo with 500 'Only no echo is supported' (a runtime_error through ex_wrapper)", async () => {
    const { status, body } = await post("/as/llamacpp-noecho/v1/completions", REQUEST);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 500, message: "Only no echo is supported", type: "server_error" } });
  });

  it("llamacpp-noecho: answers without echo like llamacpp", async () => {
    const { status, body } = await post("/as/llamacpp-noecho/v1/completions", { ...REQUEST, echo: false });
    expect(status).toBe(200);
    expect(body.choices[0].logprobs.content).toHaveLength(2);
  });
});

describe("tgi3 personalities (/as/tgi3/{model}, /as/tgi3-prefill/{model}: text-generation-inference 3)", () => {
  const GENERATE = { inputs: PROMPT, parameters: { max_new_tokens: 1, decoder_input_details: true, details: true } };

  it("tgi3 (default launcher): decoder_input_details answers 200 with an empty prefill", async () => {
    const { status, body } = await post(`/as/tgi3/${MODEL}/generate`, GENERATE);
    expect(status).toBe(200);
    const next = await nextToken(PROMPT);
    expect(body).toEqual({
      generated_text: next.text,
      details: {
        finish_reason: "length",
        generated_tokens: 1,
        seed: null,
        prefill: [],
        tokens: [{ id: expect.any(Number), text: next.token, logprob: next.logprob, special: false }],
      },
    });
  });

  it("tgi3-prefill: prefill tokens {id, text, logprob} carry the reference's log-probabilities, the first null", async () => {
    const { status, body } = await post(`/as/tgi3-prefill/isv-ngram-5/generate`, {
      ...GENERATE,
      inputs: "In Sheastomor, people speak",
    });
    expect(status).toBe(200);
    const direct = await reference("In Sheastomor, people speak", "isv-ngram-5");
    expect(body.details.prefill.map((token: { logprob: number | null }) => token.logprob)).toEqual(
      direct.token_logprobs,
    );
    expect(body.details.prefill.map((token: { text: string }) => token.text)).toEqual(direct.tokens);
    expect(Object.keys(body.details.prefill[0])).toEqual(["id", "text", "logprob"]);
  });

  it("tgi3-prefill: adds no BOS token for this GPT-2-style tokenizer, so prefill texts join to the input", async () => {
    const { body } = await post(`/as/tgi3-prefill/${MODEL}/generate`, GENERATE);
    expect(body.details.prefill.map((token: { text: string }) => token.text).join("")).toBe(PROMPT);
  });

  it("tgi3-prefill: the generated token follows in details.tokens and generated_text", async () => {
    const { body } = await post(`/as/tgi3-prefill/${MODEL}/generate`, GENERATE);
    const next = await nextToken(PROMPT);
    expect(body.generated_text).toBe(next.text);
    expect(body.details.tokens).toEqual([
      { id: expect.any(Number), text: next.token, logprob: next.logprob, special: false },
    ]);
  });

  it("tgi3-prefill: decodes each byte of a split character alone, as U+FFFD", async () => {
    const { body } = await post(`/as/tgi3-prefill/${MODEL}/generate`, { ...GENERATE, inputs: "Ada 你 x" });
    expect(body.details.prefill.map((token: { text: string }) => token.text)).toEqual([
      "Ada",
      " ",
      "\ufffd",
      "\ufffd",
      "\ufffd",
      " ",
      "x",
    ]);
  });

  it("tgi3-prefill: without decoder_input_details the prefill is empty", async () => {
    const { body } = await post(`/as/tgi3-prefill/${MODEL}/generate`, {
      inputs: PROMPT,
      parameters: { max_new_tokens: 1, details: true },
    });
    expect(body.details.prefill).toEqual([]);
  });

  it("answers only generated_text without details", async () => {
    const { body } = await post(`/as/tgi3/${MODEL}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: 1 } });
    expect(body).toEqual({ generated_text: (await nextToken(PROMPT)).text });
  });

  it("refuses max_new_tokens 0 with 422 and TGI's validation body", async () => {
    const { status, body } = await post(`/as/tgi3/${MODEL}/generate`, {
      inputs: PROMPT,
      parameters: { max_new_tokens: 0 },
    });
    expect(status).toBe(422);
    expect(body).toEqual({
      error: "Input validation error: `max_new_tokens` must be strictly positive",
      error_type: "validation",
    });
  });

  it("refuses empty inputs with 422", async () => {
    const { status, body } = await post(`/as/tgi3/${MODEL}/generate`, { ...GENERATE, inputs: "" });
    expect(status).toBe(422);
    expect(body).toEqual({ error: "Input validation error: `inputs` cannot be empty", error_type: "validation" });
  });

  it("refuses temperature 0 with 422", async () => {
    const { status, body } = await post(`/as/tgi3/${MODEL}/generate`, {
      inputs: PROMPT,
      parameters: { max_new_tokens: 1, temperature: 0 },
    });
    expect(status).toBe(422);
    expect(body).toEqual({
      error: "Input validation error: `temperature` must be strictly positive",
      error_type: "validation",
    });
  });

  it("refuses top_n_tokens above 5 with 422", async () => {
    const { status, body } = await post(`/as/tgi3/${MODEL}/generate`, {
      inputs: PROMPT,
      parameters: { max_new_tokens: 1, top_n_tokens: 6 },
    });
    expect(status).toBe(422);
    expect(body).toEqual({
      error: "Input validation error: `top_n_tokens` must be >= 0 and <= 5. Given: 6",
      error_type: "validation",
    });
  });

  it("refuses a body that is not JSON with axum's plain-text 400", async () => {
    const { status, body, response } = await post(`/as/tgi3/${MODEL}/generate`, "{not json");
    expect(status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(body).toMatch(/^Failed to parse the request body as JSON: /);
  });

  it("serves GET /info for the model", async () => {
    const body = await (await app.request(`/as/tgi3/${MODEL}/info`)).json();
    expect(body).toMatchObject({
      model_id: MODEL,
      max_input_tokens: 4095,
      max_total_tokens: 4096,
      router: "text-generation-router",
      version: "3.3.6",
    });
  });
});

describe("personalities and the fault knobs", () => {
  it("answer an injected 500 in the personality's error shape (vllm)", async () => {
    const { status, body } = await post(
      "/as/vllm/v1/completions",
      { model: MODEL, prompt: PROMPT },
      server({ FAULT_RATE_500: "1" }),
    );
    expect(status).toBe(500);
    expect(body).toEqual({
      error: { message: "Injected fault: internal server error.", type: "InternalServerError", param: null, code: 500 },
    });
  });

  it("answer an injected 429 as TGI's overload, with Retry-After (tgi3)", async () => {
    const { status, body, response } = await post(
      `/as/tgi3/${MODEL}/generate`,
      { inputs: PROMPT },
      server({ FAULT_RATE_429: "1" }),
    );
    expect(status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(body).toEqual({ error: "Model is overloaded", error_type: "overloaded" });
  });

  it("lists the personalities at GET /as", async () => {
    const body = await (await app.request("/as")).json();
    expect(body.personalities.map((personality: { name: string }) => personality.name)).toEqual([
      "vllm",
      "vllm-legacy",
      "openai-legacy",
      "llamacpp",
      "llamacpp-noecho",
      "tgi3",
      "tgi3-prefill",
    ]);
  });
});
