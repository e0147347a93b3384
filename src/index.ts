import { createApp } from "./app";
import { analyseFinishedEvaluation, reanalyseOutdated } from "./evaluate/on-finish";
import type { ShardMessage } from "./evaluate/plan";
import { handleShardBatch } from "./evaluate/queue";
import { resumeStaleEvaluations } from "./evaluate/resume";

export { ProviderRateLimiter } from "./evaluate/rate-limiter";

const app = createApp();

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
  async queue(batch, env, _ctx) {
    await handleShardBatch(batch, env, (evaluationId) => analyseFinishedEvaluation(env, evaluationId));
  },
  async scheduled(_controller, env, _ctx) {
    await resumeStaleEvaluations(env, Date.now(), (evaluationId) => analyseFinishedEvaluation(env, evaluationId));
    await reanalyseOutdated(env);
  },
} satisfies ExportedHandler<Env, ShardMessage>;
