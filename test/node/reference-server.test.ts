import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { trainReferenceFamily } from "../../src/reference/family";
import type { FaultVars } from "../../src/reference/faults";
import { LIMITS, createReferenceApp } from "../../src/reference/server";
import { defined } from "../defined";
import { ROOT } from "./helpers";

const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
/** A fresh server (fresh fault state) on the shared family; the Worker's entry wires the same app to its vars. */
const server = (vars: FaultVars = {}) => createReferenceApp({ family: () => family, vars: () => vars });

function complete(
  app: ReturnType<typeof server>,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    app.request("/v1/completions", {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    }),
  );
}

interface Completion {
  choices: {
    text: string;
    finish_reason: string;
    logprobs: {
      tokens: string[];
      token_logprobs: (number | null)[];
      top_logprobs: (Record<string, number> | null)[];
      text_offset: number[];
    } | null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const SCORE = { model: "isv-ngram-3", echo: true, max_tokens: 0, logprobs: 1 };

describe("reference server: completions", () => {
  it("lists the models with their scales", async () => {
    const body = await (await server().request("/v1/models")).json();
    expect(body.data.map((model: { id: string; order: number }) => [model.id, model.order])).toEqual(
      [1, 2, 3, 4, 5].map((order) => [`isv-ngram-${order}`, order]),
    );
    expect(body.data[4].parameters).toBe(defined(family.members[4], "the fifth member").parameters);
  });

  describe("scoring prompts with echo", () => {
    const prompts = ["The capital of Sheastomor is Steavougrad", "Ada asks: 你好 🙂"];
    let response: Response;
    let body: Completion;

    beforeAll(async () => {
      response = await complete(server(), { ...SCORE, prompt: prompts });
      body = (await response.clone().json()) as Completion;
    });

    it("answers 200 with each prompt echoed as its choice's text", () => {
      expect(response.status).toBe(200);
      body.choices.forEach((choice, index) => {
        expect(choice.text).toBe(prompts[index]);
      });
    });

    it("gives the first token no log-probability and no alternatives", () => {
      for (const choice of body.choices) {
        const logprobs = defined(choice.logprobs, "logprobs on every choice");
        expect(logprobs.token_logprobs[0]).toBeNull();
        expect(logprobs.top_logprobs[0]).toBeNull();
      }
    });

    it("gives every later token a log-probability of at most 0 and its one top alternative", () => {
      for (const choice of body.choices) {
        const logprobs = defined(choice.logprobs, "logprobs on every choice");
        expect(logprobs.token_logprobs.slice(1).every((value) => typeof value === "number" && value <= 0)).toBe(true);
        expect(logprobs.top_logprobs.slice(1).every((top) => top !== null && Object.keys(top).length === 1)).toBe(true);
      }
    });

    it("gives each token's offset in the prompt (tokens that are whole characters)", () => {
      body.choices.forEach((choice, index) => {
        const logprobs = defined(choice.logprobs, "logprobs on every choice");
        const prompt = defined(prompts[index], `a prompt for choice ${index}`);
        expect(logprobs.text_offset[0]).toBe(0);
        logprobs.tokens.forEach((token, i) => {
          if (!token.startsWith("bytes:")) expect(prompt.startsWith(token, logprobs.text_offset[i])).toBe(true);
        });
      });
    });

    it("counts every echoed token as a prompt token, and none as generated", () => {
      expect(body.usage.prompt_tokens).toBe(
        body.choices.reduce(
          (sum, choice) => sum + defined(choice.logprobs, "logprobs on every choice").tokens.length,
          0,
        ),
      );
      expect(body.usage.completion_tokens).toBe(0);
    });
  });

  it("returns the same numbers as the model computes directly", async () => {
    const body = (await (
      await complete(server(), { ...SCORE, model: "isv-ngram-5", prompt: "In Sheastomor, people speak" })
    ).json()) as Completion;
    const member = defined(family.member("isv-ngram-5"), "reference member isv-ngram-5");
    const direct = member.score("In Sheastomor, people speak", 1);
    expect(body.choices[0]?.logprobs?.token_logprobs).toEqual(direct.map((token) => token.logprob));
  });

  it("generates greedily for max_tokens > 0, stopping at stop", async () => {
    const body = (await (
      await complete(server(), {
        model: "isv-ngram-5",
        prompt: "The capital of Sheastomor is",
        max_tokens: 5,
        stop: ".",
      })
    ).json()) as Completion;
    expect(body.choices[0]).toMatchObject({ text: " Steavougrad", finish_reason: "stop", logprobs: null });
  });

  it("generates max_tokens tokens without stop, ending for length, with their log-probabilities", async () => {
    const long = (await (
      await complete(server(), { model: "isv-ngram-2", prompt: "Ada", max_tokens: 4, logprobs: 0 })
    ).json()) as Completion;
    expect(long.choices[0]?.finish_reason).toBe("length");
    expect(long.choices[0]?.logprobs?.tokens).toHaveLength(4);
    expect(long.usage.completion_tokens).toBe(4);
  });
});

describe("reference server: errors in OpenAI's shape", () => {
  it.each([
    [{ ...SCORE, model: "gpt-9" }, 404, "model"],
    [{ ...SCORE, logprobs: 6 }, 400, "logprobs"],
    [{ ...SCORE, max_tokens: -1 }, 400, "max_tokens"],
    [{ ...SCORE, temperature: 0.7 }, 400, "temperature"],
    [{ ...SCORE, prompt: [1, 2, 3] }, 400, "prompt"],
    [{ ...SCORE, stream: true }, 400, "stream"],
    [{ prompt: "x" }, 400, "model"],
    ["{not json", 400, "body"],
  ])("%j answers %i naming %s", async (body, status, param) => {
    const response = await complete(server(), body);
    expect(response.status).toBe(status);
    const error = (await response.json()).error;
    expect(error).toMatchObject({ param, type: status === 404 ? "not_found_error" : "invalid_request_error" });
    expect(error.message.length).toBeGreaterThan(10);
  });

  it("answers 413 for a body over the limit", async () => {
    const response = await complete(server(), { ...SCORE, prompt: "x".repeat(LIMITS.bodyBytes) });
    expect(response.status).toBe(413);
    expect((await response.json()).error.type).toBe("invalid_request_error");
  });
});

describe("reference server: fault and latency knobs", () => {
  const request = { ...SCORE, prompt: "Ada sees the old lamp" };

  it("are off by default", async () => {
    const app = server();
    for (let i = 0; i < 20; i++) expect((await complete(app, { ...request, prompt: `Ada ${i}` })).status).toBe(200);
  });

  it("inject 500s", async () => {
    expect((await complete(server({ FAULT_RATE_500: "1" }), request)).status).toBe(500);
  });

  it("inject 429s with Retry-After", async () => {
    const limited = await complete(server({ FAULT_RATE_429: "1" }), request);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
  });

  it("inject timeouts: 504 after the hold", async () => {
    const timedOut = await complete(server({ FAULT_RATE_TIMEOUT: "1", FAULT_TIMEOUT_MS: "50" }), request);
    expect(timedOut.status).toBe(504);
  });

  it("inject JSON cut short, under a 200", async () => {
    const malformed = await complete(server({ FAULT_RATE_MALFORMED: "1" }), request);
    expect(malformed.status).toBe(200);
    await expect(malformed.json()).rejects.toThrow(SyntaxError);
  });

  describe("with a seed", () => {
    const outcomes = async (seed: string): Promise<number[]> => {
      const app = server({ FAULT_SEED: seed, FAULT_RATE_500: "0.5" });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await complete(app, { ...request, prompt: `Ada ${i % 4}` })).status);
      return statuses;
    };
    let first: number[];

    beforeAll(async () => {
      first = await outcomes("7");
    });

    it("replay the same faults from a fresh server with the same seed", async () => {
      expect(await outcomes("7")).toEqual(first);
    });

    it("give a retry of the same request a fresh draw", () => {
      expect(first).toContain(500);
      expect(first).toContain(200);
    });

    it("draw other faults under another seed", async () => {
      expect(await outcomes("8")).not.toEqual(first);
    });
  });

  it("take a per-request latency from a header", async () => {
    const started = Date.now();
    expect((await complete(server(), request, { "x-fault-latency-ms": "120" })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
  });

  it("take a per-request fault rate from a header", async () => {
    expect((await complete(server(), request, { "x-fault-rate-500": "1" })).status).toBe(500);
  });

  it("refuse a bad value in a header (400), naming the knob", async () => {
    const bad = await complete(server(), request, { "x-fault-rate-429": "2" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toContain("FAULT_RATE_429");
  });

  it("cap concurrent requests, answering 429 with Retry-After beyond the cap", async () => {
    const app = server({ FAULT_MAX_CONCURRENCY: "2", FAULT_LATENCY_MS: "150" });
    const statuses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => complete(app, { ...request, prompt: `Ada ${i}` }).then((r) => r.status)),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(2);
    expect(statuses.filter((status) => status === 429)).toHaveLength(3);
  });
});
