import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { hash53 } from "../../util/hash";
import type { ReferenceMember } from "../family";
import {
  decodeAlone,
  greedy,
  isInteger,
  isRecord,
  nowSeconds,
  parseJson,
  promptList,
  pythonLength,
  rankOf,
  scorePrompt,
  stopList,
  topMap,
  type Answer,
  type FaultErrorShape,
  type FaultStatus,
  type PersonalityHost,
} from "./shared";

/**
 * vLLM's OpenAI-compatible server (`vllm serve`), `POST /v1/completions` and `GET /v1/models`, as its source has it
 * (vllm-project/vllm: vllm/entrypoints/openai/completion/{protocol,serving}.py, engine/serving.py, exceptions.py,
 * sampling_params.py):
 *
 * - `max_tokens: 0` is refused with 400 "max_tokens must be at least 1, got 0." (SamplingParams._verify_args)
 *   UNLESS `echo` is true: `CompletionRequest.to_sampling_params` turns echo with max_tokens 0 into an internal
 *   max_tokens of 1 (`echo_without_generation`, since PR #2995, Feb 2024) and the response builder returns the prompt
 *   alone. The internal token is still counted in `usage.completion_tokens` (vLLM PR #39556 describes the leak;
 *   vLLM's Rust frontend PR #44938 says "Python vLLM supports the prompt-only completions case when echo=true").
 * - `echo: true` with max_tokens >= 1: `tokens`, `token_logprobs`, `top_logprobs` and `text_offset` cover the prompt
 *   (first token: null logprob, null top) and then the generated tokens; `text` is prompt + generated text (a real
 *   vLLM 0.16 response is quoted in ggml-org/llama.cpp PR #15189).
 * - `text_offset` is not an offset into the text: `_create_completion_logprobs` adds up the Python lengths of the
 *   token strings. Each token string is the token decoded alone, so a byte that is part of a multi-byte character
 *   shows as U+FFFD and every offset after such a character drifts from the real one.
 * - `top_logprobs[i]`: the chosen token first, then the `logprobs` most likely (so logprobs or logprobs+1 entries).
 * - `logprobs` (and `prompt_logprobs`) above `--max-logprobs` (default 20) are refused: "Requested sample logprobs of
 *   21, which is greater than max allowed: 20".
 * - Error bodies. Since vLLM 0.10.1 (PR #22099) `{"error": {"message", "type": "BadRequestError", "param", "code":
 *   400}}`; a VLLMValidationError names its parameter in `param` and appends " (parameter=…, value=…)" to the
 *   message (measured from a live server: `{"error":{"message":"max_tokens must be at least 1, got -46771.
 *   (parameter=max_tokens, value=-46771)","type":"BadRequestError","param":"max_tokens","code":400}}`). Before
 *   0.10.1 the body was flat: `{"object": "error", "message", "type", "param": null, "code"}` (vllm-project/vllm
 *   #12886, infiniflow/ragflow #10235). The `vllm-legacy` personality answers that way.
 *
 * Reference-server deviations: decoding is always greedy (temperature and seed are accepted and ignored), n > 1,
 * streaming and token-id prompts are refused, and every member of the family is served at one prefix.
 */

export type VllmVariant = "current" | "legacy";

/** vLLM's `--max-logprobs` default, and the context length the personality reports. */
export const VLLM_LIMITS = { maxLogprobs: 20, maxModelLen: 4096, defaultMaxTokens: 16 } as const;

type ErrorType = "BadRequestError" | "NotFoundError" | "InternalServerError" | "RateLimitError" | "TimeoutError";

interface ErrorSpec {
  status: ContentfulStatusCode;
  type: ErrorType;
  message: string;
  /** The parameter a VLLMValidationError names (current vLLM puts it in `param` and the message). */
  param?: string;
  value?: number | string;
  /** A plain error with a `param` but no message suffix (the unknown-model error). */
  plainParam?: string;
}

export function vllmErrorBody(variant: VllmVariant, spec: ErrorSpec): unknown {
  if (variant === "legacy")
    return { object: "error", message: spec.message, type: spec.type, param: null, code: spec.status };
  const extras = [
    spec.param !== undefined ? `parameter=${spec.param}` : "",
    spec.value !== undefined ? `value=${spec.value}` : "",
  ].filter(Boolean);
  const message = extras.length > 0 ? `${spec.message} (${extras.join(", ")})` : spec.message;
  return { error: { message, type: spec.type, param: spec.param ?? spec.plainParam ?? null, code: spec.status } };
}

const vllmError = (c: Context, variant: VllmVariant, spec: ErrorSpec): Response =>
  c.json(vllmErrorBody(variant, spec), spec.status);

const validation = (message: string, param?: string, value?: number | string): ErrorSpec => ({
  status: 400,
  type: "BadRequestError",
  message,
  param,
  value,
});

interface VllmRequest {
  model: ReferenceMember;
  prompts: string[];
  echo: boolean;
  logprobs: number | null;
  promptLogprobs: number | null;
  maxTokens: number;
  stops: string[];
}

type Parsed = { ok: true; request: VllmRequest } | { ok: false; error: ErrorSpec };

function parse(host: PersonalityHost, _variant: VllmVariant, text: string): Parsed {
  const fail = (error: ErrorSpec): Parsed => ({ ok: false, error });
  const json = parseJson(text);
  // FastAPI's validation errors become 400 BadRequestError in vLLM; their messages are pydantic's (approximated here).
  if (!json.ok) return fail(validation(`JSON decode error: ${json.message}`));
  if (!isRecord(json.value))
    return fail(validation("Input should be a valid dictionary or object to extract fields from"));
  const body = json.value;
  // Model validators that run before anything else (CompletionRequest.check_logprobs, validate_prompt_and_prompt_embeds).
  for (const field of ["prompt_logprobs", "logprobs"] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && typeof value !== "number")
      return fail(validation(`\`${field}\` must be an integer.`, field, String(value)));
  }
  const promptLogprobs = (body.prompt_logprobs ?? null) as number | null;
  if (promptLogprobs !== null && promptLogprobs < 0 && promptLogprobs !== -1) {
    return fail(validation("`prompt_logprobs` must be a positive value or -1.", "prompt_logprobs", promptLogprobs));
  }
  const logprobs = (body.logprobs ?? null) as number | null;
  if (logprobs !== null && logprobs < 0 && logprobs !== -1)
    return fail(validation("`logprobs` must be a positive value or -1.", "logprobs", logprobs));
  if (body.prompt === undefined || body.prompt === null || body.prompt === "") {
    return fail(validation("Either prompt or prompt_embeds must be provided and non-empty.", "prompt"));
  }
  const prompts = promptList(body.prompt);
  if (!prompts)
    return fail(
      validation(
        "The reference server takes `prompt` as a string or a list of strings (token ids are not supported).",
        "prompt",
      ),
    );
  if (body.stream === true) return fail(validation("The reference server does not stream.", "stream"));
  if ((body.n ?? 1) !== 1) return fail(validation("The reference server decodes greedily: `n` must be 1.", "n"));
  const echo = body.echo ?? false;
  if (typeof echo !== "boolean") return fail(validation("`echo`: Input should be a valid boolean"));
  const maxTokens = body.max_tokens ?? VLLM_LIMITS.defaultMaxTokens;
  if (!isInteger(maxTokens)) return fail(validation("`max_tokens`: Input should be a valid integer"));
  const stops = stopList(body.stop);
  if (!stops) return fail(validation("`stop`: Input should be a valid string or list of strings"));

  // OpenAIServing._check_model: the served names (a missing model means the default one).
  const family = host.family();
  const model = body.model === undefined || body.model === null ? family.members[0] : family.member(String(body.model));
  if (!model) {
    return fail({
      status: 404,
      type: "NotFoundError",
      message: `The model \`${String(body.model)}\` does not exist.`,
      plainParam: "model",
    });
  }
  return { ok: true, request: { model, prompts, echo, logprobs, promptLogprobs, maxTokens, stops } };
}

/** Length checks at rendering (OpenAIServing._validate_input), then SamplingParams and the engine's logprobs limit. */
function checkPrompt(variant: VllmVariant, request: VllmRequest, promptTokens: number): ErrorSpec | undefined {
  const { maxModelLen, maxLogprobs } = VLLM_LIMITS;
  if (variant === "legacy") {
    if (promptTokens + request.maxTokens > maxModelLen) {
      return validation(
        `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + request.maxTokens} tokens ` +
          `(${promptTokens} in the messages, ${request.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      );
    }
  } else {
    if (promptTokens >= maxModelLen) {
      return validation(
        `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptTokens} input tokens. ` +
          "Please reduce the length of the input messages.",
        "input_tokens",
        promptTokens,
      );
    }
    if (promptTokens + request.maxTokens > maxModelLen) {
      return validation(
        `'max_tokens' or 'max_completion_tokens' is too large: ${request.maxTokens}. This model's maximum context length is ${maxModelLen} tokens ` +
          `and your request has ${promptTokens} input tokens (${request.maxTokens} > ${maxModelLen} - ${promptTokens}).`,
        "max_tokens",
        request.maxTokens,
      );
    }
  }
  const echoWithoutGeneration = request.echo && request.maxTokens === 0;
  if (!echoWithoutGeneration && request.maxTokens < 1)
    return validation(`max_tokens must be at least 1, got ${request.maxTokens}.`, "max_tokens", request.maxTokens);
  const vocabulary = request.model.tokenizer.size;
  const sample = request.logprobs === -1 ? vocabulary : request.logprobs;
  if (sample !== null && sample > maxLogprobs) {
    return validation(
      `Requested sample logprobs of ${sample}, which is greater than max allowed: ${maxLogprobs}`,
      "logprobs",
      sample,
    );
  }
  const promptK = request.promptLogprobs ?? (request.echo ? request.logprobs : null);
  const prompt = promptK === -1 ? vocabulary : promptK;
  if (prompt !== null && prompt > maxLogprobs) {
    return validation(
      `Requested prompt logprobs of ${prompt}, which is greater than max allowed: ${maxLogprobs}`,
      "prompt_logprobs",
      prompt,
    );
  }
  return undefined;
}

async function completions(c: Context, host: PersonalityHost, variant: VllmVariant, text: string): Promise<Answer> {
  const parsed = parse(host, variant, text);
  if (!parsed.ok) return vllmError(c, variant, parsed.error);
  const request = parsed.request;
  const member = request.model;
  const choices: unknown[] = [];
  let promptTokens = 0;
  let completionTokens = 0;
  for (const [index, prompt] of request.prompts.entries()) {
    const tokenCount = member.tokenizer.encode(prompt).length;
    const refused = checkPrompt(variant, request, tokenCount);
    if (refused) return vllmError(c, variant, refused);
    const vocabulary = member.tokenizer.size;
    const sampleK = request.logprobs === -1 ? vocabulary : (request.logprobs ?? 0);
    // The engine computes prompt logprobs when asked for (prompt_logprobs), or for echo with logprobs.
    const promptK = request.promptLogprobs ?? (request.echo ? request.logprobs : null);
    const scored = scorePrompt(member, prompt, promptK === null ? 0 : promptK === -1 ? vocabulary : promptK);
    // echo with max_tokens 0 still generates one token inside the engine; the response leaves it out of the text.
    const run = greedy(member, prompt, Math.max(1, request.maxTokens), sampleK, request.stops);
    const promptOnly = request.echo && request.maxTokens === 0;
    const decode = (id: number) => decodeAlone(member, id);

    let logprobs: unknown = null;
    if (request.logprobs !== null) {
      const tokens: string[] = [];
      const tokenLogprobs: (number | null)[] = [];
      const topLogprobs: (Record<string, number> | null)[] = [];
      const keep = (map: Record<string, number>) => Object.fromEntries(Object.entries(map).slice(0, sampleK + 1));
      if (request.echo) {
        for (const token of scored) {
          tokens.push(decode(token.id));
          tokenLogprobs.push(token.logprob === null ? null : Math.max(token.logprob, -9999));
          topLogprobs.push(
            token.logprob === null ? null : keep(topMap({ id: token.id, logprob: token.logprob }, token.top, decode)),
          );
        }
      }
      if (!promptOnly) {
        for (const { id, logprob, top } of run.steps) {
          tokens.push(decode(id));
          tokenLogprobs.push(Math.max(logprob, -9999));
          topLogprobs.push(keep(topMap({ id, logprob }, top, decode)));
        }
      }
      // _create_completion_logprobs: each offset is the previous one plus the previous token string's length.
      const textOffset: number[] = [];
      let offset = 0;
      for (const token of tokens) {
        textOffset.push(offset);
        offset += pythonLength(token);
      }
      logprobs = { text_offset: textOffset, token_logprobs: tokenLogprobs, tokens, top_logprobs: topLogprobs };
    }

    let promptLogprobs: unknown = null;
    if (request.promptLogprobs !== null) {
      // RequestOutput.prompt_logprobs: null, then {token id: {logprob, rank, decoded_token}} for the chosen token and the top k.
      const ids = scored.map((token) => token.id);
      promptLogprobs = scored.map((token, at) => {
        if (token.logprob === null) return null;
        const entries: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
        entries[String(token.id)] = {
          logprob: token.logprob,
          rank: rankOf(member, ids, at, token.id),
          decoded_token: decode(token.id),
        };
        // The top k follow with ranks 1..k; a chosen token among them takes its entry's rank (a dict keeps the last value).
        // JSON objects list integer-like keys in ascending order, so the chosen token is not always first here.
        token.top.forEach((alternative, rank) => {
          entries[String(alternative.id)] = {
            logprob: alternative.logprob,
            rank: rank + 1,
            decoded_token: decode(alternative.id),
          };
        });
        return entries;
      });
    }

    choices.push({
      index,
      text: request.echo ? prompt + (promptOnly ? "" : run.text) : run.text,
      logprobs,
      finish_reason: run.finishReason,
      stop_reason: run.stopReason,
      prompt_logprobs: promptLogprobs,
    });
    promptTokens += tokenCount;
    completionTokens += run.ids.length;
  }
  return {
    json: {
      id: `cmpl-${hash53(text).toString(16).padStart(14, "0")}`,
      object: "text_completion",
      created: nowSeconds(),
      model: member.id,
      choices,
      service_tier: null,
      system_fingerprint: null,
      usage: {
        prompt_tokens: promptTokens,
        total_tokens: promptTokens + completionTokens,
        completion_tokens: completionTokens,
        prompt_tokens_details: null,
      },
      kv_transfer_params: null,
    },
  };
}

function faultShape(variant: VllmVariant): FaultErrorShape {
  const types: Record<FaultStatus, ErrorType> = {
    400: "BadRequestError",
    429: "RateLimitError",
    500: "InternalServerError",
    504: "TimeoutError",
  };
  return (c, status, message) => c.json(vllmErrorBody(variant, { status, type: types[status], message }), status);
}

/** Routes under /as/vllm (current vLLM) or /as/vllm-legacy (before 0.10.1). */
export function vllmApp(host: PersonalityHost, variant: VllmVariant): Hono {
  const app = new Hono();
  const shape = faultShape(variant);
  app.get("/v1/models", (c) => {
    const created = nowSeconds();
    return c.json({
      object: "list",
      data: host.family().members.map((member) => ({
        id: member.id,
        object: "model",
        created,
        owned_by: "vllm",
        root: member.id,
        parent: null,
        max_model_len: VLLM_LIMITS.maxModelLen,
        permission: [
          {
            id: `modelperm-${hash53(member.id).toString(16)}`,
            object: "model_permission",
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: "*",
            group: null,
            is_blocking: false,
          },
        ],
      })),
    });
  });
  app.post("/v1/completions", host.limit, (c) =>
    host.withFaults(c, (text) => completions(c, host, variant, text), shape),
  );
  // FastAPI's answer to an unknown route.
  app.all("*", (c) => c.json({ detail: "Not Found" }, 404));
  return app;
}
