import type { Context, MiddlewareHandler } from "hono";
import type { ReferenceFamily, ReferenceMember } from "../family";

/**
 * What every personality needs from the reference server: the family, the body limit, and the fault and latency
 * knobs (which answer their injected errors in the personality's own error shape).
 */
export type Answer = { json: unknown } | Response;
export type FaultStatus = 400 | 429 | 500 | 504;
export type FaultErrorShape = (c: Context, status: FaultStatus, message: string) => Response;

export interface PersonalityHost {
  family: () => ReferenceFamily;
  limit: MiddlewareHandler;
  withFaults: (c: Context, answer: (text: string) => Promise<Answer>, shape: FaultErrorShape) => Promise<Response>;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

export const isInteger = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value);

/** A prompt field as the OpenAI-style servers take it: a string or a non-empty list of strings (token arrays are not supported here). */
export function promptList(prompt: unknown): string[] | undefined {
  if (typeof prompt === "string") return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((item) => typeof item === "string"))
    return prompt as string[];
  return undefined;
}

export function stopList(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return [];
  if (typeof stop === "string") return [stop];
  if (Array.isArray(stop) && stop.every((item) => typeof item === "string")) return stop as string[];
  return undefined;
}

/** Length as Python counts it (code points): vLLM's text_offset adds up Python lengths of token strings. */
export const pythonLength = (text: string): number => [...text].length;

/**
 * A token decoded on its own, as Hugging Face's `tokenizer.decode([id])` does (vLLM's and TGI's token strings):
 * a byte that is only part of a UTF-8 character decodes to U+FFFD. The reference family's byte tokens are always
 * such parts (every ASCII character is a token of its own).
 */
export function decodeAlone(member: ReferenceMember, id: number): string {
  return member.tokenizer.isByte(id) ? "\ufffd" : member.tokenizer.textOf(id);
}

/** The UTF-8 bytes of a token (llama.cpp's `bytes`). */
export function tokenBytes(member: ReferenceMember, id: number): number[] {
  return member.tokenizer.isByte(id)
    ? [member.tokenizer.byteOf(id)]
    : [...new TextEncoder().encode(member.tokenizer.textOf(id))];
}

/**
 * The text each generated token adds, as streaming detokenizers emit it (TGI's `decode_token`, llama.cpp's
 * `text_to_send`): the bytes of a character split into byte tokens show on the token that completes it. The
 * function returned takes the generated tokens one at a time, in order.
 */
export function incrementalDecoder(member: ReferenceMember): (id: number) => string {
  const decoder = new TextDecoder();
  return (id) =>
    member.tokenizer.isByte(id)
      ? decoder.decode(new Uint8Array([member.tokenizer.byteOf(id)]), { stream: true })
      : decoder.decode() + member.tokenizer.textOf(id);
}

/** A generated token with its log-probability and the k most likely tokens at its position (empty when k is 0). */
export interface GreedyStep {
  id: number;
  logprob: number;
  top: { id: number; logprob: number }[];
}

export interface GreedyRun {
  ids: number[];
  steps: GreedyStep[];
  text: string;
  finishReason: "length" | "stop";
  /** The stop string that ended the run (vLLM's `stop_reason`), else null. */
  stopReason: string | null;
}

/** Greedy continuation (the reference family has no EOS, so it runs to max_tokens or a stop string). */
export function greedy(
  member: ReferenceMember,
  prompt: string,
  maxTokens: number,
  topK: number,
  stops: readonly string[] = [],
): GreedyRun {
  const generation = member.generate(prompt, maxTokens, topK, stops);
  let stopReason: string | null = null;
  if (generation.finishReason === "stop") {
    // Which stop string ended it: the earliest in the untruncated text, the first listed on a tie (as generate does).
    const full = member.generate(prompt, generation.tokens.length, 0).text;
    let best = Infinity;
    for (const stop of stops) {
      const at = full.indexOf(stop);
      if (at !== -1 && at < best) [best, stopReason] = [at, stop];
    }
  }
  return {
    ids: generation.tokens.map((token) => token.id),
    steps: generation.tokens.map((token) => ({ id: token.id, logprob: token.logprob, top: token.top ?? [] })),
    text: generation.text,
    finishReason: generation.finishReason,
    stopReason,
  };
}

/** log P of every token of the text given the tokens before it (the first null), with the top k at each position. */
export function scorePrompt(member: ReferenceMember, text: string, topK: number) {
  return member
    .score(text, topK)
    .map((token) => ({ id: token.id, offset: token.offset, logprob: token.logprob, top: token.top ?? [] }));
}

/**
 * A top-logprobs map as vLLM and OpenAI's legacy models build it: the chosen token first, then the k most likely
 * in order, keyed by token string (repeated strings keep their first place and the last value, as a Python dict
 * comprehension does). So it has k or k+1 entries.
 */
export function topMap(
  chosen: { id: number; logprob: number },
  top: readonly { id: number; logprob: number }[],
  text: (id: number) => string,
): Record<string, number> {
  const map: Record<string, number> = {};
  for (const entry of [chosen, ...top.filter((alternative) => alternative.id !== chosen.id)])
    map[text(entry.id)] = entry.logprob;
  return map;
}

/**
 * Rank of a token among the whole vocabulary at a position, as vLLM's `Logprob.rank`: the number of tokens at least
 * as likely, itself included (`batched_count_greater_than` is `(x >= values).sum(-1)`, vllm/v1/sample/ops/logprobs.py),
 * so tied tokens all share the last rank of their tie.
 */
export function rankOf(member: ReferenceMember, ids: readonly number[], at: number, token: number): number {
  const own = member.model.logprob(ids, at, token);
  let rank = 0;
  for (let id = 0; id < member.tokenizer.size; id++) if (member.model.logprob(ids, at, id) >= own) rank++;
  return rank;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
