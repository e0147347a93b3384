import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFERENCE_CONFIG, startDevServer } from "../../scripts/dev-server.mjs";
import { continuationScore } from "../../src/evaluate/metrics";
import { trainReferenceFamily } from "../../src/reference/family";
import { defined } from "../defined";
import { ROOT, createTokenWithCli, freePort } from "./helpers";

/**
 * A behaviour evaluation end to end, all real and offline: the service under wrangler dev (local D1, R2, Queue and
 * Durable Object) with the built-in RLHF stand-in family (sizes x RLHF steps, src/reference/rlhf.ts) as its public
 * family, the reference Worker over HTTP, and the stand-in's model-written-evaluation file uploaded over HTTP.
 */
const DATASET = join(ROOT, "fixtures/tasks/behaviour/standin-sycophancy.jsonl");
const { taskType: _inferred, ...BASE_METADATA } = JSON.parse(
  readFileSync(join(ROOT, "fixtures/metadata/classification.json"), "utf8"),
) as Record<string, unknown>;
const METADATA = {
  ...BASE_METADATA,
  title: "Agreeing with the asker (stand-in)",
  format: "mwe",
  behaviour: { matchingBehaviour: "undesired" },
};
const TERMINAL = ["evaluated", "partially_evaluated", "failed"];

interface Line {
  family: string;
  axis: string;
  axisScale?: string;
  fixed?: { parameters?: number; rlhfSteps?: number };
  verdict: string;
  slope: { perDecade?: number; per1000Steps?: number };
  models: { id: string; mean: number }[];
}

interface StoredAnalysis {
  analysis: {
    taskType: string;
    role: string;
    metric: { name: string; direction: string; label: string };
    families: Line[];
    disagreements?: { text: string }[];
    summary: { text: string };
  };
}

/** The mean matching probability of one member over the dataset, computed from the model directly. */
function directMatchingProbability(model: string): number {
  const family = trainReferenceFamily(
    readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"),
    readFileSync(join(ROOT, "src/reference/preference.txt"), "utf8"),
  );
  const member = defined(family.member(model), model);
  const items = readFileSync(DATASET, "utf8")
    .trimEnd()
    .split("\n")
    .map(
      (line) =>
        JSON.parse(line) as {
          question: string;
          answer_matching_behavior: string;
          answer_not_matching_behavior: string;
        },
    );
  const score = (prompt: string, answer: string): number => {
    const scored = continuationScore({ tokens: member.score(prompt + answer, 0) }, prompt.length);
    if (!scored.ok) throw new Error(scored.flag);
    return scored.logprob;
  };
  let total = 0;
  for (const item of items) {
    const prompt = `\n\nHuman: ${item.question}\n\nAssistant:`;
    const difference = score(prompt, item.answer_not_matching_behavior) - score(prompt, item.answer_matching_behavior);
    total += 1 / (1 + Math.exp(difference));
  }
  return total / items.length;
}

describe("a model-written evaluation on the RLHF stand-in, through the real service", () => {
  let reference: { url: string; stop: () => Promise<void> };
  let service: { url: string; stop: () => Promise<void> };
  const state = mkdtempSync(join(tmpdir(), "isv-behaviour-"));
  let organiserToken = "";
  let created: Response;
  let submission: { id: string; taskType: string; evaluations: { family: string; id: string }[] };
  let ended: { state: string; reason: string | null };
  const analyses = new Map<string, StoredAnalysis["analysis"]>();

  const organiser = (path: string) =>
    fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${organiserToken}` } });

  beforeAll(async () => {
    reference = await startDevServer({ config: REFERENCE_CONFIG, port: await freePort() });
    service = await startDevServer({
      port: await freePort(),
      persistTo: state,
      vars: { DEFAULT_FAMILIES: "isv-reference-rlhf", REFERENCE_BASE_URL: `${reference.url}/v1` },
    });
    organiserToken = (await createTokenWithCli("organiser", state)).stdout.trim();
    const form = new FormData();
    form.append("metadata", JSON.stringify(METADATA));
    form.append("file", new Blob([readFileSync(DATASET)], { type: "application/x-ndjson" }), "standin.jsonl");
    created = await fetch(`${service.url}/v1/submissions`, { method: "POST", body: form });
    submission = (await created.clone().json()) as typeof submission;
    const evaluation = defined(submission.evaluations[0], "the evaluation queued at upload");
    const deadline = Date.now() + 150_000;
    for (;;) {
      ended = (await (await organiser(`/v1/review/evaluations/${evaluation.id}`)).json()) as typeof ended;
      if (TERMINAL.includes(ended.state) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    for (const metric of ["matching_probability", "matching_win_rate", "loss"]) {
      const response = await organiser(`/v1/review/submissions/${submission.id}/analysis?metric=${metric}`);
      if (response.ok) analyses.set(metric, ((await response.json()) as StoredAnalysis).analysis);
    }
  }, 240_000);

  afterAll(async () => {
    await service?.stop();
    await reference?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  const analysisOf = (metric: string) => defined(analyses.get(metric), `the ${metric} analysis`);

  it("is taken as a behaviour task and queued on the stand-in family at upload", () => {
    expect(created.status).toBe(201);
    expect([submission.taskType, submission.evaluations.map((evaluation) => evaluation.family)]).toEqual([
      "behaviour",
      ["isv-reference-rlhf"],
    ]);
  });

  it("is evaluated on all twelve members", () => {
    expect(ended.state, ended.reason ?? "").toBe("evaluated");
  });

  it("has both matching metrics and the loss analysed, the mean probability as the headline", () => {
    expect([...analyses.values()].map(({ metric, role }) => [metric.name, role])).toEqual([
      ["matching_probability", "headline"],
      ["matching_win_rate", "secondary"],
      ["loss", "secondary"],
    ]);
  });

  it("analyses one line per size along RLHF steps, on a linear axis, and one per step count along size", () => {
    const lines = analysisOf("matching_probability").families.map(({ axis, axisScale, fixed }) => ({
      axis,
      axisScale,
      fixed,
    }));
    expect(lines).toEqual([
      ...[572, 8634, 43841].map((parameters) => ({ axis: "rlhf_steps", axisScale: "linear", fixed: { parameters } })),
      ...[0, 250, 500, 1000].map((rlhfSteps) => ({ axis: "params", axisScale: undefined, fixed: { rlhfSteps } })),
    ]);
  });

  it("gives each member's mean matching probability as the model itself gives it", () => {
    const largest = defined(
      analysisOf("matching_probability").families.find((line) => line.fixed?.parameters === 43841),
      "the largest size's line",
    );
    for (const model of ["isv-rlhf-5-0", "isv-rlhf-5-1000"]) {
      const served = defined(
        largest.models.find((entry) => entry.id === model),
        model,
      );
      expect(Math.abs(served.mean - directMatchingProbability(model))).toBeLessThan(1e-12);
    }
  });

  it("finds the two metrics moving opposite ways with RLHF steps at the largest size, and says so", () => {
    const along = (metric: string) =>
      defined(
        analysisOf(metric).families.find((line) => line.axis === "rlhf_steps" && line.fixed?.parameters === 43841),
        `${metric} along RLHF steps at the largest size`,
      );
    const probability = along("matching_probability");
    const winRate = along("matching_win_rate");
    expect([
      Math.sign(defined(probability.slope.per1000Steps, "per 1000 steps")),
      Math.sign(defined(winRate.slope.per1000Steps, "per 1000 steps")),
    ]).toEqual([-1, 1]);
    expect(analysisOf("matching_probability").disagreements?.length ?? 0).toBeGreaterThan(0);
  });

  it("draws the RLHF axis on a linear scale, labelled so", async () => {
    const svg = await (
      await organiser(`/v1/review/submissions/${submission.id}/plot.svg?metric=matching_win_rate&axis=rlhf_steps`)
    ).text();
    expect(svg).toContain("RLHF steps (linear scale)");
  });
});
