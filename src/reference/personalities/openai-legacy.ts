import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { hash53 } from "../../util/hash";
import type { ReferenceMember } from "../family";
import {
  greedy,
  isInteger,
  isRecord,
  nowSeconds,
  parseJson,
  promptList,
  scorePrompt,
  stopList,
  topMap,
  type Answer,
  type FaultErrorShape,
  type PersonalityHost,
} from "./shared";

/**
 * OpenAI's legacy completions API as it serves davinci-002 and babbage-002 today, the last OpenAI models that score a
 * prompt with `echo` (EleutherAI/lm-evaluation-harness PR #2866 and its openai_completions.py: "Prompt loglikelihoods
 * are only supported by OpenAI's API for ['babbage-002', 'davinci-002']").
 *
 * - `echo: true, max_tokens: 0, logprobs: N` returns the prompt's tokens only, the first with null logprob and null
 *   top, `finish_reason: "length"`, and usage without `completion_tokens`. A davinci-002 response of June 2024 is
 *   recorded in a public repository (request `max_tokens=0, echo=True, logprobs=15`; response
 *   `usage=CompletionUsage(completion_tokens=None, prompt_tokens=14, total_tokens=14)`).
 * - `logprobs` above 5 is not refused but capped at 5: that response asked for 15 and got the chosen token plus 5
 *   alternatives per position; openai/openai-python #38 shows the same cap in 2021 ("The maximum value for logprobs
 *   is 5", OpenAI's API reference).
 * - `top_logprobs[i]`: the chosen token first, then the N most likely ("may be up to logprobs+1 elements").
 * - `text_offset` are offsets into prompt + completion; without echo they start at the prompt's length (#38 above).
 * - `max_tokens: 0` without echo, or with echo but no logprobs, is refused with 400 and OpenAI's messages, quoted
 *   from public repositories: "You requested a length 0 completion, but you did not set the 'echo' parameter. …" and
 *   "You requested a length 0 completion, but did not specify a 'logprobs' parameter to see the probability of each
 *   token. …", both `{"error": {"message", "type": "invalid_request_error", "param": null, "code": null}}`.
 * - Range errors read like "0 is less than the minimum of 1 - 'max_tokens'" (henrycunh/golem #44); an unknown model
 *   is 404 "The model `…` does not exist or you do not have access to it." with code "model_not_found".
 *
 * Deviations: decoding is greedy whatever the temperature; n > 1, streaming, best_of and token-id prompts are refused;
 * tokens split into bytes show as "bytes:\xNN" like OpenAI's, and offsets count UTF-16 code units. With `logprobs: 0`
 * the top map holds the chosen token alone (OpenAI's docs: "will always return the logprob of the sampled token").
 */

export const OPENAI_LEGACY_LIMITS = { maxLogprobs: 5, contextTokens: 16384, defaultMaxTokens: 16 } as const;

type ErrorType = "invalid_request_error" | "server_error" | "rate_limit_error";

export function openAiErrorBody(
  message: string,
  type: ErrorType,
  param: string | null = null,
  code: string | null = null,
) {
  return { error: { message, type, param, code } };
}

const fail = (
  c: Context,
  status: ContentfulStatusCode,
  message: string,
  param: string | null = null,
  code: string | null = null,
): Response => c.json(openAiErrorBody(message, "invalid_request_error", param, code), status);

interface LegacyRequest {
  member: ReferenceMember;
  prompts: string[];
  echo: boolean;
  logprobs: number | null;
  maxTokens: number;
  stops: string[];
}

function parse(
  c: Context,
  host: PersonalityHost,
  text: string,
): { ok: true; request: LegacyRequest } | { ok: false; response: Response } {
  const refuse = (response: Response) => ({ ok: false as const, response });
  const json = parseJson(text);
  if (!json.ok) {
    return refuse(
      fail(
        c,
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      ),
    );
  }
  if (!isRecord(json.value)) return refuse(fail(c, 400, "The body must be a JSON object."));
  const body = json.value;
  if (typeof body.model !== "string" || body.model === "")
    return refuse(fail(c, 400, "you must provide a model parameter"));
  const prompts = promptList(body.prompt ?? "<|endoftext|>");
  if (!prompts)
    return refuse(
      fail(
        c,
        400,
        "The reference server takes `prompt` as a string or a list of strings (token ids are not supported).",
        "prompt",
      ),
    );
  const echo = body.echo ?? false;
  if (typeof echo !== "boolean") return refuse(fail(c, 400, `'${String(echo)}' is not of type 'boolean' - 'echo'`));
  const logprobs = body.logprobs ?? null;
  if (logprobs !== null && !isInteger(logprobs))
    return refuse(fail(c, 400, `'${String(logprobs)}' is not of type 'integer' - 'logprobs'`));
  if (logprobs !== null && logprobs < 0)
    return refuse(fail(c, 400, `${logprobs} is less than the minimum of 0 - 'logprobs'`));
  const maxTokens = body.max_tokens ?? OPENAI_LEGACY_LIMITS.defaultMaxTokens;
  if (!isInteger(maxTokens))
    return refuse(fail(c, 400, `'${String(maxTokens)}' is not of type 'integer' - 'max_tokens'`));
  if (maxTokens < 0) return refuse(fail(c, 400, `${maxTokens} is less than the minimum of 0 - 'max_tokens'`));
  const stops = stopList(body.stop);
  if (!stops || stops.length > 4)
    return refuse(fail(c, 400, "`stop` must be a string or a list of up to 4 strings.", "stop"));
  if (body.stream === true) return refuse(fail(c, 400, "The reference server does not stream.", "stream"));
  if ((body.n ?? 1) !== 1 || (body.best_of ?? 1) !== 1)
    return refuse(fail(c, 400, "The reference server decodes greedily: `n` and `best_of` must be 1.", "n"));
  const member = host.family().member(body.model);
  if (!member)
    return refuse(
      fail(
        c,
        404,
        `The model \`${body.model}\` does not exist or you do not have access to it.`,
        null,
        "model_not_found",
      ),
    );
  if (maxTokens === 0 && !echo) {
    return refuse(
      fail(
        c,
        400,
        "You requested a length 0 completion, but you did not set the 'echo' parameter. That means that we will return no data to you. (HINT: set 'echo' to true in order for the API to echo back the prompt to you.)",
      ),
    );
  }
  if (maxTokens === 0 && logprobs === null) {
    return refuse(
      fail(
        c,
        400,
        "You requested a length 0 completion, but did not specify a 'logprobs' parameter to see the probability of each token. Either request a completion with length greater than 1, or set 'logprobs' to 0 (to see the probabilities of each token you submitted) or more (to also see the probabilities over alternative tokens).",
      ),
    );
  }
  return {
    ok: true,
    request: {
      member,
      prompts,
      echo,
      logprobs: logprobs === null ? null : Math.min(logprobs, OPENAI_LEGACY_LIMITS.maxLogprobs),
      maxTokens,
      stops,
    },
  };
}

async function completions(c: Context, host: PersonalityHost, text: string): Promise<Answer> {
  const parsed = parse(c, host, text);
  if (!parsed.ok) return parsed.response;
  const { member, prompts, echo, logprobs, maxTokens, stops } = parsed.request;
  const k = logprobs ?? 0;
  const show = (id: number) => member.tokenizer.textOf(id);
  let promptTokens = 0;
  let completionTokens = 0;
  const choices = prompts.map((prompt, index) => {
    const encoded = member.tokenizer.encode(prompt);
    const run = maxTokens > 0 ? greedy(member, prompt, maxTokens, k, stops) : undefined;
    promptTokens += encoded.length;
    completionTokens += run?.ids.length ?? 0;
    let lp: unknown = null;
    if (logprobs !== null) {
      const tokens: string[] = [];
      const tokenLogprobs: (number | null)[] = [];
      const topLogprobs: (Record<string, number> | null)[] = [];
      const textOffset: number[] = [];
      if (echo) {
        for (const token of scorePrompt(member, prompt, k)) {
          tokens.push(show(token.id));
          tokenLogprobs.push(token.logprob);
          topLogprobs.push(
            token.logprob === null ? null : topMap({ id: token.id, logprob: token.logprob }, token.top, show),
          );
          textOffset.push(token.offset);
        }
      }
      if (run) {
        // Generated tokens' offsets continue from the end of the prompt, in the completion's text.
        let offset = prompt.length;
        const decoder = new TextDecoder();
        for (const { id, logprob, top } of run.steps) {
          tokens.push(show(id));
          tokenLogprobs.push(logprob);
          topLogprobs.push(topMap({ id, logprob }, top, show));
          textOffset.push(offset);
          offset += member.tokenizer.isByte(id)
            ? decoder.decode(new Uint8Array([member.tokenizer.byteOf(id)]), { stream: true }).length
            : decoder.decode().length + show(id).length;
        }
      }
      lp = { tokens, token_logprobs: tokenLogprobs, top_logprobs: topLogprobs, text_offset: textOffset };
    }
    return {
      text: (echo ? prompt : "") + (run?.text ?? ""),
      index,
      logprobs: lp,
      finish_reason: run?.finishReason ?? "length",
    };
  });
  const usage =
    maxTokens === 0
      ? { prompt_tokens: promptTokens, total_tokens: promptTokens }
      : {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        };
  return {
    json: {
      id: `cmpl-${hash53(text).toString(36)}`,
      object: "text_completion",
      created: nowSeconds(),
      model: member.id,
      choices,
      usage,
    },
  };
}

const shape: FaultErrorShape = (c, status, message) => {
  const type: ErrorType =
    status === 400 ? "invalid_request_error" : status === 429 ? "rate_limit_error" : "server_error";
  return c.json(openAiErrorBody(message, type, null, status === 429 ? "rate_limit_exceeded" : null), status);
};

/** Routes under /as/openai-legacy. */
export function openAiLegacyApp(host: PersonalityHost): Hono {
  const app = new Hono();
  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: host
        .family()
        .members.map((member) => ({ id: member.id, object: "model", created: 1692634615, owned_by: "system" })),
    }),
  );
  app.post("/v1/completions", host.limit, (c) => host.withFaults(c, (text) => completions(c, host, text), shape));
  app.all("*", (c) =>
    c.json(
      openAiErrorBody(
        `Invalid URL (${c.req.method} ${c.req.path.replace(/^\/as\/openai-legacy/, "")})`,
        "invalid_request_error",
      ),
      404,
    ),
  );
  return app;
}
