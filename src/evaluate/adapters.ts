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
    version: "openai-completions/3",
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
    version: "tgi/2",
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

/** The prefill's tokens with their offsets from `alignOffsets` (TGI gives no offsets; a BOS shares the first's). */
function readPrefill(body: unknown, text: string): ScoredText {
  const details = (body as { details?: { prefill?: unknown } }).details;
  const prefill = details?.prefill;
  // An answer with details but an empty prefill is TGI 3's default configuration, not a passing fault.
  if (Array.isArray(prefill) && prefill.length === 0) throw new ProviderError(NO_PREFILL, false);
  if (!Array.isArray(prefill)) throw new ProviderError("the provider's response has no prefill details (is decoder_input_details supported?)", true);
  for (const token of prefill as { text?: unknown; logprob?: unknown }[]) {
    if (typeof token?.text !== "string" || (token.logprob !== null && typeof token.logprob !== "number")) throw new ProviderError("malformed prefill token in the provider's response", true);
  }
  const tokens = prefill as { text: string; logprob: number | null }[];
  const offsets = alignOffsets(tokens.map((token) => token.text), text);
  return { tokens: keepInText(offsets, tokens.map((token) => token.logprob), text.length) };
}

/** Why tokens whose strings do not spell out the text cannot be scored (no offset can be trusted). */
export const UNALIGNED =
  "the provider's token offsets cannot be matched to the text: its tokens do not spell out the text that was sent";

/**
 * The bytes a token string stands for when it is not whole characters of the text: a byte of a split character
 * decoded alone reads U+FFFD (vLLM's and TGI's token strings; counted as one byte each, the least it can be), and
 * OpenAI shows such tokens as "bytes:\xNN…" (exact). Undefined for any other string (a special token such as a
 * BOS, or a token that is simply not in the text).
 */
function pieceBytes(token: string): number | undefined {
  if (token.startsWith("bytes:") && token.length > 6) {
    let bytes = 0;
    for (const part of token.slice(6).matchAll(/\\x[0-9a-fA-F]{2}|[^]/gu)) bytes += part[0].startsWith("\\x") && part[0].length === 4 ? 1 : utf8Length(part[0]);
    return bytes;
  }
  if (!token.includes("\ufffd")) return undefined;
  let bytes = 0;
  for (const character of token) bytes += character === "\ufffd" ? 1 : utf8Length(character);
  return bytes;
}

function utf8Length(character: string): number {
  const point = character.codePointAt(0)!;
  return point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
}

/**
 * The true character offset (UTF-16, as JavaScript counts) of each token in `target`, from the token strings alone:
 *
 * - a token that matches the text at the cursor starts there and moves the cursor past itself;
 * - a run of byte pieces (U+FFFD or "bytes:\xNN", see pieceBytes) covers the characters up to where the next token
 *   that matches is found, at least as many UTF-8 bytes on; each piece gets the offset of the character its first
 *   byte belongs to (so the bytes of one character share its offset, as OpenAI's offsets have it), and pieces past
 *   the end of `target` get its length;
 * - an empty token continues the one before (the later bytes of a character, in the reference server's TGI route);
 * - any other token not in the text (a special token, e.g. a BOS) starts at the cursor and does not move it.
 *
 * `target` may run past the scored text (an echoed prompt plus its generated text); the tokens must cover at least
 * its first `covered` characters, or no offset can be trusted and the answer is refused for good (UNALIGNED).
 */
export function alignOffsets(tokens: readonly string[], target: string, covered = target.length): number[] {
  const offsets: number[] = [];
  let cursor = 0;
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (token === "") {
      offsets.push(offsets[i - 1] ?? cursor);
      i++;
    } else if (target.startsWith(token, cursor)) {
      offsets.push(cursor);
      cursor += token.length;
      i++;
    } else if (pieceBytes(token) === undefined) {
      offsets.push(cursor);
      i++;
    } else {
      // A run of pieces, up to the next token found in the text at least as many bytes on as the pieces stand for.
      let bytes = 0;
      let end = i;
      let stop = target.length;
      for (; end < tokens.length; end++) {
        const next = tokens[end]!;
        const width = next === "" ? 0 : pieceBytes(next);
        if (width !== undefined) {
          bytes += width;
          continue;
        }
        const at = target.indexOf(next, advance(target, cursor, bytes));
        if (at !== -1) {
          stop = at;
          break;
        }
      }
      const characters = characterBytes(target, cursor, stop);
      let byte = 0;
      for (let k = i; k < end; k++) {
        const piece = tokens[k]!;
        if (piece === "") {
          offsets.push(offsets[k - 1]!);
          continue;
        }
        // Pieces past the run's characters: beyond the target's end they are not in it (generated); before a token
        // found further on, the pieces stood for more bytes than counted and belong to the last character.
        offsets.push(characterAt(characters, byte, stop === target.length ? target.length : (characters.at(-1)?.offset ?? cursor)));
        byte += pieceBytes(piece) ?? 0;
      }
      cursor = stop;
      i = end;
    }
  }
  if (cursor < covered) throw new ProviderError(UNALIGNED, false);
  return offsets;
}

/** The position `bytes` UTF-8 bytes after `from` (rounded up to a whole character), or the end. */
function advance(text: string, from: number, bytes: number): number {
  let at = from;
  let counted = 0;
  while (counted < bytes && at < text.length) {
    const character = String.fromCodePoint(text.codePointAt(at)!);
    counted += utf8Length(character);
    at += character.length;
  }
  return at;
}

/** The characters of text[from, to): each one's offset and the UTF-8 byte it ends before, counted from `from`. */
function characterBytes(text: string, from: number, to: number): { offset: number; end: number }[] {
  const characters: { offset: number; end: number }[] = [];
  let byte = 0;
  for (let at = from; at < to; ) {
    const character = String.fromCodePoint(text.codePointAt(at)!);
    byte += utf8Length(character);
    characters.push({ offset: at, end: byte });
    at += character.length;
  }
  return characters;
}

/** The offset of the character holding `byte`; past the last character's bytes, `beyond`. */
function characterAt(characters: readonly { offset: number; end: number }[], byte: number, beyond: number): number {
  return characters.find((character) => byte < character.end)?.offset ?? beyond;
}

/** Tokens that start inside the text (those after it were generated, or are not the text's at all). */
function keepInText(offsets: readonly number[], logprobs: readonly (number | null)[], length: number): ScoredText["tokens"] {
  const tokens: ScoredText["tokens"] = [];
  for (let i = 0; i < offsets.length; i++) if (offsets[i]! < length) tokens.push({ offset: offsets[i]!, logprob: logprobs[i]! });
  return tokens;
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
  // llama.cpp's server refuses echo with a 500 that no retry changes.
  if (detail.includes(ECHO_REFUSED)) {
    throw new ProviderError(`${NO_PROMPT_LOGPROBS}: the server refuses echo, answering ${response.status} "${ECHO_REFUSED}" (as llama.cpp's server does)`, false, undefined, response.status);
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

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** llama.cpp's log-probabilities: chat-format `{content: [...]}`, for generated tokens only (null when there are none). */
const isChatLogprobs = (logprobs: unknown): boolean => isRecord(logprobs) && Array.isArray(logprobs.content) && !("token_logprobs" in logprobs);

function readCompletions(body: unknown, texts: readonly string[]): ScoredText[] {
  const expected = texts.length;
  // llama.cpp answers several prompts with a JSON array of completion objects, each with chat-format logprobs.
  if (Array.isArray(body) && body.length > 0 && body.every((entry) => isRecord(entry) && Array.isArray(entry.choices))) {
    const logprobs = body.flatMap((entry) => (entry as { choices: { logprobs?: unknown }[] }).choices.map((choice) => choice?.logprobs ?? null));
    if (logprobs.every((entry) => entry === null || isChatLogprobs(entry))) {
      throw noPromptLogprobs("it answered a JSON array of completions, one per prompt, whose logprobs (logprobs.content) cover generated tokens only, as llama.cpp's server does");
    }
  }
  const choices = (body as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length !== expected) {
    throw new ProviderError(`expected ${expected} choices in the provider's response`, true);
  }
  const scored: (ScoredText | undefined)[] = Array.from({ length: expected }, () => undefined);
  for (const choice of choices as { index?: unknown; text?: unknown; logprobs?: { token_logprobs?: unknown; text_offset?: unknown; tokens?: unknown } }[]) {
    if (isChatLogprobs(choice?.logprobs)) {
      throw noPromptLogprobs("its logprobs are chat-format (logprobs.content) and cover generated tokens only, as llama.cpp's server answers");
    }
    const index = isRecord(choice) ? choice.index : undefined;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= expected) {
      throw new ProviderError("a choice in the provider's response has no usable logprobs (is echo supported?)", true);
    }
    const text = texts[index]!;
    // An echoed answer starts with the text; one that does not (or whose tokens do not start at the text's first
    // character) gave log-probabilities for what it generated only.
    if (typeof choice.text === "string" && !choice.text.startsWith(text)) {
      throw noPromptLogprobs("its log-probabilities cover generated tokens only (the answer does not echo the text)");
    }
    const logprobs = choice.logprobs?.token_logprobs;
    const offsets = choice.logprobs?.text_offset;
    const strings = choice.logprobs?.tokens;
    if (!Array.isArray(logprobs) || !Array.isArray(offsets) || logprobs.length !== offsets.length) {
      throw new ProviderError("a choice in the provider's response has no usable logprobs (is echo supported?)", true);
    }
    if (text.length > 0 && offsets[0] !== 0) throw noPromptLogprobs("its log-probabilities cover generated tokens only (the token offsets do not start at the text's first character)");
    for (let i = 0; i < offsets.length; i++) {
      const logprob: unknown = logprobs[i];
      if (typeof offsets[i] !== "number" || (logprob !== null && typeof logprob !== "number")) throw new ProviderError("malformed token data in the provider's response", true);
    }
    if (strings !== undefined && (!Array.isArray(strings) || strings.length !== offsets.length || !strings.every((token) => typeof token === "string"))) {
      throw new ProviderError("malformed token data in the provider's response", true);
    }
    // The server's offsets are trusted only when each token's string is found at its offset, one after another
    // across the whole text. vLLM's are the running sum of token-string lengths, which drifts after any character
    // split into bytes (each shown as U+FFFD) or outside the BMP; those are rebuilt from the token strings, against
    // the echoed text with what was generated after it.
    const given = offsets as number[];
    const rebuilt =
      strings === undefined || offsetsSpell(strings as string[], given, text)
        ? given
        : realign(strings as string[], typeof choice.text === "string" ? choice.text : text, text.length);
    scored[index] = { tokens: keepInText(rebuilt, logprobs as (number | null)[], text.length) };
  }
  if (scored.some((entry) => entry === undefined)) throw new ProviderError("the provider's response repeats a choice index", true);
  return scored as ScoredText[];
}

/**
 * Offsets rebuilt from the token strings. Some servers give raw tokenizer pieces instead of text ("Ġthe" for
 * GPT-2's byte-level BPE, "▁the" for SentencePiece): those are read with their space and newline markers turned
 * back into text before giving up.
 */
function realign(tokens: readonly string[], target: string, covered: number): number[] {
  try {
    return alignOffsets(tokens, target, covered);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return alignOffsets(tokens.map(rawPieceText), target, covered);
  }
}

const RAW_MARKERS: Record<string, string> = { "Ġ": " ", "▁": " ", "Ċ": "\n", "ĉ": "\t" };
const rawPieceText = (token: string): string => token.replace(/[Ġ▁Ċĉ]/g, (marker) => RAW_MARKERS[marker]!);

/** Every token that starts inside the text is found at its offset, each where the one before ends, up to the text's end. */
function offsetsSpell(tokens: readonly string[], offsets: readonly number[], text: string): boolean {
  let expected = 0;
  for (let i = 0; i < tokens.length && offsets[i]! < text.length; i++) {
    if (offsets[i] !== expected || tokens[i] === "" || !text.startsWith(tokens[i]!, expected)) return false;
    expected += tokens[i]!.length;
  }
  return expected === text.length;
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
