import { createApp } from "./app";
import { analyseFinishedEvaluation, reanalyseOutdated } from "./evaluate/on-finish";
import type { ShardMessage } from "./evaluate/plan";
import { handleShardBatch } from "./evaluate/queue";
import { LOCAL_RESTART_CRON } from "./evaluate/local-restart";
import { forgetLeasesAfterRestart, resumeEvaluations } from "./evaluate/resume";

export { ProviderRateLimiter } from "./evaluate/rate-limiter";
export { ClientRateLimiter } from "./intake-limits/client-rate-limiter";

const app = createApp();

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
  async queue(batch, env, _ctx) {
    await handleShardBatch(batch, env, (evaluationId) => analyseFinishedEvaluation(env, evaluationId));
  },
  // Every minute (wrangler.toml; under wrangler dev, scripts/dev-server.mjs calls it, and once at start as
  // LOCAL_RESTART_CRON): shards past their lease or never picked up are sent again. Every tenth minute, analyses
  // made by older code are made again, a few a run.
  async scheduled(controller, env, _ctx) {
    if (controller.cron === LOCAL_RESTART_CRON) await forgetLeasesAfterRestart(env);
    await resumeEvaluations(env, Date.now(), (evaluationId) => analyseFinishedEvaluation(env, evaluationId));
    if (new Date(controller.scheduledTime).getUTCMinutes() % 10 === 0) await reanalyseOutdated(env);
  },
} satisfies ExportedHandler<Env, ShardMessage>;
