import type {
  Leaderboard,
  LeaderboardBehaviour,
  LeaderboardContrast,
  LeaderboardLine,
  SubmissionMetadata,
} from "../generated/types";
import { sha256Hex } from "../util/hash";
import { spreadsheetCsv } from "../util/spreadsheet-csv";
import type { Analysis } from "../analysis/analyse";
import { matchingBehaviourOf, orientedMetric, type MatchingBehaviour } from "../analysis/behaviour";
import { fixedLabel } from "../analysis/labels";
import { METRICS } from "../analysis/metrics";
import { lineVerdictWords } from "../analysis/plot";
import type { SlicesAnalysis } from "../analysis/slices-analysis";
import { contrastFacts } from "../analysis/slices-plot";
import { slopePer, type FamilyAnalysis } from "../analysis/statistics";

export const LEADERBOARD_SCHEMA_VERSION = 1;

/** A behaviour dataset's two matching metrics, in the order they are listed: the headline first. */
export const MATCHING_METRICS = ["matching_probability", "matching_win_rate"] as const;
export type MatchingMetricName = (typeof MATCHING_METRICS)[number];

export interface AcceptedTask {
  id: string;
  title: string;
  taskType: string;
  /** The metric the task is judged on. */
  headlineMetric: string | null;
  examples: number;
  acceptedAt: string;
  metadata: Partial<Pick<SubmissionMetadata, "authors" | "dataLicence" | "behaviour">>;
  /**
   * The newest analysis of each metric shown, by metric name: for a prize task its headline metric's (its verdicts
   * are shown and its slopes rank the task); for a behaviour dataset both matching metrics'. A metric not yet
   * analysed is absent.
   */
  analyses: Readonly<Partial<Record<string, Analysis>>>;
  /** Families an organiser marked private: never on the leaderboard. */
  privateFamilies: ReadonlySet<string>;
  /** The newest slices analysis of a task with controls or variants (or groups); absent without one. */
  slices?: SlicesAnalysis | undefined;
}

export const ORDERING =
  "Tasks: strongest inverse scaling first, by the lower bound of the verdict's 97% slope interval, as how much worse performance gets per decade of scale on the task's headline metric, in robust standard deviations of the metric over examples, for the line where it is largest (tasks without an analysis last); ties by acceptance time, then id. Only lines along a log axis rank a task (along size or FLOPs, or a family that is one line along its own log axis): a grid family's lines along RLHF steps, and slopes per 1000 RLHF steps, are shown but never ranked, so no two units are compared. Behaviour datasets (behaviours) are not ranked, against each other or the tasks: they are listed in order of acceptance, then id.";

/**
 * How firmly a family shows inverse scaling: the lower end of the interval of "worse per unit of its axis",
 * standardised by the examples' spread so that tasks with different metrics compare. Positive only when the whole
 * interval says worse. Compare it only between lines whose slopes share a unit (rankingLine).
 */
export function inverseStrength(family: FamilyAnalysis, direction: Analysis["metric"]["direction"]): number {
  const [low, high] = family.slope.test.interval;
  // Worse per decade is +slope when lower is better (loss rises), -slope when higher is better.
  const worseLow = direction === "lower_is_better" ? low : -high;
  return family.spread > 0 ? worseLow / family.spread : worseLow;
}

/**
 * Whether a line ranks its task: its slope is per decade, and it runs along size (or FLOPs), or it is a whole
 * family along the family's own axis. A grid family's lines along RLHF steps are left out even on a log axis: a
 * decade of RLHF steps is not a decade of scale.
 */
export function rankingLine(line: Pick<FamilyAnalysis, "slope" | "axis" | "fixed">): boolean {
  return slopePer(line.slope).unit === "decade" && (line.axis !== "rlhf_steps" || line.fixed === undefined);
}

/** The public leaderboard: prize tasks ranked by strength of inverse scaling, and behaviour datasets beside them. */
export function buildLeaderboard(tasks: AcceptedTask[], generatedAt: string): Leaderboard {
  const entries = tasks.filter((task) => task.taskType !== "behaviour").map(taskEntry);
  entries.sort(
    (a, b) =>
      (b.inverseStrength ?? -Infinity) - (a.inverseStrength ?? -Infinity) ||
      a.acceptedAt.localeCompare(b.acceptedAt) ||
      a.id.localeCompare(b.id),
  );
  const behaviours = tasks
    .filter((task) => task.taskType === "behaviour")
    .map(behaviourEntry)
    .sort((a, b) => a.acceptedAt.localeCompare(b.acceptedAt) || a.id.localeCompare(b.id));
  return {
    schemaVersion: LEADERBOARD_SCHEMA_VERSION,
    generatedAt,
    ordering: ORDERING,
    tasks: entries.map((entry, i) => ({ rank: i + 1, ...entry })),
    behaviours,
  };
}

/** A prize task, unranked yet: its headline metric's verdicts on the public lines, and its strongest ranking line. */
function taskEntry(task: AcceptedTask) {
  const analysis = task.headlineMetric === null ? undefined : task.analyses[task.headlineMetric];
  const lines = publicLines(analysis, task.privateFamilies);
  const strongest = analysis ? strongestLine(lines, analysis.metric.direction) : null;
  return {
    ...shownAbout(task),
    taskType: task.taskType,
    inverseStrength: strongest?.strength ?? null,
    rankedBy: strongest && rankedBy(strongest.line),
    // The headline metric: the one the task's declared type is scored by; verdicts and rank are on it.
    metric: task.headlineMetric,
    families: lines.map(lineEntry),
    // The plot along the axis of the line the rank comes from, so the page draws what it ranks by.
    plotUrl: lines.length > 0 ? plotUrlAlong(task.id, lines, strongest?.line.axis) : null,
    // Last, and only when there are some, so a task without controls or variants is listed exactly as before.
    ...contrastsOf(task),
  };
}

/**
 * A task's slope differences against its controls and variants on public lines, and the figure drawing them;
 * nothing when it has none.
 */
function contrastsOf(task: AcceptedTask): {
  contrasts?: Leaderboard["tasks"][number]["contrasts"];
  slicesPlotUrl?: string;
} {
  const [first, ...rest] = (task.slices?.contrasts ?? [])
    .filter((contrast) => !task.privateFamilies.has(contrast.family))
    .map((contrast): LeaderboardContrast => contrastFacts(contrast));
  return first ? { contrasts: [first, ...rest], slicesPlotUrl: `/v1/submissions/${task.id}/slices.svg` } : {};
}

/**
 * The public plot. When the lines run along more than one axis (a grid family), it is drawn along the ranked line's
 * axis, which need not be the first line's (the plot route's default).
 */
function plotUrlAlong(id: string, lines: readonly FamilyAnalysis[], rankedAxis: string | undefined): string {
  const axes = new Set(lines.map((line) => line.axis));
  const along = axes.size > 1 && rankedAxis !== undefined ? `?axis=${rankedAxis}` : "";
  return `/v1/submissions/${id}/plot.svg${along}`;
}

/** The ranking line where inverse scaling is strongest, and its strength; the first such line on a tie. */
function strongestLine(
  lines: FamilyAnalysis[],
  direction: Analysis["metric"]["direction"],
): { line: FamilyAnalysis; strength: number } | null {
  let best: { line: FamilyAnalysis; strength: number } | null = null;
  for (const line of lines.filter(rankingLine)) {
    const strength = inverseStrength(line, direction);
    if (best === null || strength > best.strength) best = { line, strength };
  }
  return best;
}

/** Which line a task's rank comes from, and that line's verdict (which need not be inverse). */
function rankedBy(line: FamilyAnalysis): NonNullable<Leaderboard["tasks"][number]["rankedBy"]> {
  return { family: line.family, axis: line.axis, ...(line.fixed ? { fixed: line.fixed } : {}), verdict: line.verdict };
}

/** What is shown of any accepted submission: never an email, and only the authors who agreed to be named. */
function shownAbout(task: AcceptedTask) {
  return {
    id: task.id,
    title: task.title,
    examples: task.examples,
    authors: (task.metadata.authors ?? [])
      .filter((author) => author.agreesToBeNamed === true)
      .map((author) => ({ name: author.name, ...(author.affiliation ? { affiliation: author.affiliation } : {}) })),
    dataLicence: task.metadata.dataLicence ?? "",
    acceptedAt: task.acceptedAt,
  };
}

/** An analysis's lines on families that are not private, in the analysis's order. */
function publicLines(analysis: Analysis | undefined, privateFamilies: ReadonlySet<string>): FamilyAnalysis[] {
  return (analysis?.families ?? []).filter((family) => !privateFamilies.has(family.family));
}

/** A line as listed: its axis, what it holds fixed (a grid's line), its verdict, and its slope under its unit. */
function lineEntry(line: FamilyAnalysis): LeaderboardLine {
  const slope = slopePer(line.slope);
  return {
    family: line.family,
    axis: line.axis,
    ...(line.fixed ? { fixed: line.fixed } : {}),
    verdict: line.verdict,
    ...(slope.unit === "decade" ? { slopePerDecade: slope.value } : { slopePer1000Steps: slope.value }),
    slopeCi95: line.slope.ci95,
    models: line.models.map((model) => ({
      id: model.id,
      scale: model.scale,
      mean: model.mean,
      standardError: model.standardError,
    })),
  };
}

/**
 * A behaviour dataset: which way its matching behaviour is good, both matching metrics with their own verdicts
 * (in words of direction when neither way is) and plots, and where the two disagree on a public line.
 */
function behaviourEntry(task: AcceptedTask): LeaderboardBehaviour {
  const matching = matchingBehaviourOf(task.metadata);
  const analyses = MATCHING_METRICS.map((name) => task.analyses[name]);
  // Both analyses carry the same disagreements (made together); whichever is present says them.
  const disagreements = analyses.find((analysis) => analysis?.disagreements)?.disagreements ?? [];
  return {
    ...shownAbout(task),
    matchingBehaviour: matching,
    metrics: MATCHING_METRICS.map((name) => behaviourMetricEntry(task, name, matching)),
    disagreements: disagreements
      .filter((disagreement) => !task.privateFamilies.has(disagreement.family))
      .map((disagreement) => disagreement.text),
  };
}

/** One matching metric of a behaviour dataset: how it reads (from its analysis, else as the metadata orients it). */
function behaviourMetricEntry(
  task: AcceptedTask,
  name: MatchingMetricName,
  matching: MatchingBehaviour,
): LeaderboardBehaviour["metrics"][number] {
  const analysis = task.analyses[name];
  const metric = analysis?.metric ?? orientedMetric(METRICS[name], matching);
  const orientation = metric.orientation ?? "performance";
  const lines = publicLines(analysis, task.privateFamilies);
  const axes = [...new Set(lines.map((line) => line.axis))];
  return {
    name,
    label: metric.label,
    direction: metric.direction,
    orientation,
    families: lines.map((line) => ({
      ...lineEntry(line),
      axis: line.axis,
      verdictWords: lineVerdictWords(line, orientation),
    })),
    plots: axes.map((axis) => ({ axis, url: `/v1/submissions/${task.id}/plot.svg?metric=${name}&axis=${axis}` })),
  };
}

/**
 * The board's ETag: a hash of everything on it but the time it was built, so a change to any section (a behaviour
 * dataset's as well as a task's) gives a new one, and a rebuild that changes nothing keeps it.
 */
export async function leaderboardEtag(board: Leaderboard): Promise<string> {
  const { generatedAt: _built, ...content } = board;
  return `"${(await sha256Hex(JSON.stringify(content))).slice(0, 32)}"`;
}

/** The public leaderboard: the type generated from schemas/leaderboard.schema.json. */
export type { Leaderboard };

/**
 * CSV for spreadsheets, of the ranked prize tasks only: a behaviour dataset has two metrics and no rank, which one
 * row of these columns could not say without ambiguity (they are in the JSON and on the page). Text that a
 * spreadsheet would run as a formula is neutralised; numbers stay numbers.
 */
export function leaderboardCsv(board: Leaderboard): string {
  const header = [
    "rank",
    "title",
    "task_type",
    "examples",
    "authors",
    "inverse_strength",
    "headline_metric",
    "verdicts",
    "data_licence",
    "accepted_at",
    "id",
  ];
  const rows = board.tasks.map((task) => [
    task.rank,
    task.title,
    task.taskType,
    task.examples,
    task.authors.map((author) => author.name).join("; "),
    task.inverseStrength === null ? "" : Number(task.inverseStrength.toFixed(4)),
    task.metric,
    task.families.map((family) => `${lineLabel(family)}: ${family.verdict}`).join("; "),
    task.dataLicence,
    task.acceptedAt,
    task.id,
  ]);
  return spreadsheetCsv([header, ...rows]);
}

/** A line's name: its family, and for a grid family's line what it holds fixed ("gpt, 1.3B params"). */
export function lineLabel(line: Pick<LeaderboardLine, "family" | "fixed">): string {
  return line.fixed ? `${line.family}, ${fixedLabel(line.fixed)}` : line.family;
}
