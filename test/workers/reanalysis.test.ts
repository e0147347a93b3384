import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ANALYSIS_CODE_VERSION } from "../../src/analysis/statistics";
import { reanalyseOutdated } from "../../src/evaluate/on-finish";
import { markReanalysed, outdatedAnalysisSubmissions } from "../../src/storage/analyses";
import { call, seedApiToken, lambadaVariant, submit, postGpt3Results } from "./helpers";

/** A submission with uploaded GPT-3 results whose stored analyses are rewritten as an older code version made them. */
async function submissionWithOldAnalyses(organiser: string): Promise<string> {
  const response = await submit({ csv: lambadaVariant("Analysed by older code") });
  const { id } = await response.json<{ id: string }>();
  await postGpt3Results(id, organiser);
  await env.DB.prepare(
    "UPDATE analyses SET analysis_json = json_set(analysis_json, '$.codeVersion', 'isv-analysis/1.0.0', '$.schemaVersion', 1) WHERE submission_id = ?1",
  )
    .bind(id)
    .run();
  return id;
}

describe("analyses made by older analysis code", () => {
  it("are not read: the task shows no analysis until it is made again", async () => {
    const { token } = await seedApiToken("organiser");
    const id = await submissionWithOldAnalyses(token);
    expect((await call(`/v1/review/submissions/${id}/analysis`, token)).status).toBe(404);
  });

  it("are made again by the cron job's re-analysis, with this code version", async () => {
    const { token } = await seedApiToken("organiser");
    const id = await submissionWithOldAnalyses(token);
    expect(await reanalyseOutdated(env, 100)).toContain(id);
    const stored = await (await call(`/v1/review/submissions/${id}/analysis`, token)).json<{
      analysis: { codeVersion: string; families: { verdict: string }[] };
    }>();
    expect({ codeVersion: stored.analysis.codeVersion, verdict: stored.analysis.families[0]?.verdict }).toEqual({
      codeVersion: ANALYSIS_CODE_VERSION,
      verdict: "standard",
    });
  });

  it("are left alone once every submission has an analysis by this code", async () => {
    const { token } = await seedApiToken("organiser");
    const id = await submissionWithOldAnalyses(token);
    await reanalyseOutdated(env, 100);
    expect(await reanalyseOutdated(env, 100)).not.toContain(id);
  });

  it("try a submission whose re-analysis keeps failing after the others, and the failure stops no one", async () => {
    const { token } = await seedApiToken("organiser");
    const broken = await submissionWithOldAnalyses(token);
    const healthy = await submissionWithOldAnalyses(token);
    // Its stored results are gone, so making its analysis again throws.
    const stored = await env.BLOBS.list({ prefix: `results/${broken}/` });
    await env.BLOBS.delete(stored.objects.map((object) => object.key));
    expect(await reanalyseOutdated(env, 100)).toEqual(expect.arrayContaining([broken, healthy]));
    const row = await env.DB.prepare("SELECT reanalysed_at FROM submissions WHERE id = ?1")
      .bind(broken)
      .first<{ reanalysed_at: string | null }>();
    expect(row?.reanalysed_at).not.toBeNull();
    expect((await call(`/v1/review/submissions/${healthy}/analysis`, token)).status).toBe(200);
  });

  it("come back in the order: never tried first, then tried longest ago", async () => {
    const { token } = await seedApiToken("organiser");
    const triedFirst = await submissionWithOldAnalyses(token);
    const neverTried = await submissionWithOldAnalyses(token);
    await markReanalysed(env.DB, triedFirst, new Date().toISOString());
    const order = await outdatedAnalysisSubmissions(env.DB, ANALYSIS_CODE_VERSION, 1000);
    expect(order.indexOf(neverTried)).toBeLessThan(order.indexOf(triedFirst));
  });
});
