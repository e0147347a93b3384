/**
 * Inside workerd: the paired bootstrap (B resamples of N examples for M models), a full family analysis, and the
 * practical floor, a tight typed-array loop doing the same number of additions. Timed from outside, since
 * workerd's clock does not advance during computation.
 */
import { at } from "../src/analysis/checked";
import { bootstrapMeans, modelColumn } from "../src/analysis/contrasts";
import { analyseFamily, DEFAULT_OPTIONS, slopePer } from "../src/analysis/statistics";

const EXAMPLES = 1000;
const MODELS = 8;

function syntheticValues(): Float64Array {
  const values = new Float64Array(EXAMPLES * MODELS);
  for (let i = 0; i < values.length; i++) values[i] = 1 + ((i * 2654435761) % 1000) / 1000;
  return values;
}

/** B x N x M additions over the same array, in order: no random draws, nothing else. */
function floor(values: Float64Array, samples: number): number {
  const sums = new Float64Array(MODELS);
  for (let b = 0; b < samples; b++) {
    for (let i = 0; i < EXAMPLES; i++) {
      const base = i * MODELS;
      // biome-ignore lint/style/noNonNullAssertion: unchecked, as in bootstrapMeans; m < MODELS = sums.length, base + m < values.length.
      for (let m = 0; m < MODELS; m++) sums[m]! += values[base + m]!;
    }
  }
  return at(sums, 0);
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const samples = Number(url.searchParams.get("samples") ?? DEFAULT_OPTIONS.bootstrapSamples);
    const values = syntheticValues();
    const mode = url.pathname.slice(1);
    let check = 0;
    if (mode === "floor") check = floor(values, samples);
    else if (mode === "bootstrap") check = at(bootstrapMeans(values, MODELS, samples, 1), 0);
    else if (mode === "analyse") {
      const models = Array.from({ length: MODELS }, (_, m) => ({
        id: `m${m}`,
        scale: 10 ** (8 + m / 2),
        values: modelColumn(values, MODELS, m),
      }));
      check = slopePer(
        analyseFamily(
          { family: "bench", axis: "params", models },
          { ...DEFAULT_OPTIONS, bootstrapSamples: samples, direction: "lower_is_better" },
        ).slope,
      ).value;
    } else return new Response("unknown mode", { status: 404 });
    return Response.json({ mode, check, additions: samples * EXAMPLES * MODELS });
  },
};
