/**
 * Scaling statistics for one metric on one model family (DESIGN.md section 4). Pure: no bindings, no I/O.
 *
 * Models are ordered by scale and placed at z = log10(scale). Every interval is a percentile interval from a
 * paired example bootstrap: each resample draws the same examples for every model, so what the models share
 * (hard examples are hard for all) cancels out of the comparisons between them. The verdict is in performance
 * terms: a metric where lower is better (loss) is turned around before deciding.
 */

export type Direction = "lower_is_better" | "higher_is_better";
export const VERDICTS = ["inverse", "standard", "u_shaped", "inverted_u", "flat", "inconclusive"] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Bump when a change alters any number an analysis reports, so stored analyses say which code made them. */
export const ANALYSIS_CODE_VERSION = "isv-analysis/1.0.0";

export interface ModelInput {
  id: string;
  scale: number;
  /** The metric for each example, by example index; NaN where the model has no value (e.g. excluded). */
  values: Float64Array;
}

export interface FamilyInput {
  family: string;
  axis: "params" | "flops" | "rlhf_steps";
  models: ModelInput[];
}

export interface AnalysisOptions {
  direction: Direction;
  seed: number;
  bootstrapSamples: number;
  /**
   * Smallest change per decade of scale that matters, as a multiple of the examples' pooled standard deviation:
   * "flat" means the slope's interval lies inside plus or minus this much.
   */
  equivalenceMargin: number;
}

export const DEFAULT_OPTIONS: Omit<AnalysisOptions, "direction"> = { seed: 20221010, bootstrapSamples: 10_000, equivalenceMargin: 0.05 };

export type Interval = [number, number];

export interface ModelSummary {
  id: string;
  scale: number;
  log10Scale: number;
  /** Examples with a value for this model, and those of them shared by every model (used for the bootstrap). */
  examples: number;
  mean: number;
  standardError: number;
  ci95: Interval;
}

export interface ArmTest {
  turningModel: string;
  /** Metric change per decade left and right of the turning model, with intervals. */
  left: { slope: number; ci95: Interval };
  right: { slope: number; ci95: Interval };
  /** Both arms significant with opposite signs in the shape's direction. */
  significant: boolean;
}

export interface FamilyAnalysis {
  family: string;
  axis: FamilyInput["axis"];
  sharedExamples: number;
  models: ModelSummary[];
  /** Metric change per decade of scale (ordinary least squares on the per-model means). */
  slope: { perDecade: number; ci95: Interval };
  /** Largest model's mean minus the smallest's. */
  endpointContrast: { value: number; ci95: Interval };
  /** Worse then better (U in performance) and better then worse; null with fewer than 3 models. */
  twoLines: { uShaped: ArmTest; invertedU: ArmTest } | null;
  /** Rank agreement between scale and performance, from -1 to 1: a description, not a test. */
  kendallTau: number;
  /** The equivalence margin in metric units per decade (the pooled SD times the relative margin). */
  flatMargin: number;
  verdict: Verdict;
  reason: string;
}

/** mulberry32: fast, seeded, and the same on every platform, so a seed reproduces an analysis exactly. */
function generator(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Weights w such that sum(w * y) is the least-squares slope of y on z. */
function slopeWeights(z: readonly number[]): number[] {
  const mean = z.reduce((a, b) => a + b, 0) / z.length;
  const spread = z.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return z.map((value) => (spread === 0 ? 0 : (value - mean) / spread));
}

function percentileInterval(samples: Float64Array): Interval {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => {
    const position = q * (sorted.length - 1);
    const low = Math.floor(position);
    const high = Math.min(sorted.length - 1, low + 1);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  };
  return [at(0.025), at(0.975)];
}

function kendallTau(performance: readonly number[]): number {
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < performance.length; i++) {
    for (let j = i + 1; j < performance.length; j++) {
      if (performance[j]! > performance[i]!) concordant++;
      else if (performance[j]! < performance[i]!) discordant++;
    }
  }
  const pairs = (performance.length * (performance.length - 1)) / 2;
  return pairs === 0 ? 0 : (concordant - discordant) / pairs;
}

/**
 * The paired bootstrap: for each resample, the mean of every model over the same drawn examples. `values` is
 * example-major (values[example * models + model]) so each draw reads one contiguous run.
 */
export function bootstrapMeans(values: Float64Array, models: number, samples: number, seed: number): Float64Array {
  const examples = values.length / models;
  const means = new Float64Array(samples * models);
  const sums = new Float64Array(models);
  const random = generator(seed);
  for (let b = 0; b < samples; b++) {
    sums.fill(0);
    for (let i = 0; i < examples; i++) {
      const base = Math.floor(random() * examples) * models;
      for (let m = 0; m < models; m++) sums[m]! += values[base + m]!;
    }
    for (let m = 0; m < models; m++) means[b * models + m] = sums[m]! / examples;
  }
  return means;
}

export function analyseFamily(input: FamilyInput, options: AnalysisOptions): FamilyAnalysis {
  const models = [...input.models].sort((a, b) => a.scale - b.scale);
  if (models.length < 2) throw new RangeError(`family ${input.family} needs at least 2 models to show a trend`);
  const count = models.length;
  const exampleCount = Math.max(...models.map((model) => model.values.length));
  const shared: number[] = [];
  for (let i = 0; i < exampleCount; i++) if (models.every((model) => Number.isFinite(model.values[i]))) shared.push(i);
  if (shared.length < 2) throw new RangeError(`family ${input.family}: fewer than 2 examples have a value for every model`);

  const values = new Float64Array(shared.length * count);
  shared.forEach((example, i) => models.forEach((model, m) => (values[i * count + m] = model.values[example]!)));
  const z = models.map((model) => Math.log10(model.scale));
  const sign = options.direction === "lower_is_better" ? -1 : 1;

  const means = models.map((_, m) => {
    let sum = 0;
    for (let i = 0; i < shared.length; i++) sum += values[i * count + m]!;
    return sum / shared.length;
  });
  const deviations = models.map((_, m) => {
    let squares = 0;
    for (let i = 0; i < shared.length; i++) squares += (values[i * count + m]! - means[m]!) ** 2;
    return Math.sqrt(squares / (shared.length - 1));
  });
  const pooledSd = Math.sqrt(deviations.reduce((sum, sd) => sum + sd * sd, 0) / count);

  const boot = bootstrapMeans(values, count, options.bootstrapSamples, options.seed);
  const statistic = (weights: number[], offset = 0): { point: number; ci95: Interval } => {
    const samples = new Float64Array(options.bootstrapSamples);
    for (let b = 0; b < options.bootstrapSamples; b++) {
      let total = 0;
      for (let m = 0; m < weights.length; m++) total += weights[m]! * boot[b * count + offset + m]!;
      samples[b] = total;
    }
    const point = weights.reduce((total, weight, m) => total + weight * means[offset + m]!, 0);
    return { point, ci95: percentileInterval(samples) };
  };

  const summaries: ModelSummary[] = models.map((model, m) => {
    const perModel = new Float64Array(options.bootstrapSamples);
    for (let b = 0; b < options.bootstrapSamples; b++) perModel[b] = boot[b * count + m]!;
    return {
      id: model.id,
      scale: model.scale,
      log10Scale: z[m]!,
      examples: model.values.filter((value) => Number.isFinite(value)).length,
      mean: means[m]!,
      standardError: deviations[m]! / Math.sqrt(shared.length),
      ci95: percentileInterval(perModel),
    };
  });

  const slope = statistic(slopeWeights(z));
  const contrastWeights = models.map((_, m) => (m === count - 1 ? 1 : m === 0 ? -1 : 0));
  const contrast = statistic(contrastWeights);

  const arm = (turning: number, shape: "u" | "inverted"): ArmTest => {
    const left = statistic(slopeWeights(z.slice(0, turning + 1)), 0);
    const right = statistic(slopeWeights(z.slice(turning)), turning);
    const perf = (interval: Interval): Interval => (sign > 0 ? interval : [-interval[1], -interval[0]]);
    const [leftLow, leftHigh] = perf(left.ci95);
    const [rightLow, rightHigh] = perf(right.ci95);
    const significant = shape === "u" ? leftHigh < 0 && rightLow > 0 : leftLow > 0 && rightHigh < 0;
    return {
      turningModel: models[turning]!.id,
      left: { slope: left.point, ci95: left.ci95 },
      right: { slope: right.point, ci95: right.ci95 },
      significant,
    };
  };
  let twoLines: FamilyAnalysis["twoLines"] = null;
  if (count >= 3) {
    const performance = means.map((mean) => sign * mean);
    const interior = performance.slice(1, -1);
    const worst = 1 + interior.indexOf(Math.min(...interior));
    const best = 1 + interior.indexOf(Math.max(...interior));
    twoLines = { uShaped: arm(worst, "u"), invertedU: arm(best, "inverted") };
  }

  const flatMargin = options.equivalenceMargin * pooledSd;
  const [perfLow, perfHigh]: Interval = sign > 0 ? slope.ci95 : [-slope.ci95[1], -slope.ci95[0]];
  const fmt = (value: number): string => value.toPrecision(3);
  const slopeText = `slope ${fmt(slope.point)} per decade (95% CI ${fmt(slope.ci95[0])} to ${fmt(slope.ci95[1])})`;
  let verdict: Verdict;
  let reason: string;
  if (twoLines?.uShaped.significant) {
    verdict = "u_shaped";
    reason = `Performance worsens up to ${twoLines.uShaped.turningModel} and improves after it; both arms' intervals exclude 0.`;
  } else if (twoLines?.invertedU.significant) {
    verdict = "inverted_u";
    reason = `Performance improves up to ${twoLines.invertedU.turningModel} and worsens after it; both arms' intervals exclude 0.`;
  } else if (perfHigh < 0) {
    verdict = "inverse";
    reason = `Performance falls with scale: ${slopeText}.`;
  } else if (perfLow > 0) {
    verdict = "standard";
    reason = `Performance rises with scale: ${slopeText}.`;
  } else if (slope.ci95[0] > -flatMargin && slope.ci95[1] < flatMargin) {
    verdict = "flat";
    reason = `No change that matters: ${slopeText} lies within ±${fmt(flatMargin)} (${options.equivalenceMargin} pooled SD per decade).`;
  } else {
    verdict = "inconclusive";
    reason = `The data cannot tell: ${slopeText} includes 0 and changes larger than ±${fmt(flatMargin)} per decade.`;
  }

  return {
    family: input.family,
    axis: input.axis,
    sharedExamples: shared.length,
    models: summaries,
    slope: { perDecade: slope.point, ci95: slope.ci95 },
    endpointContrast: { value: contrast.point, ci95: contrast.ci95 },
    twoLines,
    kendallTau: kendallTau(means.map((mean) => sign * mean)),
    flatMargin,
    verdict,
    reason,
  };
}
