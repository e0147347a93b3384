import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { hash53 } from "../../util/hash";
import {
  greedy,
  incrementalDecoder,
  isInteger,
  isRecord,
  nowSeconds,
  parseJson,
  promptList,
  stopList,
  tokenBytes,
  type Answer,
  type FaultErrorShape,
  type PersonalityHost,
} from "./shared";

/**
 * llama.cpp's server (`llama-server`), `POST /v1/completions`, from ggml-org/llama.cpp tools/server:
 *
 * - It returns log-probabilities for generated tokens only, never for the prompt, and not in the legacy
 *   completions format: `server_task_result_cmpl_final::to_json_oaicompat` puts
 *   `{"content": [{"id", "token", "bytes", "logprob", "top_logprobs": [{"id", "token", "bytes", "logprob"}]}]}`
 *   in `choices[0].logprobs` (`completion_token_output::probs_vector_to_json`), so there are no `tokens`,
 *   `token_logprobs` or `text_offset` at all; `logprobs` is null when none were asked for (`logprobs: 0` sets n_probs
 *   to 0). `text` is the generated text only.
 * - `echo` differs by version. Releases through at least the stored tools/server/server-common.cpp throw
 *   `std::runtime_error("Only no echo is supported")` in `oaicompat_completion_params_parse`; the route wrapper
 *   (`ex_wrapper` in server.cpp) turns a runtime_error into 500 `{"error": {"code": 500, "message": "Only no echo is
 *   supported", "type": "server_error"}}` (`format_error_response`). That is the `llamacpp-noecho` personality.
 *   ggml-org/llama.cpp #27174 (2026-08, master ece963f) reports that `echo: true` with `logprobs: N` is now accepted
 *   and "the logprobs.content array contains exactly completion_tokens entries, never the prompt tokens. No error, no
 *   warning": that is the `llamacpp` personality (echo is ignored; PRs #15189 and #17935, which would add prompt
 *   logprobs, are unmerged).
 * - Several prompts give a JSON array of completion objects, one per prompt (`arr.size() == 1 ? arr[0] : arr`).
 * - Models are picked by `model` as in router mode (`router_validate_model`): missing, 400 "model name is missing from
 *   the request"; unknown, 400 "model '…' not found"; both `{"error": {"code", "message", "type":
 *   "invalid_request_error"}}`. Responses carry an id starting "chatcmpl-" even here (#11346 shows one).
 *
 * Deviations: decoding is greedy; `max_tokens` absent means generating up to the context (4096 tokens) as
 * n_predict -1 does, since the reference family has no end-of-sequence token; streaming is refused.
 */

export type LlamaCppEcho = "ignored" | "refused";

export const LLAMACPP_LIMITS = { contextTokens: 4096 } as const;

type ErrorType = "invalid_request_error" | "server_error" | "not_found_error" | "unavailable_error";

export function llamaCppErrorBody(code: number, message: string, type: ErrorType) {
  return { error: { code, message, type } };
}

const fail = (
  c: Context,
  code: ContentfulStatusCode,
  message: string,
  type: ErrorType = "invalid_request_error",
): Response => c.json(llamaCppErrorBody(code, message, type), code);

async function completions(c: Context, host: PersonalityHost, echoMode: LlamaCppEcho, text: string): Promise<Answer> {
  const json = parseJson(text);
  // json::parse throws nlohmann's parse_error, a std::exception: 500 server_error via ex_wrapper.
  if (!json.ok) return fail(c, 500, `[json.exception.parse_error.101] parse error: ${json.message}`, "server_error");
  if (!isRecord(json.value)) return fail(c, 500, "[json.exception.type_error.302] type must be object", "server_error");
  const body = json.value;
  if (typeof body.model !== "string" || body.model === "")
    return fail(c, 400, "model name is missing from the request");
  const member = host.family().member(body.model);
  if (!member) return fail(c, 400, `model '${body.model}' not found`);
  if (body.prompt === undefined) return fail(c, 500, '"prompt" is required', "server_error");
  if (echoMode === "refused" && body.echo === true) return fail(c, 500, "Only no echo is supported", "server_error");
  for (const param of ["best_of", "suffix"])
    if (param in body) return fail(c, 500, `Unsupported param: ${param}`, "server_error");
  const prompts = promptList(body.prompt);
  if (!prompts)
    return fail(
      c,
      400,
      "The reference server takes `prompt` as a string or a list of strings (token ids are not supported).",
    );
  if (body.stream === true) return fail(c, 400, "The reference server does not stream.");
  const stops = stopList(body.stop);
  if (!stops) return fail(c, 400, "`stop` must be a string or a list of strings.");
  const nProbs = isInteger(body.n_probs) ? body.n_probs : isInteger(body.logprobs) ? body.logprobs : 0;
  const nPredict = isInteger(body.n_predict) ? body.n_predict : isInteger(body.max_tokens) ? body.max_tokens : -1;

  const results = prompts.map((prompt, index) => {
    const promptTokens = member.tokenizer.encode(prompt).length;
    const budget = Math.max(0, LLAMACPP_LIMITS.contextTokens - promptTokens);
    const run = greedy(member, prompt, nPredict < 0 ? budget : Math.min(nPredict, budget), Math.max(0, nProbs), stops);
    const piece = incrementalDecoder(member);
    const entry = (id: number, logprob: number) => {
      const bytes = tokenBytes(member, id);
      // validate_utf8 cuts an incomplete character off the token text (a lone byte of one shows as "").
      return { id, token: member.tokenizer.isByte(id) ? "" : member.tokenizer.textOf(id), bytes, logprob };
    };
    const logprobs =
      nProbs > 0 && run.ids.length > 0
        ? {
            content: run.steps.map(({ id, logprob, top }) => ({
              id,
              token: piece(id),
              bytes: tokenBytes(member, id),
              logprob,
              top_logprobs: top.map((alternative) => entry(alternative.id, alternative.logprob)),
            })),
          }
        : null;
    const created = nowSeconds();
    return {
      choices: [{ text: run.text, index, logprobs, finish_reason: run.finishReason === "stop" ? "stop" : "length" }],
      created,
      model: member.id,
      system_fingerprint: "b0000-isvref",
      object: "text_completion",
      usage: {
        completion_tokens: run.ids.length,
        prompt_tokens: promptTokens,
        total_tokens: run.ids.length + promptTokens,
        prompt_tokens_details: { cached_tokens: 0 },
      },
      id: `chatcmpl-${hash53(`${text}:${index}`).toString(36)}`,
      timings: { cache_n: 0, prompt_n: promptTokens, prompt_ms: 0, predicted_n: run.ids.length, predicted_ms: 0 },
    };
  });
  return { json: results.length === 1 ? results[0] : results };
}

const shape: FaultErrorShape = (c, status, message) => {
  const type: ErrorType =
    status === 400 ? "invalid_request_error" : status === 429 ? "unavailable_error" : "server_error";
  return c.json(llamaCppErrorBody(status, message, type), status);
};

/** Routes under /as/llamacpp (echo accepted and ignored) or /as/llamacpp-noecho (echo refused with 500). */
export function llamaCppApp(host: PersonalityHost, echo: LlamaCppEcho): Hono {
  const app = new Hono();
  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: host.family().members.map((member) => ({
        id: member.id,
        object: "model",
        created: nowSeconds(),
        owned_by: "llamacpp",
        meta: { n_vocab: member.tokenizer.size, n_ctx_train: LLAMACPP_LIMITS.contextTokens },
      })),
    }),
  );
  app.post("/v1/completions", host.limit, (c) => host.withFaults(c, (text) => completions(c, host, echo, text), shape));
  app.all("*", (c) => c.json(llamaCppErrorBody(404, "File Not Found", "not_found_error"), 404));
  return app;
}
