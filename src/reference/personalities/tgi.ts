import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ReferenceMember } from "../family";
import {
  decodeAlone,
  greedy,
  incrementalDecoder,
  isInteger,
  isRecord,
  parseJson,
  scorePrompt,
  type Answer,
  type FaultErrorShape,
  type FaultStatus,
  type PersonalityHost,
} from "./shared";

/**
 * Hugging Face text-generation-inference 3.x, `POST /generate` (plus `GET /info`, `GET /health` and
 * `GET /v1/models`), for one model per endpoint: the reference serves each member at /as/tgi3/{model}/…. From
 * huggingface/text-generation-inference (router/src/{lib,server,validation}.rs, router/src/infer/mod.rs,
 * backends/v3/src/{backend,queue}.rs, launcher/src/main.rs, server/text_generation_server/models/flash_causal_lm.py):
 *
 * - Prefill log-probabilities are off unless the launcher runs with `--enable-prefill-logprobs` ("Logprobs in the
 *   prompt are deactivated by default because they consume a large amount of VRAM"), which sets REQUEST_LOGPROBS
 *   for the shards; without it flash_causal_lm.py sets `r.prefill_logprobs = False`, no Prefill message reaches the
 *   router, and `Infer::generate` keeps `result_prefill = Vec::new()`: with `decoder_input_details: true` the
 *   response has `details.prefill: []` and status 200. That is `tgi3`; `tgi3-prefill` is the launcher with the flag.
 * - With prefill on, each input token is `{id, text, logprob}`; the first token's logprob is NaN in Python, which
 *   serde_json writes as null. Token texts come from `tokenizer.batch_decode` of single ids, so a byte that is part
 *   of a multi-byte character reads U+FFFD. `decoder_input_details` also turns off prefix-cache reuse (queue.rs), so
 *   only the first token is null.
 * - No BOS is added for GPT-2-style tokenizers (the shard tokenizes with `add_special_tokens`, and GPT-2's, Pythia's
 *   and Qwen's tokenizers add none); Llama's and OPT's would put `<s>` / `</s>` first. The reference family's
 *   tokenizer is GPT-2-style, so the prefill starts with the input's first token.
 * - `details` (finish_reason, generated_tokens, seed: null when greedy, prefill, tokens[{id, text, logprob,
 *   special}], top_tokens when top_n_tokens > 0) comes back when `details` or `decoder_input_details` is true.
 * - Validation errors are 422 `{"error": "Input validation error: …", "error_type": "validation"}`
 *   (InferError::ValidationError, ValidationError messages in validation.rs); a body that is not JSON, or is JSON of
 *   the wrong shape, is refused by axum's Json extractor with a plain-text 400 or 422.
 *
 * Deviations: decoding is greedy whatever do_sample and temperature say (but temperature <= 0 is refused as TGI
 * does); best_of > 1, grammar and streaming are not offered.
 */

export type TgiPrefill = "disabled" | "enabled";

/** Launcher limits the personality reports in /info (TGI's defaults for a 4,096-position model). */
export const TGI_LIMITS = {
  maxInputTokens: 4095,
  maxTotalTokens: 4096,
  maxStopSequences: 4,
  maxTopNTokens: 5,
  maxBestOf: 2,
  version: "3.3.6",
} as const;

export const tgiErrorBody = (error: string, errorType: string) => ({ error, error_type: errorType });

const validationError = (c: Context, message: string): Response =>
  c.json(tgiErrorBody(`Input validation error: ${message}`, "validation"), 422);

const plain = (c: Context, status: ContentfulStatusCode, text: string): Response => c.text(text, status);

async function generate(c: Context, host: PersonalityHost, prefill: TgiPrefill, text: string): Promise<Answer> {
  const member = host.family().member(c.req.param("model") ?? "");
  if (!member) return c.json(tgiErrorBody(`model ${c.req.param("model")} is not served here`, "not_found"), 404);
  const json = parseJson(text);
  if (!json.ok) return plain(c, 400, `Failed to parse the request body as JSON: ${json.message}`);
  if (!isRecord(json.value) || typeof json.value.inputs !== "string") {
    return plain(
      c,
      422,
      "Failed to deserialize the JSON body into the target type: missing field `inputs` or `inputs` is not a string",
    );
  }
  const inputs = json.value.inputs;
  const parameters = json.value.parameters ?? {};
  if (!isRecord(parameters))
    return plain(
      c,
      422,
      "Failed to deserialize the JSON body into the target type: parameters: invalid type, expected struct GenerateParameters",
    );
  const flag = (name: string) => parameters[name] === true;
  const maxNew = parameters.max_new_tokens ?? null;
  const topN = parameters.top_n_tokens ?? null;
  const stops = parameters.stop ?? [];
  const temperature = parameters.temperature ?? null;
  if (
    (maxNew !== null && (!isInteger(maxNew) || maxNew < 0)) ||
    (topN !== null && (!isInteger(topN) || topN < 0)) ||
    (temperature !== null && typeof temperature !== "number")
  ) {
    return plain(c, 422, "Failed to deserialize the JSON body into the target type: parameters: invalid value");
  }
  if (!Array.isArray(stops) || !stops.every((stop): stop is string => typeof stop === "string")) {
    return plain(
      c,
      422,
      "Failed to deserialize the JSON body into the target type: parameters.stop: invalid type, expected a sequence of strings",
    );
  }
  // Validation::validate, in its order.
  if (isInteger(parameters.best_of) && parameters.best_of > 1)
    return validationError(c, "you must use sampling when `best_of` is > 1");
  if (temperature !== null && temperature <= 0) return validationError(c, "`temperature` must be strictly positive");
  if (maxNew === 0) return validationError(c, "`max_new_tokens` must be strictly positive");
  if (stops.length > TGI_LIMITS.maxStopSequences)
    return validationError(
      c,
      `\`stop\` supports up to ${TGI_LIMITS.maxStopSequences} stop sequences. Given: ${stops.length}`,
    );
  if (topN !== null && topN > TGI_LIMITS.maxTopNTokens)
    return validationError(c, `\`top_n_tokens\` must be >= 0 and <= ${TGI_LIMITS.maxTopNTokens}. Given: ${topN}`);
  if (inputs === "") return validationError(c, "`inputs` cannot be empty");
  const inputLength = member.tokenizer.encode(inputs).length;
  const newTokens = maxNew ?? Math.max(0, TGI_LIMITS.maxTotalTokens - inputLength);
  if (inputLength + newTokens > TGI_LIMITS.maxTotalTokens) {
    return validationError(
      c,
      `\`inputs\` tokens + \`max_new_tokens\` must be <= ${TGI_LIMITS.maxTotalTokens}. Given: ${inputLength} \`inputs\` tokens and ${newTokens} \`max_new_tokens\``,
    );
  }
  if (inputLength > TGI_LIMITS.maxInputTokens)
    return validationError(
      c,
      `\`inputs\` must have less than ${TGI_LIMITS.maxInputTokens} tokens. Given: ${inputLength}`,
    );

  const topK = topN ?? 0;
  const run = greedy(member, inputs, newTokens, topK, stops);
  const textOf = incrementalDecoder(member);
  const wantsPrefill = flag("decoder_input_details") && prefill === "enabled";
  const prefillTokens = wantsPrefill
    ? scorePrompt(member, inputs, 0).map((token) => ({
        id: token.id,
        text: decodeAlone(member, token.id),
        logprob: token.logprob,
      }))
    : [];
  const generatedText = (flag("return_full_text") ? inputs : "") + run.text;
  c.header("x-prompt-tokens", String(inputLength));
  c.header("x-generated-tokens", String(run.ids.length));
  if (!flag("details") && !flag("decoder_input_details")) return { json: { generated_text: generatedText } };
  return {
    json: {
      generated_text: generatedText,
      details: {
        finish_reason: run.finishReason === "stop" ? "stop_sequence" : "length",
        generated_tokens: run.ids.length,
        seed: null,
        prefill: prefillTokens,
        tokens: run.steps.map(({ id, logprob }) => ({ id, text: textOf(id), logprob, special: false })),
        ...(topK > 0
          ? {
              top_tokens: run.steps.map(({ top }) =>
                top.map((token) => ({
                  id: token.id,
                  text: decodeAlone(member, token.id),
                  logprob: token.logprob,
                  special: false,
                })),
              ),
            }
          : {}),
      },
    },
  };
}

function info(member: ReferenceMember) {
  return {
    model_id: member.id,
    model_sha: null,
    model_pipeline_tag: "text-generation",
    max_concurrent_requests: 128,
    max_best_of: TGI_LIMITS.maxBestOf,
    max_stop_sequences: TGI_LIMITS.maxStopSequences,
    max_input_tokens: TGI_LIMITS.maxInputTokens,
    max_total_tokens: TGI_LIMITS.maxTotalTokens,
    validation_workers: 2,
    max_client_batch_size: 4,
    router: "text-generation-router",
    version: TGI_LIMITS.version,
    sha: null,
    docker_label: null,
  };
}

// TGI's own overload answer is 429 {"error": "Model is overloaded", "error_type": "overloaded"}.
const shape: FaultErrorShape = (c, status, message) => {
  const types: Record<FaultStatus, string> = {
    400: "validation",
    429: "overloaded",
    500: "incomplete_generation",
    504: "timeout",
  };
  return c.json(tgiErrorBody(status === 429 ? "Model is overloaded" : message, types[status]), status);
};

/** Routes under /as/tgi3 (prefill log-probabilities off, TGI 3's default) or /as/tgi3-prefill (--enable-prefill-logprobs). */
export function tgiApp(host: PersonalityHost, prefill: TgiPrefill): Hono {
  const app = new Hono();
  const withMember = (c: Context, answer: (member: ReferenceMember) => Response): Response => {
    const member = host.family().member(c.req.param("model") ?? "");
    return member ? answer(member) : c.body(null, 404);
  };
  app.get("/:model/info", (c) => withMember(c, (member) => c.json(info(member))));
  app.get("/:model/health", (c) => withMember(c, () => c.body(null, 200)));
  app.get("/:model/v1/models", (c) =>
    withMember(c, (member) =>
      c.json({ object: "list", data: [{ id: member.id, object: "model", created: 0, owned_by: member.id }] }),
    ),
  );
  app.post("/:model/generate", host.limit, (c) =>
    host.withFaults(c, (text) => generate(c, host, prefill, text), shape),
  );
  // axum's answer to an unknown route: 404 with no body.
  app.all("*", (c) => c.body(null, 404));
  return app;
}
