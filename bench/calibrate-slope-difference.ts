/**
 * Calibration of the task-minus-control slope difference (src/analysis/slope-difference.ts): how often it claims a
 * difference that is not there, how often its intervals cover the true difference, and how often it finds one
 * that is there. Pure and seeded, like bench/calibrate.ts, whose seeds, normal draws, families and Wilson
 * intervals it shares; scripts/calibrate.mjs runs it after the verdicts (`npm run calibrate`).
 *
 * The data are loss in nats on GPT-3's four sizes. Each example has a difficulty (SD 1) and a slope of its own
 * (SD EXAMPLE_SLOPE_SD per decade), shared by every model, plus each model's own noise (SD 0.5). Paired, the
 * control's example i is the task's example i in another format: the same difficulty and own slope, fresh noise.
 * Unpaired, the control's examples are drawn on their own and it has CONTROL_SHARE as many. Task and control differ
 * only in their true slope: equal under the null (both from one process), TRUE_DIFFERENCE apart otherwise.
 */
import { at } from "../src/analysis/checked";
import type { ModelInput } from "../src/analysis/family-input";
import {
  DEFAULT_SLOPE_DIFFERENCE_OPTIONS,
  slopeDifference,
  type Pairing,
  type SlopeDifferenceOptions,
} from "../src/analysis/slope-difference";
import {
  BASE_LOSS,
  DIFFICULTY_SD,
  FAMILIES,
  NOISE_SD,
  hashString,
  log10Scales,
  mixSeed,
  mulberry32,
  normalSource,
  proportion,
  type Family,
  type Proportion,
} from "./calibrate";

export const EXAMPLE_SLOPE_SD = 0.3;
/** An unpaired control's size relative to the task's, so the two standard errors (and Welch's df) differ. */
export const CONTROL_SHARE = 0.6;
/** The common true slope, per decade: both slices worsen with scale, as a task and a control of one format might. */
export const COMMON_SLOPE = 0.1;
/** The real difference's size, task − control, in nats per decade. */
export const TRUE_DIFFERENCE = 0.05;
export const DIFFERENCE_EXAMPLE_COUNTS: readonly number[] = [300, 1000];
export const PAIRINGS: readonly Pairing[] = ["paired", "unpaired"];

export interface DifferenceScenario {
  id: string;
  label: string;
  truth: string;
  /** True slope of the task and of the control, nats per decade. */
  taskSlope: number;
  controlSlope: number;
}

export const DIFFERENCE_SCENARIOS: readonly DifferenceScenario[] = [
  {
    id: "no-difference",
    label: "no difference",
    truth: `task and control both from one process, loss rising ${COMMON_SLOPE} nats a decade`,
    taskSlope: COMMON_SLOPE,
    controlSlope: COMMON_SLOPE,
  },
  {
    id: "task-worse",
    label: `task worse by ${TRUE_DIFFERENCE}`,
    truth: `the task's loss rises ${TRUE_DIFFERENCE} nats a decade faster than the control's`,
    taskSlope: COMMON_SLOPE + TRUE_DIFFERENCE,
    controlSlope: COMMON_SLOPE,
  },
];

export interface DifferenceCell {
  scenario: DifferenceScenario;
  pairing: Pairing;
  family: Family;
  examples: number;
}

export const differenceCellKey = (cell: DifferenceCell): string =>
  `difference/${cell.scenario.id}/${cell.pairing}/n${cell.examples}/${cell.family.name}`;

const GPT3 = at(FAMILIES, 0);

/** Every scenario, pairing and number of examples, on GPT-3's sizes, in the report's order. */
export function differenceCells(): DifferenceCell[] {
  return DIFFERENCE_SCENARIOS.flatMap((scenario) =>
    PAIRINGS.flatMap((pairing) =>
      DIFFERENCE_EXAMPLE_COUNTS.map((examples) => ({ scenario, pairing, family: GPT3, examples })),
    ),
  );
}

/** The slices of one replicate: the task's models and the control's, loss by example. */
export function generateSlices(
  cell: DifferenceCell,
  random: () => number,
): { task: ModelInput[]; control: ModelInput[] } {
  const normal = normalSource(random);
  const z = log10Scales(cell.family);
  const first = at(z, 0);
  const exampleTraits = (n: number) =>
    Array.from({ length: n }, () => ({ difficulty: DIFFICULTY_SD * normal(), slope: EXAMPLE_SLOPE_SD * normal() }));
  const slice = (traits: { difficulty: number; slope: number }[], trueSlope: number): ModelInput[] =>
    cell.family.models.map((model, m) => {
      const decades = at(z, m) - first;
      const values = Float64Array.from(
        traits,
        ({ difficulty, slope }) => BASE_LOSS + (trueSlope + slope) * decades + difficulty + NOISE_SD * normal(),
      );
      return { id: model.id, scale: model.scale, values };
    });
  const taskTraits = exampleTraits(cell.examples);
  const controlTraits =
    cell.pairing === "paired" ? taskTraits : exampleTraits(Math.round(CONTROL_SHARE * cell.examples));
  return {
    task: slice(taskTraits, cell.scenario.taskSlope),
    control: slice(controlTraits, cell.scenario.controlSlope),
  };
}

/** What the replicates of a cell showed. */
export interface DifferenceCounts {
  replicates: number;
  /** excludes_zero, and of those the ones with the task's trend worse (the true side when there is a difference). */
  claims: number;
  claimsWorse: number;
  /** Intervals containing the true difference: the test's t interval at its level, the bootstrap's 95%. */
  testCovers: number;
  bootstrapCovers: number;
}

export const emptyDifferenceCounts = (): DifferenceCounts => ({
  replicates: 0,
  claims: 0,
  claimsWorse: 0,
  testCovers: 0,
  bootstrapCovers: 0,
});

export function addDifferenceCounts(total: DifferenceCounts, more: DifferenceCounts): DifferenceCounts {
  total.replicates += more.replicates;
  total.claims += more.claims;
  total.claimsWorse += more.claimsWorse;
  total.testCovers += more.testCovers;
  total.bootstrapCovers += more.bootstrapCovers;
  return total;
}

export interface DifferenceSettings {
  seed: number;
  bootstrapSamples: number;
}

const covers = ([low, high]: [number, number], value: number): boolean => low <= value && value <= high;

/**
 * Replicates [from, to) of a cell. Replicate r's data and bootstrap seed depend only on the run's seed, the cell's
 * name and r, so any split of the replicates over workers gives the same counts.
 */
export function runDifferenceReplicates(
  cell: DifferenceCell,
  from: number,
  to: number,
  settings: DifferenceSettings,
): DifferenceCounts {
  const counts = emptyDifferenceCounts();
  const cellSeed = mixSeed(settings.seed, hashString(differenceCellKey(cell)));
  const truth = cell.scenario.taskSlope - cell.scenario.controlSlope;
  for (let r = from; r < to; r++) {
    const { task, control } = generateSlices(cell, mulberry32(mixSeed(cellSeed, r, 1)));
    const options: SlopeDifferenceOptions = {
      ...DEFAULT_SLOPE_DIFFERENCE_OPTIONS,
      pairing: cell.pairing,
      seed: mixSeed(cellSeed, r, 2),
      bootstrapSamples: settings.bootstrapSamples,
    };
    const result = slopeDifference(
      {
        family: cell.family.name,
        axis: "params",
        metric: { name: "loss", direction: "lower_is_better" },
        task,
        other: { role: "control", label: "simulated", models: control },
      },
      options,
    );
    counts.replicates++;
    if (result.claim === "excludes_zero") counts.claims++;
    if (result.taskTrend === "worse") counts.claimsWorse++;
    if (covers(result.difference.test.interval, truth)) counts.testCovers++;
    if (covers(result.difference.bootstrap.ci95, truth)) counts.bootstrapCovers++;
  }
  return counts;
}

export interface DifferenceSummary {
  scenario: string;
  label: string;
  pairing: Pairing;
  family: string;
  examples: number;
  controlExamples: number;
  trueDifference: number;
  level: number;
  replicates: number;
  /** With no true difference: false claims, to be at most 1 − level. With one: the power. */
  claims: Proportion;
  /** Claims on the true side (task worse); null with no true difference. */
  found: Proportion | null;
  testCoverage: Proportion;
  bootstrapCoverage: Proportion;
}

export function summariseDifferenceCell(cell: DifferenceCell, counts: DifferenceCounts): DifferenceSummary {
  const truth = cell.scenario.taskSlope - cell.scenario.controlSlope;
  const n = counts.replicates;
  return {
    scenario: cell.scenario.id,
    label: cell.scenario.label,
    pairing: cell.pairing,
    family: cell.family.name,
    examples: cell.examples,
    controlExamples: cell.pairing === "paired" ? cell.examples : Math.round(CONTROL_SHARE * cell.examples),
    trueDifference: truth,
    level: DEFAULT_SLOPE_DIFFERENCE_OPTIONS.level,
    replicates: n,
    claims: proportion(counts.claims, n),
    found: truth === 0 ? null : proportion(counts.claimsWorse, n),
    testCoverage: proportion(counts.testCovers, n),
    bootstrapCoverage: proportion(counts.bootstrapCovers, n),
  };
}

const pct = (share: number): string => (100 * share).toFixed(1);
const withInterval = (p: Proportion): string => `${pct(p.share)} (${pct(p.ci95[0])}–${pct(p.ci95[1])})`;

/** One row a cell: claims, power, and both intervals' coverage, in % with 95% Wilson intervals. */
export function differenceTable(summaries: readonly DifferenceSummary[]): string {
  const lines = [
    "| scenario | pairing | n task / control | excludes 0 | task worse (power) | t interval covers | bootstrap 95% covers |",
    "|---|---|---:|---|---|---|---|",
  ];
  for (const s of summaries) {
    const found = s.found === null ? "—" : withInterval(s.found);
    lines.push(
      `| ${s.label} | ${s.pairing} | ${s.examples} / ${s.controlExamples} | ${withInterval(s.claims)} | ${found} | ${withInterval(s.testCoverage)} | ${withInterval(s.bootstrapCoverage)} |`,
    );
  }
  return lines.join("\n");
}

export function differenceLegend(): string {
  const sizes = GPT3.models.map((model) => model.id.slice(GPT3.name.length + 1)).join(", ");
  return [
    `Loss in nats on ${GPT3.label} (${sizes}) = ${BASE_LOSS} + (true slope + the example's own slope, SD ${EXAMPLE_SLOPE_SD}) × decades ` +
      `+ difficulty (SD ${DIFFICULTY_SD}) + each model's noise (SD ${NOISE_SD}). Paired: the control's example i shares the ` +
      `task's difficulty and own slope. Unpaired: its own examples, ${CONTROL_SHARE} × as many.`,
    ...DIFFERENCE_SCENARIOS.map(
      (scenario) =>
        `${scenario.label}: ${scenario.truth} (true task − control ${(scenario.taskSlope - scenario.controlSlope).toFixed(2)} nats a decade).`,
    ),
    `"excludes 0" is the claim; with no difference it is a false claim and must stay at most ${pct(1 - DEFAULT_SLOPE_DIFFERENCE_OPTIONS.level)}%.`,
  ].join("\n");
}

export interface DifferenceReport {
  markdown: string;
  cells: DifferenceSummary[];
}

export function differenceReport(
  cells: readonly DifferenceCell[],
  counts: readonly DifferenceCounts[],
  header: string,
): DifferenceReport {
  const summaries = cells.map((cell, i) => summariseDifferenceCell(cell, at(counts, i)));
  return { markdown: [header, "", differenceTable(summaries), "", differenceLegend()].join("\n"), cells: summaries };
}
