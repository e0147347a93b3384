/**
 * Calibration of the scaling verdict (DESIGN.md section 4): how often `analyseFamily` claims a trend that is not
 * there, and how often it finds one that is, on simulated results with a known truth. Pure and seeded: the data
 * generation, the scenario table, the Wilson interval and the report. `scripts/calibrate.mjs` runs it on both
 * cores (`npm run calibrate`); test/node/calibration.test.ts runs the null scenario.
 *
 * The data are paired, like a real task's: every example has a difficulty shared by all models (hard examples are
 * hard for every model), plus noise of each model's own, plus the model's true mean. Loss (lower is better):
 * value = true mean + difficulty (SD 1) + noise (SD 0.5), in nats. Accuracy (higher is better): each example is
 * right with probability sigmoid(θ − 1.5 × difficulty), θ set so the model's expected accuracy is its true mean.
 */
import {
  DEFAULT_OPTIONS,
  analyseFamily,
  type AnalysisOptions,
  type FamilyInput,
  type Verdict,
  VERDICTS,
} from "../src/analysis/statistics";
import { at } from "../src/analysis/checked";
import { mulberry32 } from "../src/analysis/contrasts";

export { ANALYSIS_CODE_VERSION } from "../src/analysis/statistics";

/** The verdicts in the order the report shows them: the order the analysis lists them in. */
export const VERDICT_ORDER = VERDICTS;
/** The verdicts that claim a trend or a shape; with no true trend every one of them is a false claim. */
export const CLAIMS = ["inverse", "standard", "u_shaped", "inverted_u"] as const satisfies readonly Verdict[];

export const DIFFICULTY_SD = 1;
export const NOISE_SD = 0.5;
export const BASE_LOSS = 3;
/** Spread of the examples' difficulty on the logit scale, for accuracy. */
export const ACCURACY_DIFFICULTY_SD = 1.5;
export const BASE_ACCURACY = 0.7;
export const DEFAULT_SEED = 20221010;

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32, the analysis's own seeded uniform generator on [0, 1), the same on every platform. */
export { mulberry32 };

/** One 32-bit seed from several (murmur3's finaliser after each part), so nearby inputs give unrelated streams. */
export function mixSeed(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part >>> 0), 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** FNV-1a: a cell's seed comes from its name, so adding or reordering scenarios leaves the other cells' data alone. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Standard normal draws by Box–Muller, using both values of each pair. */
export function normalSource(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The Wilson score interval

export interface Proportion {
  count: number;
  trials: number;
  share: number;
  /** 95% Wilson score interval. */
  ci95: [number, number];
}

const Z95 = 1.959963984540054;

export function wilson(count: number, trials: number, z = Z95): [number, number] {
  if (!(trials > 0) || count < 0 || count > trials) throw new RangeError(`wilson: ${count} of ${trials}`);
  const p = count / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // The bounds are exactly 0 and 1 at the extremes; rounding must not move them past.
  return [count === 0 ? 0 : Math.max(0, centre - half), count === trials ? 1 : Math.min(1, centre + half)];
}

export function proportion(count: number, trials: number): Proportion {
  return { count, trials, share: count / trials, ci95: wilson(count, trials) };
}

// ---------------------------------------------------------------------------------------------------------------
// Families, scenarios and cells

export interface Family {
  name: string;
  label: string;
  models: { id: string; scale: number }[];
}

const family = (name: string, label: string, sizes: [string, number][]): Family => ({
  name,
  label,
  models: sizes.map(([size, scale]) => ({ id: `${name}-${size}`, scale })),
});

export const FAMILIES: readonly Family[] = [
  family("gpt3", "GPT-3 sizes", [
    ["350M", 350e6],
    ["1.3B", 1.3e9],
    ["6.7B", 6.7e9],
    ["175B", 175e9],
  ]),
  family("pythia", "Pythia-like sizes", [
    ["70M", 70e6],
    ["160M", 160e6],
    ["410M", 410e6],
    ["1B", 1e9],
    ["1.4B", 1.4e9],
    ["2.8B", 2.8e9],
    ["6.9B", 6.9e9],
    ["12B", 12e9],
  ]),
];

export const EXAMPLE_COUNTS: readonly number[] = [300, 1000];

export type Metric = "loss" | "accuracy";
export const METRIC_DIRECTION: Record<Metric, AnalysisOptions["direction"]> = {
  loss: "lower_is_better",
  accuracy: "higher_is_better",
};

export interface Scenario {
  id: string;
  label: string;
  metric: Metric;
  /** The truth in words, in performance terms. */
  truth: string;
  /** True mean of each model (nats of loss, or accuracy), from log10 of the scales in ascending order. */
  trueMeans(log10Scales: readonly number[]): number[];
  /** Verdicts that find the truth: their share is the power. Empty for a null. */
  detects: readonly Verdict[];
  /** Verdicts that claim something false. The others (inconclusive, and flat where it is true) miss but do not mislead. */
  falseClaims: readonly Verdict[];
}

const SMALL_SLOPE = 0.03;
const STRONG_SLOPE = 0.1;
const SHAPE_HEIGHT = 0.15;
const STEP = 0.25;

/** 0 at the smallest model, rising linearly in log scale to 1 at the middle model, back to 0 at the largest. */
function tent(z: readonly number[]): number[] {
  const turn = Math.floor(z.length / 2);
  const first = at(z, 0);
  const peak = at(z, turn);
  const last = at(z, z.length - 1);
  return z.map((value) => (value <= peak ? (value - first) / (peak - first) : (last - value) / (last - peak)));
}

const constant =
  (value: number) =>
  (z: readonly number[]): number[] =>
    z.map(() => value);
const linear =
  (perDecade: number) =>
  (z: readonly number[]): number[] => {
    const first = at(z, 0);
    return z.map((value) => BASE_LOSS + perDecade * (value - first));
  };
const notFalse = (...allowed: Verdict[]): Verdict[] => VERDICT_ORDER.filter((verdict) => !allowed.includes(verdict));

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "null-loss",
    label: "null (loss)",
    metric: "loss",
    truth: `every model has loss ${BASE_LOSS}`,
    trueMeans: constant(BASE_LOSS),
    detects: [],
    falseClaims: CLAIMS,
  },
  {
    id: "null-accuracy",
    label: "null (accuracy)",
    metric: "accuracy",
    truth: `every model has accuracy ${BASE_ACCURACY} (difficulty SD ${ACCURACY_DIFFICULTY_SD} logits)`,
    trueMeans: constant(BASE_ACCURACY),
    detects: [],
    falseClaims: CLAIMS,
  },
  {
    id: "small-inverse",
    label: "small inverse",
    metric: "loss",
    truth: `loss rises ${SMALL_SLOPE} nats a decade: inside the flat margin (0.05 SD ≈ 0.056), so flat is not false`,
    trueMeans: linear(SMALL_SLOPE),
    detects: ["inverse"],
    falseClaims: notFalse("inverse", "flat", "inconclusive"),
  },
  {
    id: "strong-inverse",
    label: "strong inverse",
    metric: "loss",
    truth: `loss rises ${STRONG_SLOPE} nats a decade`,
    trueMeans: linear(STRONG_SLOPE),
    detects: ["inverse"],
    falseClaims: notFalse("inverse", "inconclusive"),
  },
  {
    id: "standard",
    label: "standard",
    metric: "loss",
    truth: `loss falls ${STRONG_SLOPE} nats a decade`,
    trueMeans: linear(-STRONG_SLOPE),
    detects: ["standard"],
    falseClaims: notFalse("standard", "inconclusive"),
  },
  {
    id: "u-shaped",
    label: "U",
    metric: "loss",
    truth: `worse then better: loss rises ${SHAPE_HEIGHT} nats to the middle model (linear in log scale), then falls back`,
    trueMeans: (z) => tent(z).map((height) => BASE_LOSS + SHAPE_HEIGHT * height),
    detects: ["u_shaped"],
    falseClaims: notFalse("u_shaped", "inconclusive"),
  },
  {
    id: "inverted-u",
    label: "inverted U",
    metric: "loss",
    truth: `better then worse: loss falls ${SHAPE_HEIGHT} nats to the middle model (linear in log scale), then rises back`,
    trueMeans: (z) => tent(z).map((height) => BASE_LOSS - SHAPE_HEIGHT * height),
    detects: ["inverted_u"],
    falseClaims: notFalse("inverted_u", "inconclusive"),
  },
  {
    id: "flat-then-worse",
    label: "flat then worse",
    metric: "loss",
    truth: `all equal but the largest model, whose loss is ${STEP} nats higher`,
    trueMeans: (z) => z.map((_, m) => BASE_LOSS + (m === z.length - 1 ? STEP : 0)),
    detects: ["inverse"],
    falseClaims: notFalse("inverse", "inconclusive"),
  },
  {
    id: "worse-then-flat",
    label: "worse then flat",
    metric: "loss",
    truth: `loss ${STEP} nats higher from the second model on, then flat`,
    trueMeans: (z) => z.map((_, m) => BASE_LOSS + (m === 0 ? 0 : STEP)),
    detects: ["inverse"],
    falseClaims: notFalse("inverse", "inconclusive"),
  },
];

export interface Cell {
  scenario: Scenario;
  family: Family;
  examples: number;
}

export const cellKey = (cell: Cell): string => `${cell.scenario.id}/n${cell.examples}/${cell.family.name}`;

/** Every scenario at every number of examples and both families, in the report's order. */
export function calibrationCells(scenarios: readonly Scenario[] = SCENARIOS): Cell[] {
  return scenarios.flatMap((scenario) =>
    EXAMPLE_COUNTS.flatMap((examples) => FAMILIES.map((family) => ({ scenario, family, examples }))),
  );
}

export const log10Scales = (family: Family): number[] => family.models.map((model) => Math.log10(model.scale));
export const cellTrueMeans = (cell: Cell): number[] => cell.scenario.trueMeans(log10Scales(cell.family));

/** Least-squares change of the true means per decade of scale, in metric units. */
export function trueSlope(means: readonly number[], z: readonly number[]): number {
  const zMean = z.reduce((a, b) => a + b, 0) / z.length;
  const yMean = means.reduce((a, b) => a + b, 0) / means.length;
  let cross = 0;
  let spread = 0;
  z.forEach((value, i) => {
    cross += (value - zMean) * (at(means, i) - yMean);
    spread += (value - zMean) ** 2;
  });
  return cross / spread;
}

// ---------------------------------------------------------------------------------------------------------------
// Data generation

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** θ with E[sigmoid(θ − sd × d)] = accuracy for d ~ N(0, 1), by bisection on a fixed quadrature grid. */
export function accuracyLogit(accuracy: number, sd = ACCURACY_DIFFICULTY_SD): number {
  if (!(accuracy > 0 && accuracy < 1)) throw new RangeError(`accuracy ${accuracy} must lie strictly between 0 and 1`);
  const step = 0.01;
  const expected = (theta: number): number => {
    let total = 0;
    let weights = 0;
    for (let x = -8; x <= 8; x += step) {
      const weight = Math.exp(-0.5 * x * x);
      total += weight * sigmoid(theta - sd * x);
      weights += weight;
    }
    return total / weights;
  };
  let low = -30;
  let high = 30;
  for (let i = 0; i < 100; i++) {
    const middle = (low + high) / 2;
    if (expected(middle) < accuracy) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** One simulated family of results for a cell, from `random`. */
export function generateFamily(cell: Cell, random: () => number, trueMeans = cellTrueMeans(cell)): FamilyInput {
  const { family, examples } = cell;
  const normal = normalSource(random);
  const columns = family.models.map((model, m) => ({
    model,
    mean: at(trueMeans, m),
    values: new Float64Array(examples),
  }));
  if (cell.scenario.metric === "loss") {
    for (let i = 0; i < examples; i++) {
      const difficulty = DIFFICULTY_SD * normal();
      for (const { mean, values } of columns) values[i] = mean + difficulty + NOISE_SD * normal();
    }
  } else {
    const logits = columns.map(({ mean, values }) => ({ logit: accuracyLogit(mean), values }));
    for (let i = 0; i < examples; i++) {
      const difficulty = ACCURACY_DIFFICULTY_SD * normal();
      for (const { logit, values } of logits) values[i] = random() < sigmoid(logit - difficulty) ? 1 : 0;
    }
  }
  return {
    family: family.name,
    axis: "params",
    models: columns.map(({ model, values }) => ({ id: model.id, scale: model.scale, values })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Running replicates

export type VerdictCounts = Record<Verdict, number>;
export type Analyse = (input: FamilyInput, options: AnalysisOptions) => { verdict: Verdict };

export interface RunSettings {
  seed: number;
  bootstrapSamples: number;
}

/** A record with one entry per verdict. */
export function byVerdict<T>(value: (verdict: Verdict) => T): Record<Verdict, T> {
  return {
    inverse: value("inverse"),
    standard: value("standard"),
    u_shaped: value("u_shaped"),
    inverted_u: value("inverted_u"),
    flat: value("flat"),
    inconclusive: value("inconclusive"),
  };
}

export const emptyCounts = (): VerdictCounts => byVerdict(() => 0);

export function addCounts(total: VerdictCounts, more: VerdictCounts): VerdictCounts {
  for (const verdict of VERDICT_ORDER) total[verdict] += more[verdict];
  return total;
}

/**
 * Replicates [from, to) of a cell. Replicate r's data and bootstrap seed depend only on the run's seed, the cell's
 * name and r, so any split of the replicates over workers gives the same counts.
 */
export function runReplicates(
  cell: Cell,
  from: number,
  to: number,
  settings: RunSettings,
  analyse: Analyse = analyseFamily,
): VerdictCounts {
  const counts = emptyCounts();
  const trueMeans = cellTrueMeans(cell);
  const cellSeed = mixSeed(settings.seed, hashString(cellKey(cell)));
  const direction = METRIC_DIRECTION[cell.scenario.metric];
  for (let r = from; r < to; r++) {
    const input = generateFamily(cell, mulberry32(mixSeed(cellSeed, r, 1)), trueMeans);
    const options: AnalysisOptions = {
      ...DEFAULT_OPTIONS,
      direction,
      seed: mixSeed(cellSeed, r, 2),
      bootstrapSamples: settings.bootstrapSamples,
    };
    counts[analyse(input, options).verdict]++;
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------------------------
// Summaries and the report

export interface CellSummary {
  scenario: string;
  label: string;
  metric: Metric;
  family: string;
  models: number;
  examples: number;
  trueMeans: number[];
  replicates: number;
  verdicts: Record<Verdict, Proportion>;
  /** Share of verdicts that find the truth (the power); null for a null scenario. */
  detected: Proportion | null;
  falseClaims: Proportion;
}

export function summariseCell(cell: Cell, counts: VerdictCounts): CellSummary {
  const replicates = VERDICT_ORDER.reduce((sum, verdict) => sum + counts[verdict], 0);
  const verdicts = byVerdict((verdict) => proportion(counts[verdict], replicates));
  const sum = (list: readonly Verdict[]): number => list.reduce((total, verdict) => total + counts[verdict], 0);
  return {
    scenario: cell.scenario.id,
    label: cell.scenario.label,
    metric: cell.scenario.metric,
    family: cell.family.name,
    models: cell.family.models.length,
    examples: cell.examples,
    trueMeans: cellTrueMeans(cell),
    replicates,
    verdicts,
    detected: cell.scenario.detects.length === 0 ? null : proportion(sum(cell.scenario.detects), replicates),
    falseClaims: proportion(sum(cell.scenario.falseClaims), replicates),
  };
}

const VERDICT_HEADINGS: Record<Verdict, string> = {
  inverse: "inverse",
  standard: "standard",
  u_shaped: "U",
  inverted_u: "inv. U",
  flat: "flat",
  inconclusive: "inconcl.",
};

const pct = (share: number): string => (100 * share).toFixed(1);
const withInterval = (p: Proportion, bold = false): string => {
  const share = bold ? `**${pct(p.share)}**` : pct(p.share);
  return `${share} (${pct(p.ci95[0])}–${pct(p.ci95[1])})`;
};

/** The verdict table: shares in % with 95% Wilson intervals; the verdicts that detect the truth in bold. */
export function verdictTable(summaries: readonly CellSummary[]): string {
  const lookup = new Map(SCENARIOS.map((scenario) => [scenario.id, scenario]));
  const lines = [
    `| scenario | n | models | ${VERDICT_ORDER.map((verdict) => VERDICT_HEADINGS[verdict]).join(" | ")} | false claims |`,
    `|---|---:|---:|${VERDICT_ORDER.map(() => "---|").join("")}---|`,
  ];
  for (const summary of summaries) {
    const detects = lookup.get(summary.scenario)?.detects ?? [];
    const shares = VERDICT_ORDER.map((verdict) => withInterval(summary.verdicts[verdict], detects.includes(verdict)));
    lines.push(
      `| ${summary.label} | ${summary.examples} | ${summary.models} | ${shares.join(" | ")} | ${withInterval(summary.falseClaims)} |`,
    );
  }
  return lines.join("\n");
}

const means3 = (means: readonly number[]): string => {
  const [first] = means;
  return first !== undefined && means.every((mean) => mean === first)
    ? `all ${first.toFixed(3)}`
    : means.map((mean) => mean.toFixed(3)).join(", ");
};

/** What each scenario's truth is: its true means for each family, and which verdicts count as found or false. */
export function scenarioLegend(scenarios: readonly Scenario[] = SCENARIOS): string {
  const heading = FAMILIES.map((f) => `true means, ${f.models.length} models`).join(" | ");
  const lines = [
    `| scenario | truth | ${heading} | detects | false claims |`,
    `|---|---|${FAMILIES.map(() => "---|").join("")}---|---|`,
  ];
  const names = (list: readonly Verdict[]): string =>
    list.length === 0 ? "—" : list.map((verdict) => VERDICT_HEADINGS[verdict]).join(", ");
  for (const scenario of scenarios) {
    const perFamily = FAMILIES.map((f) => means3(scenario.trueMeans(log10Scales(f))));
    const verdicts = `${names(scenario.detects)} | ${names(scenario.falseClaims)}`;
    lines.push(`| ${scenario.label} | ${scenario.truth} | ${perFamily.join(" | ")} | ${verdicts} |`);
  }
  const sizes = FAMILIES.map(
    (f) => `${f.models.length} models: ${f.label} (${f.models.map((m) => m.id.slice(f.name.length + 1)).join(", ")})`,
  );
  return [
    `Loss in nats (lower is better) = true mean + example difficulty (SD ${DIFFICULTY_SD}, shared by all models) ` +
      `+ noise (SD ${NOISE_SD}, each model's own).`,
    `Accuracy: each example right with probability sigmoid(θ − ${ACCURACY_DIFFICULTY_SD} × difficulty), ` +
      `θ set for the true accuracy. ${sizes.join("; ")}.`,
    "",
    ...lines,
  ].join("\n");
}

/**
 * One line a scenario, one column a size: the share of verdicts that detect the truth (for a null, the share
 * called flat), then the false-claim share with the upper end of its 95% Wilson interval. Short enough for the README; the full table follows it.
 */
export function summaryTable(summaries: readonly CellSummary[]): string {
  const columns = [...new Set(summaries.map((summary) => `${summary.examples}/${summary.models}`))];
  const lines = [
    `| scenario | ${columns.map((column) => `n = ${column.replace("/", ", ")} models`).join(" | ")} |`,
    `|---|${columns.map(() => "---|").join("")}`,
  ];
  for (const label of [...new Set(summaries.map((summary) => summary.label))]) {
    const cells = columns.map((column) => {
      const summary = summaries.find((one) => one.label === label && `${one.examples}/${one.models}` === column);
      if (!summary) return "";
      // With no truth to find, the share called flat says how often the data can show there is none.
      const found =
        summary.detected === null
          ? `${pct(summary.verdicts.flat.share)} flat · `
          : `${pct(summary.detected.share)} found · `;
      return `${found}${pct(summary.falseClaims.share)} false (≤ ${pct(summary.falseClaims.ci95[1])})`;
    });
    lines.push(`| ${label} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

export interface CalibrationReport {
  markdown: string;
  cells: CellSummary[];
}

export function calibrationReport(
  cells: readonly Cell[],
  counts: readonly VerdictCounts[],
  header: string,
): CalibrationReport {
  const summaries = cells.map((cell, i) => summariseCell(cell, at(counts, i)));
  const scenarios = [...new Set(cells.map((cell) => cell.scenario))];
  const markdown = [
    header,
    "",
    summaryTable(summaries),
    "",
    verdictTable(summaries),
    "",
    scenarioLegend(scenarios),
  ].join("\n");
  return { markdown, cells: summaries };
}
