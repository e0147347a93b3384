import type { StoredFamily } from "./stored-family";
import type { ScoredText } from "./metrics";

/**
 * Inference providers behind one interface: score whole texts, returning each token's offset and log-probability.
 * Every failure becomes a ProviderError that says whether retrying can help and how long the provider asked to wait.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ScoringAdapter {
  readonly name: "openai-completions" | "tgi";
  /** Part of the cache key: bump when a change alters what is requested or how a response is read. */
  readonly version: string;
  readonly promptsPerRequest: number;
  score(model: string, texts: string[]): Promise<ScoredText[]>;
}

export interface AdapterOptions {
  baseUrl: string;
  apiKey?: string;
  promptsPerRequest?: number;
  timeoutMs?: number;
  /**
   * openai-completions: tokens generated after the echoed prompt. vLLM and most servers refuse 0 ("max_tokens
   * must be at least 1"), so 1 is the default and the generated token is dropped; OpenAI's legacy models take 0.
   */
  maxTokens?: 0 | 1;
  /** For tests: where requests go (defaults to the global fetch). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** A provider API key from the Worker's secrets (or the CLI's environment), by the name a family gives. */
function secret(secrets: object, name: string): string | undefined {
  const value: unknown = Reflect.get(secrets, name);
  return typeof value === "string" ? value : undefined;
}

/** The adapter a family's definition asks for, with its API key from `secrets` (never stored in the family). */
export function adapterFor(family: StoredFamily, secrets: object, fetcher?: (input: string, init: RequestInit) => Promise<Response>): ScoringAdapter {
  if (family.adapter === "external" || !family.baseUrl) {
    throw new ProviderError(`family ${family.name} is run elsewhere (adapter ${family.adapter}): upload its results instead`, false);
  }
  const apiKey = family.apiKeySecret ? secret(secrets, family.apiKeySecret) : undefined;
  if (family.apiKeySecret && typeof apiKey !== "string") throw new ProviderError(`the secret ${family.apiKeySecret} for family ${family.name} is not set`, false);
  const options: AdapterOptions = {
    baseUrl: family.baseUrl,
    promptsPerRequest: family.limits?.promptsPerRequest ?? 20,
    ...(family.scoring?.maxTokens !== undefined ? { maxTokens: family.scoring.maxTokens } : {}),
    ...(typeof apiKey === "string" ? { apiKey } : {}),
    ...(fetcher ? { fetch: fetcher } : {}),
  };
  return family.adapter === "tgi" ? tgiAdapter(options) : openAiCompletionsAdapter(options);
}

/**
 * OpenAI-compatible legacy completions (OpenAI's completion models, vLLM, Together-style servers, the reference
 * family): `echo: true, logprobs: 1` returns every prompt token with its log-probability and offset, followed by
 * `max_tokens` generated tokens, which are dropped: only the text's own tokens are scored.
 */
export function openAiCompletionsAdapter(options: AdapterOptions): ScoringAdapter {
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const promptsPerRequest = options.promptsPerRequest ?? 20;
  const maxTokens = options.maxTokens ?? 1;
  return {
    name: "openai-completions",
    version: "openai-completions/2",
    promptsPerRequest,
    async score(model, texts) {
      const response = await request(send, `${options.baseUrl.replace(/\/$/, "")}/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
        body: JSON.stringify({ model, prompt: texts, echo: true, max_tokens: maxTokens, logprobs: 1, temperature: 0 }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
      return readCompletions(await readJson(response), texts);
    },
  };
}

/**
 * Hugging Face text-generation-inference: `POST /generate` with `decoder_input_details` lists each input token
 * with its log-probability (`details.prefill`). TGI serves one model per endpoint, so the base URL may contain
 * `{model}`; it takes one input per request, and concurrency comes from the rate limiter.
 */
export function tgiAdapter(options: AdapterOptions): ScoringAdapter {
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  return {
    name: "tgi",
    version: "tgi/1",
    promptsPerRequest: 1,
    async score(model, texts) {
      const url = `${options.baseUrl.replace("{model}", encodeURIComponent(model)).replace(/\/$/, "")}/generate`;
      return Promise.all(
        texts.map(async (text) => {
          const response = await request(send, url, {
            method: "POST",
            headers: { "content-type": "application/json", ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
            body: JSON.stringify({ inputs: text, parameters: { max_new_tokens: 1, decoder_input_details: true, details: true } }),
            signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
          });
          return readPrefill(await readJson(response), text);
        }),
      );
    },
  };
}

/** Why a TGI answer without prompt log-probabilities cannot be retried away. */
export const NO_PREFILL =
  "TGI returned no log-probabilities for the prompt (details.prefill is empty): TGI 3 computes them only when the " +
  "launcher runs with --enable-prefill-logprobs. Restart it with that flag, then run the family's check.";

/** Offsets from token texts: each token that matches the input where the last one ended starts there. */
function readPrefill(body: unknown, text: string): ScoredText {
  const details = (body as { details?: { prefill?: unknown } }).details;
  const prefill = details?.prefill;
  // An answer with details but an empty prefill is TGI 3's default configuration, not a passing fault.
  if (Array.isArray(prefill) && prefill.length === 0) throw new ProviderError(NO_PREFILL, false);
  if (!Array.isArray(prefill)) throw new ProviderError("the provider's response has no prefill details (is decoder_input_details supported?)", true);
  let cursor = 0;
  let previous = 0;
  return {
    tokens: prefill.map((token: { text?: unknown; logprob?: unknown }) => {
      if (typeof token.text !== "string" || (token.logprob !== null && typeof token.logprob !== "number")) throw new ProviderError("malformed prefill token in the provider's response", true);
      // An empty token continues the previous one (the later bytes of a character): it shares its offset, as
      // OpenAI's offsets have it. A special token (a BOS) is not in the input and does not move the cursor.
      const offset = token.text === "" ? previous : cursor;
      if (token.text !== "" && text.startsWith(token.text, cursor)) cursor += token.text.length;
      previous = offset;
      return { offset, logprob: token.logprob };
    }),
  };
}

/** The failures in which no answer came back at all. */
export const NOT_ANSWERED = { timeout: "the provider did not answer in time", unreachable: "the provider could not be reached" } as const;

async function request(send: NonNullable<AdapterOptions["fetch"]>, url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await send(url, init);
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    throw new ProviderError(timedOut ? NOT_ANSWERED.timeout : NOT_ANSWERED.unreachable, true);
  }
  if (response.ok) return response;
  const detail = await response.text().catch(() => "");
  const message = `the provider answered ${response.status}${detail ? `: ${summarise(detail)}` : ""}`;
  const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
  throw new ProviderError(message, retryable, retryAfterMs(response.headers.get("retry-after")), response.status);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError("the provider's response is not valid JSON (cut short?)", true);
  }
}

/** Why a completions answer whose log-probabilities skip the prompt cannot be retried away. */
export const NO_PROMPT_LOGPROBS =
  "the provider returned log-probabilities for generated tokens only, not for the echoed prompt (llama.cpp's " +
  "server does this), so it cannot score texts: serve the family with vLLM, TGI or OpenAI's legacy completions";

function readCompletions(body: unknown, texts: readonly string[]): ScoredText[] {
  const expected = texts.length;
  const choices = (body as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length !== expected) {
    throw new ProviderError(`expected ${expected} choices in the provider's response`, true);
  }
  const scored: ScoredText[] = new Array(expected);
  for (const choice of choices as { index?: unknown; text?: unknown; logprobs?: { token_logprobs?: unknown; text_offset?: unknown } }[]) {
    const index = choice.index;
    const logprobs = choice.logprobs?.token_logprobs;
    const offsets = choice.logprobs?.text_offset;
    if (typeof index !== "number" || index < 0 || index >= expected || !Array.isArray(logprobs) || !Array.isArray(offsets) || logprobs.length !== offsets.length) {
      throw new ProviderError("a choice in the provider's response has no usable logprobs (is echo supported?)", true);
    }
    const text = texts[index]!;
    // An echoed answer starts with the text; one that does not (or whose tokens do not start at the text's first
    // character) gave log-probabilities for what it generated only.
    if ((typeof choice.text === "string" && !choice.text.startsWith(text)) || (text.length > 0 && offsets[0] !== 0)) {
      throw new ProviderError(NO_PROMPT_LOGPROBS, false);
    }
    const tokens: ScoredText["tokens"] = [];
    for (let i = 0; i < offsets.length; i++) {
      const offset: unknown = offsets[i];
      const logprob: unknown = logprobs[i];
      if (typeof offset !== "number" || (logprob !== null && typeof logprob !== "number")) throw new ProviderError("malformed token data in the provider's response", true);
      // Tokens from the text's end on were generated (max_tokens), not scored.
      if (offset >= text.length) break;
      tokens.push({ offset, logprob });
    }
    scored[index] = { tokens };
  }
  if (scored.some((entry) => entry === undefined)) throw new ProviderError("the provider's response repeats a choice index", true);
  return scored;
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function summarise(text: string): string {
  const message = /"message"\s*:\s*"([^"]{1,200})/.exec(text)?.[1];
  return message ?? text.slice(0, 200);
}
