import type { StoredFamily } from "./stored-family";
import type { FailureClass } from "./failure-classes";
import type { ScoredText } from "./metrics";
import { alignOffsets } from "./token-alignment";

/**
 * Inference providers behind one interface: score whole texts, returning each token's offset and log-probability.
 * Every failure becomes a ProviderError with its class, whether retrying can help and how long the provider asked
 * to wait. Its message is a sentence this module wrote, with facts it generated (an HTTP status, a count): never
 * the provider's own text, which could carry anything (an internal page, a reflected secret) into stored rows.
 */
export class ProviderError extends Error {
  constructor(
    readonly failure: FailureClass,
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
  /**
   * Scores each text. When `signal` aborts, requests in flight are cancelled and the call rejects with the
   * signal's reason (the caller's own error, not a ProviderError): nothing more is sent or paid for.
   */
  score(model: string, texts: string[], signal?: AbortSignal): Promise<ScoredText[]>;
}

export interface AdapterOptions {
  baseUrl: string;
  apiKey?: string;
  /**
   * Called before every request with its URL: throws a ProviderError when the request may not go there, else gives
   * the API key to send (in place of `apiKey`). See ProviderAccess.
   */
  authorise?: (url: string) => string | undefined;
  promptsPerRequest?: number;
  timeoutMs?: number;
  /**
   * openai-completions: tokens generated after the echoed prompt. 1 works on every server, so it is the default and
   * the generated token is dropped. 0 works on OpenAI's legacy models and on recent vLLM with echo (vLLM refuses it
   * without echo, "max_tokens must be at least 1", and older releases differ).
   */
  maxTokens?: 0 | 1;
  /** For tests: where requests go (defaults to the global fetch). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/**
 * Where a family's requests may go and which API key they carry, decided before each request. The Worker's access
 * (provider-access.ts) applies the outbound policy and reads only secrets declared for the request's host; the
 * CLI's (`environmentAccess`) reads the variable the family names and lets the user reach any host of their own.
 */
export interface ProviderAccess {
  /** Throws a ProviderError when `family` may not send a request to `url`; else the API key to send, if any. */
  authorise(family: StoredFamily, url: string): string | undefined;
}

/** The CLI's access: the key from the environment variable the family names, to whatever host the file gives. */
export function environmentAccess(variables: object): ProviderAccess {
  return {
    authorise(family) {
      if (!family.apiKeySecret) return undefined;
      const value: unknown = Reflect.get(variables, family.apiKeySecret);
      if (typeof value !== "string" || value === "") throw secretMissing(family, family.apiKeySecret);
      return value;
    },
  };
}

export const secretMissing = (family: StoredFamily, name: string): ProviderError =>
  new ProviderError("secret_missing", `the secret ${name} for family ${family.name} is not set`, false);

/** The URL a request for `model` goes to, as each adapter builds it. */
export function requestUrl(adapter: "openai-completions" | "tgi", baseUrl: string, model: string): string {
  return adapter === "tgi"
    ? `${baseUrl.replace("{model}", encodeURIComponent(model)).replace(/\/$/, "")}/generate`
    : `${baseUrl.replace(/\/$/, "")}/completions`;
}

/** Every URL a family's requests would go to (one, or one per model for a TGI template); none for an uploaded one. */
export function requestUrls(family: StoredFamily): string[] {
  const { adapter, baseUrl } = family;
  if (adapter === "external" || !baseUrl) return [];
  return [...new Set(family.models.map((model) => requestUrl(adapter, baseUrl, model.id)))];
}

/**
 * The adapter a family's definition asks for. Every URL it will call is authorised first, so a refused host or
 * secret fails at once (before any request), and again before each request.
 */
export function adapterFor(
  family: StoredFamily,
  access: ProviderAccess,
  fetcher?: (input: string, init: RequestInit) => Promise<Response>,
  timeoutMs?: number,
): ScoringAdapter {
  if (family.adapter === "external" || !family.baseUrl) {
    throw new ProviderError(
      "family_external",
      `family ${family.name} is run elsewhere (adapter ${family.adapter}): upload its results instead`,
      false,
    );
  }
  for (const url of requestUrls(family)) access.authorise(family, url);
  const options: AdapterOptions = {
    baseUrl: family.baseUrl,
    promptsPerRequest: family.limits?.promptsPerRequest ?? 20,
    authorise: (url) => access.authorise(family, url),
    ...(family.scoring?.maxTokens !== undefined ? { maxTokens: family.scoring.maxTokens } : {}),
    ...(fetcher ? { fetch: fetcher } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
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
    version: "openai-completions/4",
    promptsPerRequest,
    async score(model, texts, signal) {
      const url = requestUrl("openai-completions", options.baseUrl, model);
      const response = await post(send, options, url, signal, {
        model,
        prompt: texts,
        echo: true,
        max_tokens: maxTokens,
        logprobs: 1,
        temperature: 0,
      });
      return readCompletions(await readJson(response), texts, maxTokens);
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
    version: "tgi/3",
    promptsPerRequest: 1,
    async score(model, texts, signal) {
      const url = requestUrl("tgi", options.baseUrl, model);
      return Promise.all(
        texts.map(async (text) => {
          const response = await post(send, options, url, signal, {
            inputs: text,
            parameters: { max_new_tokens: 1, decoder_input_details: true, details: true },
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

/** The prefill's tokens with their offsets from `alignOffsets` (TGI gives no offsets; a BOS shares the first's). */
function readPrefill(body: unknown, text: string): ScoredText {
  const details = isRecord(body) && isRecord(body.details) ? body.details : undefined;
  const prefill = details?.prefill;
  // An answer with details but an empty prefill is TGI 3's default configuration, not a passing fault.
  if (Array.isArray(prefill) && prefill.length === 0)
    throw new ProviderError("provider_unsupported", NO_PREFILL, false);
  if (!Array.isArray(prefill))
    throw new ProviderError(
      "provider_unsupported",
      "the provider's response has no prefill details (is decoder_input_details supported?)",
      false,
    );
  for (const token of prefill as { text?: unknown; logprob?: unknown }[]) {
    if (typeof token?.text !== "string" || (token.logprob !== null && typeof token.logprob !== "number"))
      throw new ProviderError("provider_bad_response", "malformed prefill token in the provider's response", true);
  }
  const tokens = prefill as { text: string; logprob: number | null }[];
  return scoredFromStrings(
    tokens.map((token) => token.text),
    tokens.map((token) => token.logprob),
    text,
  );
}

/** A text scored from its token strings (aligned, raw tokenizer pieces read as text if need be), or flagged. */
function scoredFromStrings(strings: readonly string[], logprobs: readonly (number | null)[], text: string): ScoredText {
  let alignment = alignOffsets(strings, text);
  if (!alignment.aligned) {
    const fromRaw = alignOffsets(rawPieceText(strings), text);
    if (fromRaw.aligned) alignment = fromRaw;
  }
  const tokens = keepInText(alignment.offsets, logprobs, text.length);
  return alignment.aligned ? { tokens } : { tokens, unaligned: true };
}

/**
 * Raw tokenizer pieces ("Ġthe" for GPT-2's byte-level BPE, "▁the" for SentencePiece) as the text they stand
 * for; SentencePiece marks the text's first word with a space the text does not have.
 */
const RAW_MARKERS: Record<string, string> = { Ġ: " ", "▁": " ", Ċ: "\n", ĉ: "\t" };
function rawPieceText(tokens: readonly string[]): string[] {
  // The pattern matches only RAW_MARKERS' keys.
  const text = tokens.map((token) => token.replace(/[Ġ▁Ċĉ]/g, (marker) => RAW_MARKERS[marker] ?? marker));
  const first = text[0];
  if (first !== undefined && tokens[0]?.startsWith("▁")) text[0] = first.slice(1);
  return text;
}

/** The tokens that start inside the text, with their offsets. */
function keepInText(
  offsets: readonly number[],
  logprobs: readonly (number | null)[],
  length: number,
): ScoredText["tokens"] {
  const tokens: ScoredText["tokens"] = [];
  for (const [i, offset] of offsets.entries()) {
    if (offset >= length) continue;
    const logprob = logprobs[i];
    if (logprob === undefined) throw new RangeError(`token ${i} has an offset but no log-probability`);
    tokens.push({ offset, logprob });
  }
  return tokens;
}

/**
 * POSTs a JSON body, once the request is authorised. Redirects are not followed: a provider could otherwise send
 * the request (and its key) on to an address the outbound policy refuses, so a 3xx is a failure.
 */
async function post(
  send: NonNullable<AdapterOptions["fetch"]>,
  options: AdapterOptions,
  url: string,
  cancel: AbortSignal | undefined,
  body: object,
): Promise<Response> {
  cancel?.throwIfAborted();
  const apiKey = options.authorise ? options.authorise(url) : options.apiKey;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  let response: Response;
  try {
    response = await send(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: cancel ? AbortSignal.any([cancel, timeout]) : timeout,
    });
  } catch (error) {
    if (cancel?.aborted) throw cancel.reason;
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    throw timedOut
      ? new ProviderError("provider_timeout", "the provider did not answer in time", true)
      : new ProviderError("provider_unreachable", "the provider could not be reached", true);
  }
  if (response.ok) return response;
  const { status } = response;
  // The text is read only to recognise llama.cpp's refusal of echo (a 500 that no retry changes), and only its start.
  const start = await textStart(response, ERROR_TEXT_READ_BYTES);
  if (start.includes(ECHO_REFUSED)) {
    throw new ProviderError(
      "provider_unsupported",
      `${NO_PROMPT_LOGPROBS}: the server refuses echo, answering ${status} "${ECHO_REFUSED}" (as llama.cpp's server does)`,
      false,
      undefined,
      status,
    );
  }
  const { failure, retryable } = statusFailure(status);
  const message =
    failure === "provider_redirected"
      ? `the provider answered HTTP ${status}, a redirect, which is not followed`
      : `the provider answered HTTP ${status}`;
  throw new ProviderError(failure, message, retryable, retryAfterMs(response.headers.get("retry-after")), status);
}

/** How much of an error answer is read (to recognise a known refusal); the rest is dropped unread. */
const ERROR_TEXT_READ_BYTES = 4096;

/** An HTTP status's failure class, and whether a retry can help (408, 429 and 5xx). */
function statusFailure(status: number): { failure: FailureClass; retryable: boolean } {
  if (status >= 300 && status < 400) return { failure: "provider_redirected", retryable: false };
  if (status === 401 || status === 403) return { failure: "provider_auth", retryable: false };
  if (status === 404) return { failure: "provider_not_found", retryable: false };
  if (status === 408) return { failure: "provider_timeout", retryable: true };
  if (status === 429) return { failure: "provider_rate_limited", retryable: true };
  if (status >= 500) return { failure: "provider_server_error", retryable: true };
  return { failure: "provider_rejected", retryable: false };
}

/** The first `limit` bytes of a body as text (a hostile provider's body may be endless), the rest cancelled. */
async function textStart(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  let read = 0;
  try {
    while (read < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      read += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body that fails mid-way says nothing more; the status already classified the failure.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError("provider_bad_response", "the provider's response is not valid JSON (cut short?)", true);
  }
}

/** Why an answer without log-probabilities for the prompt's tokens cannot be retried away (a reason follows). */
export const NO_PROMPT_LOGPROBS =
  "the provider gives no log-probabilities for the prompt's tokens, so it cannot score texts (serve the family with " +
  "vLLM, TGI with --enable-prefill-logprobs, or OpenAI's legacy completions)";

/** llama.cpp's answer to `echo` in releases that refuse it (500, a std::runtime_error). */
const ECHO_REFUSED = "Only no echo is supported";

const noPromptLogprobs = (reason: string) =>
  new ProviderError("provider_unsupported", `${NO_PROMPT_LOGPROBS}: ${reason}`, false);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** llama.cpp's log-probabilities: chat-format `{content: [...]}`, for generated tokens only (null when there are none). */
const isChatLogprobs = (logprobs: unknown): boolean =>
  isRecord(logprobs) && Array.isArray(logprobs.content) && !("token_logprobs" in logprobs);

function readCompletions(body: unknown, texts: readonly string[], maxTokens: number): ScoredText[] {
  const expected = texts.length;
  // llama.cpp answers several prompts with a JSON array of completion objects, each with chat-format logprobs.
  if (
    Array.isArray(body) &&
    body.length > 0 &&
    body.every((entry) => isRecord(entry) && Array.isArray(entry.choices))
  ) {
    const logprobs = body.flatMap((entry) =>
      (entry as { choices: { logprobs?: unknown }[] }).choices.map((choice) => choice?.logprobs ?? null),
    );
    if (logprobs.every((entry) => entry === null || isChatLogprobs(entry))) {
      throw noPromptLogprobs(
        "it answered a JSON array of completions, one per prompt, whose logprobs (logprobs.content) cover generated tokens only, as llama.cpp's server does",
      );
    }
  }
  const choices = isRecord(body) ? body.choices : undefined;
  if (!Array.isArray(choices) || choices.length !== expected) {
    throw new ProviderError("provider_bad_response", `expected ${expected} choices in the provider's response`, false);
  }
  const scored: (ScoredText | undefined)[] = Array.from({ length: expected }, () => undefined);
  for (const choice of choices as unknown[]) {
    if (!isRecord(choice))
      throw new ProviderError("provider_bad_response", "a choice in the provider's response is not an object", false);
    if (isChatLogprobs(choice.logprobs)) {
      throw noPromptLogprobs(
        "its logprobs are chat-format (logprobs.content) and cover generated tokens only, as llama.cpp's server answers",
      );
    }
    const index = typeof choice.index === "number" && Number.isInteger(choice.index) ? choice.index : -1;
    const text = texts[index];
    if (text === undefined)
      throw new ProviderError(
        "provider_bad_response",
        "a choice in the provider's response has no usable index",
        false,
      );
    if (scored[index] !== undefined)
      throw new ProviderError("provider_bad_response", "the provider's response repeats a choice index", false);
    // An echoed answer starts with the text; one that does not gave log-probabilities for what it generated only.
    if (typeof choice.text === "string" && !choice.text.startsWith(text)) {
      throw noPromptLogprobs("its log-probabilities cover generated tokens only (the answer does not echo the text)");
    }
    scored[index] = readChoice(choice, text, maxTokens);
  }
  return scored as ScoredText[];
}

/**
 * One echoed text's tokens. The answer ends with the tokens generated after the text: exactly `maxTokens` when
 * generation stopped at the length asked ("length"), and at most that many otherwise (an end-of-text token may be
 * left out); they are dropped by count, the fewest that leaves tokens spelling out the text exactly.
 */
function readChoice(choice: Record<string, unknown>, text: string, maxTokens: number): ScoredText {
  const logprobs = isRecord(choice.logprobs) ? choice.logprobs : undefined;
  const values = logprobs?.token_logprobs;
  const offsets = logprobs?.text_offset;
  const strings = logprobs?.tokens;
  if (!Array.isArray(values) || !Array.isArray(offsets) || values.length !== offsets.length) {
    throw new ProviderError(
      "provider_bad_response",
      "a choice in the provider's response has no usable logprobs (is echo supported?)",
      false,
    );
  }
  if (text.length > 0 && offsets[0] !== 0)
    throw noPromptLogprobs(
      "its log-probabilities cover generated tokens only (the token offsets do not start at the text's first character)",
    );
  for (let i = 0; i < offsets.length; i++) {
    const value: unknown = values[i];
    if (typeof offsets[i] !== "number" || (value !== null && typeof value !== "number"))
      throw new ProviderError("provider_bad_response", "malformed token data in the provider's response", false);
  }
  const given = values as (number | null)[];
  if (strings === undefined) return { tokens: keepInText(offsets as number[], given, text.length) };
  if (
    !Array.isArray(strings) ||
    strings.length !== offsets.length ||
    !strings.every((token) => typeof token === "string")
  ) {
    throw new ProviderError("provider_bad_response", "malformed token data in the provider's response", false);
  }
  const generated =
    choice.finish_reason === "length" ? [maxTokens] : Array.from({ length: maxTokens + 1 }, (_, k) => maxTokens - k);
  let last: ScoredText | undefined;
  for (const count of generated) {
    if (count > strings.length) continue;
    const kept = strings.length - count;
    last = scoredFromStrings((strings as string[]).slice(0, kept), given.slice(0, kept), text);
    if (!last.unaligned) return last;
  }
  return last ?? { tokens: [], unaligned: true };
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
