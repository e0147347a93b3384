import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { hash53 } from "../util/hash";
import type { ReferenceFamily, ReferenceMember, ScoredToken } from "./family";
import { FaultInjector, faultSettings, type FaultVars } from "./faults";
import { mountPersonalities, type FaultErrorShape } from "./personalities";

/**
 * The OpenAI legacy completions API (`POST /v1/completions`, `GET /v1/models`) over the reference family, close
 * enough to OpenAI's that its official client parses the responses. Scoring a prompt is `echo: true,
 * max_tokens: 0, logprobs: N`: every prompt token with its log-probability, top alternatives and text offset.
 */

export const LIMITS = { bodyBytes: 8 * 1024 * 1024, prompts: 2048, maxTokens: 256, topLogprobs: 5 } as const;

type OpenAiErrorType = "invalid_request_error" | "not_found_error" | "rate_limit_error" | "server_error";

function openAiError(
  c: Context,
  status: ContentfulStatusCode,
  type: OpenAiErrorType,
  message: string,
  param: string | null = null,
  code: string | null = null,
) {
  return c.json({ error: { message, type, param, code } }, status);
}

interface CompletionRequest {
  model: string;
  prompts: string[];
  echo: boolean;
  logprobs: number | null;
  maxTokens: number;
  stop: string[];
}

type Parsed = { ok: true; request: CompletionRequest } | { ok: false; message: string; param: string };

/** Reads the body as OpenAI does: unknown fields are ignored, known ones must have the right type and range. */
export function parseCompletionRequest(body: unknown): Parsed {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, message: "The body must be a JSON object.", param: "body" };
  const fields = body as Record<string, unknown>;
  const fail = (param: string, message: string): Parsed => ({ ok: false, message, param });
  if (typeof fields.model !== "string" || fields.model === "")
    return fail("model", "`model` is required and must be a string.");
  const prompt = fields.prompt ?? "<|endoftext|>";
  const prompts = typeof prompt === "string" ? [prompt] : prompt;
  if (
    !Array.isArray(prompts) ||
    prompts.length === 0 ||
    !prompts.every((item): item is string => typeof item === "string")
  ) {
    return fail("prompt", "`prompt` must be a string or a non-empty list of strings (token arrays are not supported).");
  }
  if (prompts.length > LIMITS.prompts) return fail("prompt", `At most ${LIMITS.prompts} prompts per request.`);
  const echo = fields.echo ?? false;
  if (typeof echo !== "boolean") return fail("echo", "`echo` must be a boolean.");
  const logprobs = fields.logprobs ?? null;
  if (
    logprobs !== null &&
    (!Number.isInteger(logprobs) || (logprobs as number) < 0 || (logprobs as number) > LIMITS.topLogprobs)
  ) {
    return fail("logprobs", `\`logprobs\` must be an integer from 0 to ${LIMITS.topLogprobs}.`);
  }
  const maxTokens = fields.max_tokens ?? 16;
  if (!Number.isInteger(maxTokens) || (maxTokens as number) < 0 || (maxTokens as number) > LIMITS.maxTokens) {
    return fail("max_tokens", `\`max_tokens\` must be an integer from 0 to ${LIMITS.maxTokens}.`);
  }
  const temperature = fields.temperature ?? 0;
  if (temperature !== 0) return fail("temperature", "The reference models decode greedily: `temperature` must be 0.");
  if ((fields.n ?? 1) !== 1 || (fields.best_of ?? 1) !== 1) return fail("n", "`n` and `best_of` must be 1.");
  if (fields.stream === true) return fail("stream", "Streaming is not supported.");
  const stop = fields.stop ?? [];
  const stops = typeof stop === "string" ? [stop] : stop;
  if (
    !Array.isArray(stops) ||
    stops.length > 4 ||
    !stops.every((item): item is string => typeof item === "string" && item !== "")
  ) {
    return fail("stop", "`stop` must be a string or a list of up to 4 non-empty strings.");
  }
  return {
    ok: true,
    request: {
      model: fields.model,
      prompts,
      echo,
      logprobs: logprobs as number | null,
      maxTokens: maxTokens as number,
      stop: stops,
    },
  };
}

function completionChoice(member: ReferenceMember, prompt: string, request: CompletionRequest, index: number) {
  const topK = request.logprobs ?? 0;
  const promptTokens = request.echo
    ? member.score(prompt, topK)
    : member.tokenizer.encode(prompt).map((token) => ({ ...token, logprob: null, top: null }));
  const generation = member.generate(prompt, request.maxTokens, topK, request.stop);
  const shown: ScoredToken[] = request.echo ? [...promptTokens, ...generation.tokens] : generation.tokens;
  const topLogprobs = (token: ScoredToken) =>
    token.top === null
      ? null
      : Object.fromEntries(
          token.top.map((alternative) => [member.tokenizer.textOf(alternative.id), alternative.logprob]),
        );
  return {
    choice: {
      text: (request.echo ? prompt : "") + generation.text,
      index,
      logprobs:
        request.logprobs === null
          ? null
          : {
              tokens: shown.map((token) => token.text),
              token_logprobs: shown.map((token) => token.logprob),
              top_logprobs: shown.map((token) => (topK === 0 && token.logprob !== null ? {} : topLogprobs(token))),
              text_offset: shown.map((token) => token.offset),
            },
      finish_reason: generation.finishReason,
    },
    promptTokens: promptTokens.length,
    completionTokens: generation.tokens.length,
  };
}

export interface ReferenceAppOptions {
  /** The family, trained on first use and kept for the isolate's life. */
  family: () => ReferenceFamily;
  /** Fault settings from the Worker's vars. */
  vars: (c: Context) => FaultVars;
}

export function createReferenceApp({ family, vars }: ReferenceAppOptions): Hono {
  const app = new Hono();
  const faults = new FaultInjector();

  app.get("/", (c) =>
    c.json({ service: "isv reference model family", models: "/v1/models", completions: "/v1/completions" }),
  );

  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: family().members.map((member) => ({
        id: member.id,
        object: "model",
        created: 0,
        owned_by: "isv-reference",
        order: member.model.order,
        parameters: member.parameters,
        // The RLHF stand-in's members (rlhf.ts) also say how many steps they stand for.
        ...(member.rlhfSteps === undefined ? {} : { rlhf_steps: member.rlhfSteps }),
      })),
    }),
  );

  const limit = bodyLimit({
    maxSize: LIMITS.bodyBytes,
    onError: (c) =>
      openAiError(c, 413, "invalid_request_error", `The request body is larger than ${LIMITS.bodyBytes} bytes.`),
  });
  app.post("/v1/completions", limit, (c) => withFaults(c, (text) => completions(c, text)));
  app.post("/tgi/:model/generate", limit, (c) => withFaults(c, (text) => tgiGenerate(c, text)));
  // Provider personalities (vLLM, OpenAI's legacy models, llama.cpp, TGI 3) under /as/{name}/...: see personalities/.
  mountPersonalities(app, { family, limit, withFaults: (c, answer, shape) => withFaults(c, answer, shape) });

  /** The unprefixed routes' errors: OpenAI's shape. */
  const openAiFaultShape: FaultErrorShape = (c, status, message) => {
    const type = status === 400 ? "invalid_request_error" : status === 429 ? "rate_limit_error" : "server_error";
    return openAiError(
      c,
      status,
      type,
      message,
      status === 400 ? "headers" : null,
      status === 429 ? "rate_limit_exceeded" : null,
    );
  };

  /**
   * The fault and latency knobs around a handler: the concurrency cap, added latency, and the seeded draw of
   * an injected 500, 429, timeout or cut-short body. The handler answers with JSON to send, or an error Response.
   */
  async function withFaults(
    c: Context,
    answer: (text: string) => Promise<{ json: unknown } | Response>,
    shape: FaultErrorShape = openAiFaultShape,
  ): Promise<Response> {
    const configured = faultSettings(vars(c), (name) => c.req.header(name));
    if (!configured.ok) return shape(c, 400, configured.message);
    const settings = configured.settings;
    if (settings.maxConcurrency > 0 && faults.inFlight >= settings.maxConcurrency) {
      c.header("retry-after", "1");
      return shape(c, 429, `More than ${settings.maxConcurrency} requests at once; retry after 1 second.`);
    }
    faults.inFlight++;
    try {
      const text = await c.req.text();
      if (settings.latencyMs > 0) await sleep(settings.latencyMs);
      const fault = faults.draw(settings, text);
      if (fault === "server_error") return shape(c, 500, "Injected fault: internal server error.");
      if (fault === "rate_limited") {
        c.header("retry-after", "1");
        return shape(c, 429, "Injected fault: rate limit reached; retry after 1 second.");
      }
      if (fault === "timeout") {
        await sleep(settings.timeoutMs);
        return shape(c, 504, "Injected fault: the request timed out.");
      }
      const result = await answer(text);
      if (result instanceof Response) return result;
      if (fault === "malformed") {
        // Cut the JSON short, as a connection dropped mid-body would.
        const json = JSON.stringify(result.json);
        return c.body(json.slice(0, Math.max(1, Math.floor(json.length / 2))), 200, {
          "content-type": "application/json",
        });
      }
      return c.json(result.json);
    } finally {
      faults.inFlight--;
    }
  }

  async function completions(c: Context, text: string): Promise<{ json: unknown } | Response> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return openAiError(c, 400, "invalid_request_error", "The body is not valid JSON.", "body");
    }
    const parsed = parseCompletionRequest(body);
    if (!parsed.ok) return openAiError(c, 400, "invalid_request_error", parsed.message, parsed.param);
    const request = parsed.request;
    const member = family().member(request.model);
    if (!member)
      return openAiError(
        c,
        404,
        "not_found_error",
        `The model \`${request.model}\` does not exist.`,
        "model",
        "model_not_found",
      );

    let promptTokens = 0;
    let completionTokens = 0;
    const choices = request.prompts.map((prompt, index) => {
      const result = completionChoice(member, prompt, request, index);
      promptTokens += result.promptTokens;
      completionTokens += result.completionTokens;
      return result.choice;
    });
    return {
      json: {
        id: `cmpl-${hash53(text).toString(36)}`,
        object: "text_completion",
        created: Math.floor(Date.now() / 1000),
        model: member.id,
        choices,
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      },
    };
  }

  /**
   * Hugging Face text-generation-inference's `/generate` for one model: with `decoder_input_details`, the
   * response lists every input token with its log-probability (`details.prefill`, the first null), as TGI does.
   * A character split into bytes shows whole on its first byte token and empty on the rest, so token texts
   * still join to the input.
   */
  async function tgiGenerate(c: Context, text: string): Promise<{ json: unknown } | Response> {
    const member = family().member(c.req.param("model") ?? "");
    if (!member)
      return c.json({ error: `model ${c.req.param("model")} is not served here`, error_type: "not_found" }, 404);
    let body: { inputs?: unknown; parameters?: { max_new_tokens?: unknown; decoder_input_details?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return c.json({ error: "the body is not valid JSON", error_type: "validation" }, 422);
    }
    if (typeof body.inputs !== "string" || body.inputs === "")
      return c.json({ error: "`inputs` must be a non-empty string", error_type: "validation" }, 422);
    const maxNew = body.parameters?.max_new_tokens ?? 1;
    if (!Number.isInteger(maxNew) || (maxNew as number) < 1 || (maxNew as number) > LIMITS.maxTokens) {
      return c.json(
        { error: `max_new_tokens must be an integer from 1 to ${LIMITS.maxTokens}`, error_type: "validation" },
        422,
      );
    }
    const inputs = body.inputs;
    const scored = member.score(inputs, 0);
    const prefill = scored.map((token, i) => {
      const starts = scored[i - 1]?.offset !== token.offset;
      const end = scored.find((next) => next.offset > token.offset)?.offset ?? inputs.length;
      return { id: token.id, text: starts ? inputs.slice(token.offset, end) : "", logprob: token.logprob };
    });
    const generation = member.generate(inputs, maxNew as number, 0);
    return {
      json: {
        generated_text: generation.text,
        details: {
          finish_reason: generation.finishReason === "length" ? "length" : "stop_sequence",
          generated_tokens: generation.tokens.length,
          seed: null,
          prefill: body.parameters?.decoder_input_details === true ? prefill : [],
          tokens: generation.tokens.map((token) => ({
            id: token.id,
            text: token.text,
            logprob: token.logprob,
            special: false,
          })),
        },
      },
    };
  }

  app.notFound((c) => openAiError(c, 404, "not_found_error", `Nothing at ${c.req.method} ${c.req.path}.`));
  app.onError((error, c) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return openAiError(c, 500, "server_error", "The reference server failed; this is a bug.");
  });
  return app;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
