import type { StoredFamily } from "./stored-family";
import type { ScoredText } from "./metrics";
import { alignOffsets } from "./token-alignment";

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
   * openai-completions: tokens generated after the echoed prompt. 1 works on every server, so it is the default and
   * the generated token is dropped. 0 works on OpenAI's legacy models and on recent vLLM with echo (vLLM refuses it
   * without echo, "max_tokens must be at least 1", and older releases differ).
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
export function adapterFor(
  family: StoredFamily,
  secrets: object,
  fetcher?: (input: string, init: RequestInit) => Promise<Response>,
  timeoutMs?: number,
): ScoringAdapter {
  if (family.adapter === "external" || !family.baseUrl) {
    throw new ProviderError(
      `family ${family.name} is run elsewhere (adapter ${family.adapter}): upload its results instead`,
      false,
    );
  }
  const apiKey = family.apiKeySecret ? secret(secrets, family.apiKeySecret) : undefined;
  if (family.apiKeySecret && typeof apiKey !== "string")
    throw new ProviderError(`the secret ${family.apiKeySecret} for family ${family.name} is not set`, false);
  const options: AdapterOptions = {
    baseUrl: family.baseUrl,
    promptsPerRequest: family.limits?.promptsPerRequest ?? 20,
    ...(family.scoring?.maxTokens !== undefined ? { maxTokens: family.scoring.maxTokens } : {}),
    ...(typeof apiKey === "string" ? { apiKey } : {}),
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
    async score(model, texts) {
      const response = await request(send, `${options.baseUrl.replace(/\/$/, "")}/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model, prompt: texts, echo: true, max_tokens: maxTokens, logprobs: 1, temperature: 0 }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
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
    async score(model, texts) {
      const url = `${options.baseUrl.replace("{model}", encodeURIComponent(model)).replace(/\/$/, "")}/generate`;
      return Promise.all(
        texts.map(async (text) => {
          const response = await request(send, url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
            },
            body: JSON.stringify({
              inputs: text,
              parameters: { max_new_tokens: 1, decoder_input_details: true, details: true },
            }),
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

/** The prefill's tokens with their offsets from `alignOffsets` (TGI gives no offsets; a BOS shares the first's). */
function readPrefill(body: unknown, text: string): ScoredText {
  const details = isRecord(body) && isRecord(body.details) ? body.details : undefined;
  const prefill = details?.prefill;
  // An answer with details but an empty prefill is TGI 3's default configuration, not a passing fault.
  if (Array.isArray(prefill) && prefill.length === 0) throw new ProviderError(NO_PREFILL, false);
  if (!Array.isArray(prefill))
    throw new ProviderError(
      "the provider's response has no prefill details (is decoder_input_details supported?)",
      false,
    );
  for (const token of prefill as { text?: unknown; logprob?: unknown }[]) {
    if (typeof token?.text !== "string" || (token.logprob !== null && typeof token.logprob !== "number"))
      throw new ProviderError("malformed prefill token in the provider's response", true);
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

/** The failures in which no answer came back at all. */
export const NOT_ANSWERED = {
  timeout: "the provider did not answer in time",
  unreachable: "the provider could not be reached",
} as const;

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
  // llama.cpp's server refuses echo with a 500 that no retry changes.
  if (detail.includes(ECHO_REFUSED)) {
    throw new ProviderError(
      `${NO_PROMPT_LOGPROBS}: the server refuses echo, answering ${response.status} "${ECHO_REFUSED}" (as llama.cpp's server does)`,
      false,
      undefined,
      response.status,
    );
  }
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

/** Why an answer without log-probabilities for the prompt's tokens cannot be retried away (a reason follows). */
export const NO_PROMPT_LOGPROBS =
  "the provider gives no log-probabilities for the prompt's tokens, so it cannot score texts (serve the family with " +
  "vLLM, TGI with --enable-prefill-logprobs, or OpenAI's legacy completions)";

/** llama.cpp's answer to `echo` in releases that refuse it (500, a std::runtime_error). */
const ECHO_REFUSED = "Only no echo is supported";

const noPromptLogprobs = (reason: string) => new ProviderError(`${NO_PROMPT_LOGPROBS}: ${reason}`, false);

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
    throw new ProviderError(`expected ${expected} choices in the provider's response`, false);
  }
  const scored: (ScoredText | undefined)[] = Array.from({ length: expected }, () => undefined);
  for (const choice of choices as unknown[]) {
    if (!isRecord(choice)) throw new ProviderError("a choice in the provider's response is not an object", false);
    if (isChatLogprobs(choice.logprobs)) {
      throw noPromptLogprobs(
        "its logprobs are chat-format (logprobs.content) and cover generated tokens only, as llama.cpp's server answers",
      );
    }
    const index = typeof choice.index === "number" && Number.isInteger(choice.index) ? choice.index : -1;
    const text = texts[index];
    if (text === undefined) throw new ProviderError("a choice in the provider's response has no usable index", false);
    if (scored[index] !== undefined) throw new ProviderError("the provider's response repeats a choice index", false);
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
    throw new ProviderError("a choice in the provider's response has no usable logprobs (is echo supported?)", false);
  }
  if (text.length > 0 && offsets[0] !== 0)
    throw noPromptLogprobs(
      "its log-probabilities cover generated tokens only (the token offsets do not start at the text's first character)",
    );
  for (let i = 0; i < offsets.length; i++) {
    const value: unknown = values[i];
    if (typeof offsets[i] !== "number" || (value !== null && typeof value !== "number"))
      throw new ProviderError("malformed token data in the provider's response", false);
  }
  const given = values as (number | null)[];
  if (strings === undefined) return { tokens: keepInText(offsets as number[], given, text.length) };
  if (
    !Array.isArray(strings) ||
    strings.length !== offsets.length ||
    !strings.every((token) => typeof token === "string")
  ) {
    throw new ProviderError("malformed token data in the provider's response", false);
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

function summarise(text: string): string {
  const message = /"message"\s*:\s*"([^"]{1,200})/.exec(text)?.[1];
  return message ?? text.slice(0, 200);
}
