/**
 * Inside workerd: the reference server as deployed, plus /model-only, which scores the same prompts with the
 * same member but returns only a count, so timing both from outside gives the server's own overhead.
 */
import corpus from "../src/reference/corpus.txt";
import { trainReferenceFamily, type ReferenceFamily } from "../src/reference/family";
import { createReferenceApp } from "../src/reference/server";

let family: ReferenceFamily | undefined;
const trained = (): ReferenceFamily => (family ??= trainReferenceFamily(corpus));
const app = createReferenceApp({ family: trained, vars: () => ({}) });

export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/model-only") return app.fetch(request);
    const { model, prompts } = (await request.json()) as { model: string; prompts: string[] };
    const member = trained().member(model);
    if (!member) throw new Error(`no reference member ${model}`);
    let tokens = 0;
    for (const prompt of prompts) tokens += member.score(prompt, 1).length;
    return Response.json({ tokens });
  },
};
