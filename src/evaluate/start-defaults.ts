import type { CompetitionSettings } from "../competition/settings";
import type { ClientRateLimiter } from "../intake-limits/client-rate-limiter";
import { describeError } from "../log";
import type { SubmissionRecord } from "../storage/submissions";
import { resolveFamily, startEvaluation, type Refusal, type StartBindings } from "./start";

/** One public family's start, as the submitter is told: the evaluation queued, or refused and why, or why not. */
export interface DefaultStart {
  family: string;
  id?: string;
  state?: string;
  /** The limit that refused it before queueing (its record is kept, failed, with `error` as its reason). */
  refused?: Refusal;
  error?: string;
}

export interface DefaultStartBindings extends StartBindings {
  CLIENT_RATE_LIMITER: DurableObjectNamespace<ClientRateLimiter>;
}

const DAY_MS = 86_400_000;

/**
 * Takes one automatic evaluation from `client`'s allowance (`automaticEvaluationsPerClientPerDay`: a burst of that
 * many, then one every day / that many), counted by the same Durable Object class as uploads, under its own name:
 * false once it is used up. No client (a caller other than an upload) or no allowance: always true.
 */
async function clientAllows(bindings: DefaultStartBindings, perDay: number | null, client: string | null) {
  if (client === null || perDay === null) return true;
  if (perDay === 0) return false;
  const limiter = bindings.CLIENT_RATE_LIMITER;
  const outcome = await limiter.get(limiter.idFromName(`auto|${client}`)).take({ limit: perDay, windowMs: DAY_MS });
  return outcome.allowed;
}

/**
 * Queues a new valid submission (or a replaced file) on the competition's public families, as automatic
 * evaluations: each with the competition's token budget, counted against its client's allowance (`client`, the
 * uploader's clientKey), the daily cap and the spend ceilings.
 * A family that cannot be started, or is refused by a limit, is reported in the result, never fails the upload:
 * the submission is stored either way.
 */
export async function startDefaultEvaluations(
  bindings: DefaultStartBindings,
  settings: CompetitionSettings,
  submission: SubmissionRecord,
  client: string | null = null,
): Promise<DefaultStart[]> {
  const started: DefaultStart[] = [];
  for (const name of settings.publicFamilies) {
    try {
      const family = await resolveFamily(bindings, name);
      if (!family) {
        started.push({ family: name, error: "not a registered family" });
        continue;
      }
      const clientCapped = !(await clientAllows(bindings, settings.automaticEvaluationsPerClientPerDay, client));
      const outcome = await startEvaluation(bindings, submission, family, settings.tokenBudget, {
        origin: "automatic",
        settings,
        clientCapped,
      });
      if (outcome.ok) started.push({ family: name, id: outcome.evaluation.id, state: outcome.evaluation.state });
      else if (outcome.refused && outcome.evaluation)
        started.push({
          family: name,
          id: outcome.evaluation.id,
          state: outcome.evaluation.state,
          refused: outcome.refused,
          error: outcome.reason,
        });
      else started.push({ family: name, error: outcome.reason });
    } catch (error) {
      console.error(JSON.stringify({ submission: submission.id, family: name, error: describeError(error) }));
      started.push({ family: name, error: "could not be queued; an organiser can start it" });
    }
  }
  return started;
}
