import type { Example } from "../validate/row-rules";
import type { ModelEstimate, StoredFamily } from "../storage/evaluations";
import type { ShardRecord } from "../storage/shards";
import { textsFor } from "./metrics";

/** Examples per shard: small enough for one consumer invocation's time and subrequests, large enough to batch. */
export const EXAMPLES_PER_SHARD = 100;

/** One queue message: the shard to run. Payloads stay in R2 and D1 (a message carries keys, not data). */
export interface ShardMessage {
  evaluationId: string;
  model: string;
  shard: number;
}

/** The most messages a queue takes in one sendBatch call. */
const MESSAGES_PER_SEND = 100;

/** Queues one message per shard, in as few sendBatch calls as the queue allows. */
export async function sendShards(
  queue: Pick<Queue, "sendBatch">,
  evaluationId: string,
  shards: readonly Pick<ShardMessage, "model" | "shard">[],
): Promise<void> {
  const messages = shards.map(({ model, shard }) => ({ body: { evaluationId, model, shard } satisfies ShardMessage }));
  for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND)
    await queue.sendBatch(messages.slice(i, i + MESSAGES_PER_SEND));
}

export function planShards(evaluationId: string, family: StoredFamily, exampleCount: number): ShardRecord[] {
  const shards: ShardRecord[] = [];
  for (const model of family.models) {
    for (let first = 0, shard = 0; first < exampleCount; first += EXAMPLES_PER_SHARD, shard++) {
      shards.push({
        evaluationId,
        model: model.id,
        shard,
        firstExample: first,
        endExample: Math.min(exampleCount, first + EXAMPLES_PER_SHARD),
        state: "pending",
        attempts: 0,
        error: null,
      });
    }
  }
  return shards;
}

/**
 * The tokens `texts` are estimated to cost: a quarter of their UTF-8 bytes, rounded up. Providers' tokenizers
 * differ and count in bytes, not UTF-16 code units: a CJK character is 3 bytes and an emoji 4, which byte-level
 * tokenizers often split into a token each or more, so counting code units would undercount such texts up to
 * fourfold. Not a bound (a tokenizer may spend a token on every byte): the estimate sets budgets and reservations,
 * and the provider's own count replaces it once the texts are scored (README, "Evaluation").
 */
export function estimateTextTokens(texts: Iterable<string>): number {
  let bytes = 0;
  for (const text of texts) bytes += utf8Bytes(text);
  return Math.ceil(bytes / 4);
}

/** The UTF-8 length of a string without encoding it: a surrogate pair is 4 bytes (2 for each half). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    bytes += unit < 0x80 ? 1 : unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 2 : 3;
  }
  return bytes;
}

/**
 * Requests and tokens each model will cost before any cache hit: texts are the distinct prompt+continuation
 * strings, and tokens are estimated by estimateTextTokens.
 */
export function estimate(family: StoredFamily, examples: Example[], promptsPerRequest: number): ModelEstimate[] {
  const texts = new Set<string>();
  for (const example of examples)
    for (const { prompt, continuation } of textsFor(example)) texts.add(prompt + continuation);
  const tokens = estimateTextTokens(texts);
  return family.models.map((model) => ({
    model: model.id,
    texts: texts.size,
    requests: Math.ceil(texts.size / promptsPerRequest),
    tokens,
  }));
}

/** An estimate's tokens over all its models: what the evaluation is expected to cost, before any cache hit. */
export function estimatedTokens(estimates: readonly Pick<ModelEstimate, "tokens">[]): number {
  return estimates.reduce((sum, model) => sum + model.tokens, 0);
}
