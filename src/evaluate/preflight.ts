/**
 * The preflight: one tiny scoring request per model of a family, before an evaluation spends anything, saying
 * whether the server can score prompts the way the metrics need (DESIGN.md section 3). Used by `isv family check`
 * and `POST /v1/review/families/{name}/check`.
 */
import type { StoredFamily } from "./stored-family";
import { ProviderError, type ScoringAdapter } from "./adapters";
import type { FailureClass } from "./failure-classes";
import { continuationScore, type ScoredText } from "./metrics";

/** The probe: a prompt, and the same prompt with a class that starts with a space, as prize tasks' classes do. */
export const PROBE_PROMPT = "Question: Is the sky blue on a clear day?\nAnswer:";
export const PROBE_CLASS = " Yes";
/** Characters most tokenizers split into byte pieces (a CJK character, an emoji, an accent), with a class after. */
export const PROBE_MULTIBYTE = "Ada sees 日本 🙂 at the café. Answer: Yes";

/** How long one model's probe may take before the model is reported unreachable. */
export const PROBE_TIMEOUT_MS = 20_000;

/** The task the cost estimate is for: 1,000 examples of 2 prompt+class texts of 400 characters each. */
export const TYPICAL_TASK = { examples: 1000, textsPerExample: 2, charactersPerText: 400 } as const;

export interface ModelCheck {
  model: string;
  ok: boolean;
  /** The server answered the request (whatever it said). */
  reachable: boolean;
  /** Every token of the texts after the first has a log-probability. */
  promptLogprobs: boolean;
  /** The tokens spell out the texts, with offsets that start at 0 and never go back. */
  offsetsUsable: boolean;
  /** A text with multi-byte characters is matched token by token too (else such examples are flagged). */
  multibyteAligned: boolean;
  /** The class with its leading space starts on a token boundary right after the prompt. */
  leadingSpaceBoundary: boolean;
  latencyMs: number;
  /** Tokens and, where the family states a price, dollars to score TYPICAL_TASK on this model. */
  estimate: { tokens: number; usd: number | null };
  /** Why the model fails, one sentence each. */
  problems: string[];
}

export interface FamilyCheck {
  family: string;
  ok: boolean;
  task: typeof TYPICAL_TASK;
  models: ModelCheck[];
}

/** Failures in which the server sent no answer (or no request was sent). */
const UNANSWERED: readonly FailureClass[] = [
  "provider_unreachable",
  "provider_timeout",
  "host_refused",
  "secret_missing",
  "secret_not_allowed",
  "configuration_invalid",
];

/** Checks every model, one at a time (a preflight should not trip the provider's rate limits). */
export async function checkFamily(
  family: StoredFamily,
  adapter: ScoringAdapter,
  clock: () => number = () => performance.now(),
): Promise<FamilyCheck> {
  const models: ModelCheck[] = [];
  for (const model of family.models) models.push(await checkModel(family, adapter, model.id, clock));
  return { family: family.name, ok: models.every((model) => model.ok), task: TYPICAL_TASK, models };
}

async function checkModel(
  family: StoredFamily,
  adapter: ScoringAdapter,
  model: string,
  clock: () => number,
): Promise<ModelCheck> {
  const texts: [string, string, string] = [PROBE_PROMPT, PROBE_PROMPT + PROBE_CLASS, PROBE_MULTIBYTE];
  const started = clock();
  let scored: ScoredText[];
  try {
    scored = await adapter.score(model, texts);
  } catch (error) {
    const latencyMs = Math.round(clock() - started);
    // ProviderError messages are the adapter's own sentences, never the provider's text.
    const message = error instanceof ProviderError ? error.message : "the request failed";
    const reachable =
      error instanceof ProviderError && (error.status !== undefined || !UNANSWERED.includes(error.failure));
    return {
      model,
      ok: false,
      reachable,
      promptLogprobs: false,
      offsetsUsable: false,
      multibyteAligned: false,
      leadingSpaceBoundary: false,
      latencyMs,
      estimate: { tokens: 0, usd: null },
      problems: [message],
    };
  }
  const latencyMs = Math.round(clock() - started);
  const [plain, withClass, multibyte] = scored;
  // An adapter answers each text it is given.
  if (!plain || !withClass || !multibyte) throw new Error(`the adapter scored ${scored.length} of 3 probe texts`);
  const problems: string[] = [];
  const promptLogprobs = scored.every(
    (text) => text.tokens.length > 1 && text.tokens.slice(1).every((token) => token.logprob !== null),
  );
  if (!promptLogprobs) problems.push("the answer lacks log-probabilities for the prompt's tokens");
  const english = [plain, withClass];
  const offsetsUsable = offsetsUsableFor(plain, texts[0]) && offsetsUsableFor(withClass, texts[1]);
  if (!offsetsUsable)
    problems.push("the tokens do not spell out the text, or their offsets do not start at 0 and rise through it");
  const multibyteAligned = !multibyte.unaligned;
  if (!multibyteAligned)
    problems.push(
      "the tokens of a text with multi-byte characters do not spell it out: such examples would be flagged unaligned_tokens",
    );
  const leadingSpaceBoundary = continuationScore(withClass, PROBE_PROMPT.length).ok;
  if (!leadingSpaceBoundary)
    problems.push(
      `no token starts where the class "${PROBE_CLASS}" does: classes with a leading space would be flagged token_boundary`,
    );
  // The estimate is for English text, like the two plain probes.
  const characters = texts.slice(0, 2).reduce((sum, text) => sum + text.length, 0);
  const tokensPerCharacter = english.reduce((sum, text) => sum + text.tokens.length, 0) / characters;
  const tokens = Math.ceil(
    TYPICAL_TASK.examples * TYPICAL_TASK.textsPerExample * TYPICAL_TASK.charactersPerText * tokensPerCharacter,
  );
  const price = family.pricing?.usdPerMillionTokens;
  return {
    model,
    ok: problems.length === 0,
    reachable: true,
    promptLogprobs,
    offsetsUsable,
    multibyteAligned,
    leadingSpaceBoundary,
    latencyMs,
    estimate: { tokens, usd: price === undefined ? null : Math.round(((tokens * price) / 1e6) * 100) / 100 },
    problems,
  };
}

/** The tokens spell out `source`, with offsets that start at 0, stay inside it and never go back. */
function offsetsUsableFor(text: ScoredText, source: string): boolean {
  if (text.unaligned || text.tokens[0]?.offset !== 0) return false;
  let previous = 0;
  for (const token of text.tokens) {
    if (token.offset >= source.length || token.offset < previous) return false;
    previous = token.offset;
  }
  return true;
}
