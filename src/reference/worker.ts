import corpus from "./corpus.txt";
import preference from "./preference.txt";
import { trainReferenceFamily, type ReferenceFamily } from "./family";
import { createReferenceApp } from "./server";

// Trained on the first request, not at start-up (Workers limit start-up time), then kept for the isolate's life.
// With the preference corpus, the server also serves the RLHF stand-in (rlhf.ts).
let family: ReferenceFamily | undefined;

const app = createReferenceApp({
  family: () => (family ??= trainReferenceFamily(corpus, preference)),
  vars: (c) => c.env as ReferenceEnv,
});

export default {
  fetch(request, env, ctx) {
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<ReferenceEnv>;
