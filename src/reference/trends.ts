import type { ReferenceFamily, ReferenceMember } from "./family";

/**
 * The prize's losses computed from the family's own token log-probabilities, as an evaluator computes them from the
 * API: sequence_prob, -sum log p(completion | prompt); classification, -log softmax over the classes' summed
 * log-probabilities. Used to show, and test, the scaling the fixture tasks were built for.
 */

/** log p(continuation | prompt): the log-probabilities of the tokens that start at or after the prompt's end. */
export function continuationLogprob(member: ReferenceMember, prompt: string, continuation: string): number {
  const tokens = member.score(prompt + continuation, 0);
  if (!tokens.some((token) => token.offset === prompt.length))
    throw new Error(`no token starts where ${JSON.stringify(continuation)} starts`);
  return tokens.filter((token) => token.offset >= prompt.length).reduce((sum, token) => sum + (token.logprob ?? 0), 0);
}

/** The score of the correct class; `answer` indexes the classes. */
function answerScore(classScores: readonly number[], answer: number): number {
  const score = classScores[answer];
  if (score === undefined) throw new RangeError(`answer ${answer} is not one of the ${classScores.length} classes`);
  return score;
}

export function classificationLoss(classScores: readonly number[], answer: number): number {
  const max = Math.max(...classScores);
  const logSumExp = max + Math.log(classScores.reduce((sum, score) => sum + Math.exp(score - max), 0));
  return logSumExp - answerScore(classScores, answer);
}

export interface SequenceExample {
  prompt: string;
  completion: string;
}

export interface ClassificationExample {
  prompt: string;
  classes: string[];
  answer: number;
}

export interface MemberTrend {
  id: string;
  parameters: number;
  sequenceLoss: number;
  classificationLoss: number;
  /** Share of classification examples whose correct class scores highest. */
  classificationAccuracy: number;
}

export function familyTrends(
  family: ReferenceFamily,
  sequences: SequenceExample[],
  classifications: ClassificationExample[],
): MemberTrend[] {
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  return family.members.map((member) => {
    const scored = classifications.map((example) => ({
      scores: example.classes.map((name) => continuationLogprob(member, example.prompt, name)),
      answer: example.answer,
    }));
    return {
      id: member.id,
      parameters: member.parameters,
      sequenceLoss: mean(sequences.map((example) => -continuationLogprob(member, example.prompt, example.completion))),
      classificationLoss: mean(scored.map(({ scores, answer }) => classificationLoss(scores, answer))),
      classificationAccuracy: mean(
        scored.map(({ scores, answer }) => {
          const correct = answerScore(scores, answer);
          return scores.every((score, i) => i === answer || score < correct) ? 1 : 0;
        }),
      ),
    };
  });
}
