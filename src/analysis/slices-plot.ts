/**
 * The figure of a task beside its controls and variants (issue 18): per family line, one panel with the task's line
 * and each control's and variant's line (their models' means with 95% intervals, from each slice's analysis), each
 * slice in the same colour and marker in every panel and named in the panel's key with its verdict and slope. The
 * panel's title gives each task-minus-other slope difference with its interval and claim. Drawn by plot.ts's own
 * layout and marks (panelGeometry, layOut, panelMarks, svgDocument), so it reads and behaves like every other plot:
 * no script, style or link, a <title> per point, a <desc> with every statement, every given string escaped.
 */
import type { SlopeDifference } from "../generated/types";
import type { Analysis } from "./analyse";
import { fixedLabel } from "./labels";
import {
  type Panel,
  type PanelDraft,
  headerChars,
  layOut,
  panelGeometry,
  panelMarks,
  svgDocument,
  valueAxisNames,
  valueRangesOf,
  wrapLegend,
} from "./plot";
import { lineName, shortReading, signed, slopeText, verdictText, wrap } from "./plot-text";
import type { SliceEntry, SlicesAnalysis } from "./slices-analysis";
import { slopePer } from "./statistics";

type Line = Analysis["families"][number];
type Orientation = Analysis["metric"]["orientation"];

/**
 * The two figures of a slices analysis: the task beside its controls and variants (with their slope differences),
 * or the task beside each group of its examples (one line per group).
 */
export type SlicesFigure = "contrasts" | "groups";
export const SLICES_FIGURES: readonly SlicesFigure[] = ["contrasts", "groups"];

/** The figure a `?figure=` query names (contrasts when absent), or undefined for another value. */
export function slicesFigureOf(query: string | undefined): SlicesFigure | undefined {
  if (query === undefined) return "contrasts";
  return SLICES_FIGURES.find((figure) => figure === query);
}

/** The slices each figure draws, in the analysis's order, the task first. */
const DRAWN_KINDS: Record<SlicesFigure, ReadonlySet<SliceEntry["kind"]>> = {
  contrasts: new Set(["task", "control", "variant"]),
  groups: new Set(["task", "group"]),
};

/** A drawn slice: its entry, its analysis, and the index of its colour and marker (the same in every panel). */
interface DrawnSlice {
  entry: SliceEntry;
  analysis: Analysis;
  style: number;
}

/**
 * What the leaderboard and the pages say of one slope difference: its line, what it is compared with, the
 * difference with its test interval and unit, the claim, and the statement in words.
 */
export interface ContrastFacts {
  family: string;
  axis: SlopeDifference["axis"];
  fixed?: SlopeDifference["fixed"];
  other: SlopeDifference["other"];
  pairing: SlopeDifference["pairing"];
  /** What the difference and its interval are per (with the metric's own units). */
  per: SlopeDifference["per"];
  /** The task's slope minus the other's. */
  estimate: number;
  /** The t interval the claim is read from, at `level`. */
  interval: [number, number];
  level: number;
  claim: SlopeDifference["claim"];
  taskTrend: SlopeDifference["taskTrend"];
  side: SlopeDifference["side"];
  statement: string;
}

export function contrastFacts(contrast: SlopeDifference): ContrastFacts {
  return {
    family: contrast.family,
    axis: contrast.axis,
    ...(contrast.fixed && { fixed: contrast.fixed }),
    other: contrast.other,
    pairing: contrast.pairing,
    per: contrast.per,
    estimate: contrast.difference.estimate,
    interval: contrast.difference.test.interval,
    level: contrast.difference.test.level,
    claim: contrast.claim,
    taskTrend: contrast.taskTrend,
    side: contrast.side,
    statement: contrast.statement,
  };
}

/** "control "facts.csv"" or "variant "few-shot"": how the figure and pages name what the task is compared with. */
export const otherWords = ({ role, label }: SlopeDifference["other"]): string => `${role} "${label}"`;

/** The claim, short: "excludes 0: the task's trend is worse", "includes 0: no difference shown". */
export function claimWords(facts: Pick<ContrastFacts, "claim" | "taskTrend" | "side">): string {
  if (facts.claim === "includes_zero") return "includes 0: no difference shown";
  if (facts.taskTrend !== null) return `excludes 0: the task's trend is ${facts.taskTrend}`;
  return `excludes 0: the task's slope is ${facts.side === "above" ? "higher" : "lower"}`;
}

const percent = (share: number): string => `${Number((share * 100).toPrecision(3))}%`;

/**
 * A slope difference in one sentence, shorter than its statement: "task − control "facts.csv": +0.62 per decade
 * (95% interval +0.41 to +0.83, unpaired), excludes 0: the task's trend is worse".
 */
export function contrastWords(facts: ContrastFacts): string {
  const [low, high] = facts.interval;
  const interval = `${percent(facts.level)} interval ${signed(low)} to ${signed(high)}, ${facts.pairing}`;
  return `task − ${otherWords(facts.other)}: ${signed(facts.estimate)} per ${facts.per} (${interval}), ${claimWords(facts)}`;
}

/** Whether a slice's line and a contrast (or another slice's line) are the same family line. */
const lineKey = (line: Pick<Line, "family" | "axis" | "fixed">): string =>
  `${line.family}\u0000${line.axis}\u0000${line.fixed ? fixedLabel(line.fixed) : ""}`;

/** A contrast's family line: "isv-reference", or "grid, 1B params" for a grid family's line. */
export const contrastLine = (facts: Pick<ContrastFacts, "family" | "fixed">): string =>
  facts.fixed ? `${facts.family}, ${fixedLabel(facts.fixed)}` : facts.family;

/** A slice's role and label, as its points' titles and the key name it. */
export function sliceName(entry: Pick<SliceEntry, "kind" | "name">): string {
  return entry.kind === "task" ? "task" : `${entry.kind} "${entry.name}"`;
}

function drawnSlices(slices: SlicesAnalysis, figure: SlicesFigure): DrawnSlice[] {
  return slices.slices
    .filter((entry) => DRAWN_KINDS[figure].has(entry.kind))
    .flatMap((entry) => (entry.analysis ? [{ entry, analysis: entry.analysis }] : []))
    .map((slice, style) => ({ ...slice, style }));
}

/** Per line of the task's analysis, a panel with the task's line and each other slice's line of the same family line. */
function panelsOf(drawn: DrawnSlice[]): { panel: Panel; taskLine: Line }[] {
  const [task, ...others] = drawn;
  if (task?.entry.kind !== "task") return [];
  return task.analysis.families.map((taskLine) => ({
    taskLine,
    panel: {
      family: taskLine.family,
      lines: [
        { line: taskLine, style: task.style, name: sliceName(task.entry) },
        ...others.flatMap(({ entry, analysis, style }) => {
          const line = analysis.families.find((candidate) => lineKey(candidate) === lineKey(taskLine));
          return line ? [{ line, style, name: sliceName(entry) }] : [];
        }),
      ],
    },
  }));
}

/** A slice's key entry: its name, verdict and slope ("control "facts.csv": standard, slope -0.3 per decade"). */
function keyText(name: string, line: Line, orientation: Orientation): string {
  const { value, unit } = slopePer(line.slope);
  return `${name}: ${verdictText(line, orientation)}, slope ${signed(value)} per ${unit}`;
}

/**
 * Whether a figure has anything to draw: a task analysed beside at least one analysed control or variant (or, for
 * the groups' figure, group).
 */
export function hasSlicesFigure(slices: SlicesAnalysis, figure: SlicesFigure = "contrasts"): boolean {
  return panelsOf(drawnSlices(slices, figure)).some(({ panel }) => panel.lines.length > 1);
}

/**
 * The figure of the task, its controls and its variants; undefined when there is nothing to compare (no analysed
 * task, or no control or variant with a line of it). Pass the slices a viewer may see (private families removed
 * for the public).
 */
export function renderSlicesPlot(
  slices: SlicesAnalysis,
  taskTitle: string,
  figure: SlicesFigure = "contrasts",
): string | undefined {
  const drawn = drawnSlices(slices, figure);
  const panels = panelsOf(drawn);
  const task = drawn[0];
  if (!task || !panels.some(({ panel }) => panel.lines.length > 1)) return undefined;
  const metric = task.analysis.metric;
  const { valueRanges, shared } = valueRangesOf(panels.map(({ panel }) => panel));
  const { plotWidth } = panelGeometry(panels.length);
  const drafts: PanelDraft[] = panels.map(({ panel, taskLine }, i) => ({
    panel,
    valueRange: valueRanges[i] ?? { low: 0, high: 1 },
    header: [
      lineName(taskLine),
      ...(figure === "contrasts" ? contrastsOf(slices, taskLine) : []).flatMap((facts) =>
        wrap(contrastWords(facts), headerChars(plotWidth)),
      ),
    ],
    legend: panel.lines.map(({ line, name }) =>
      wrapLegend(keyText(name ?? lineName(line), line, metric.orientation), plotWidth),
    ),
  }));
  const { layouts, bottom } = layOut(drafts);
  const chance = sharedChance(drawn);
  return svgDocument({
    title: `${taskTitle}: ${metric.label}, the task beside ${figure === "contrasts" ? "its controls and variants" : "each group of its examples"}`,
    description: describeSlices(drawn, figure === "contrasts" ? slices.contrasts : []),
    subtitle: `${metric.label}, ${shortReading(metric)}. One panel per family line; one line per slice.`,
    body: [
      ...valueAxisNames(layouts, metric),
      ...layouts.flatMap((layout, i) => panelMarks(layout, chance, panels[i]?.taskLine.axis ?? "params")),
    ],
    bottom,
    caption: captionOf(drawn, panels.length, shared, figure),
  });
}

/** The contrasts of one family line, in the analysis's order. */
function contrastsOf(slices: SlicesAnalysis, line: Line): ContrastFacts[] {
  return slices.contrasts.filter((contrast) => lineKey(contrast) === lineKey(line)).map(contrastFacts);
}

/** The chance level, when every drawn slice has the same one (a control of another class count has its own). */
function sharedChance(drawn: DrawnSlice[]): number | null {
  const levels = new Set(drawn.map(({ analysis }) => analysis.chance));
  const [only] = levels;
  return levels.size === 1 && only !== undefined ? only : null;
}

/** The <desc>: per slice, each line's means and verdict; then every slope difference's statement. */
function describeSlices(drawn: DrawnSlice[], contrasts: SlicesAnalysis["contrasts"]): string {
  const orientation = drawn[0]?.analysis.metric.orientation;
  const lines = drawn.flatMap(({ entry, analysis }) =>
    analysis.families.map((line) => {
      const means = line.models.map((model) => `${model.id} ${model.mean.toFixed(3)}`).join(", ");
      return `${sliceName(entry)} on ${lineName(line)}: ${means}; ${verdictText(line, orientation)}, ${slopeText(line)}.`;
    }),
  );
  const statements = contrasts.map((contrast) => `${contrastLine(contrast)}: ${contrast.statement}`);
  return [...lines, ...statements].join(" ");
}

function captionOf(drawn: DrawnSlice[], panels: number, shared: boolean, figure: SlicesFigure): string[] {
  const [task] = drawn;
  const names = drawn.map(({ entry }) => sliceName(entry)).join(", ");
  const sentences = [
    figure === "contrasts"
      ? `Lines: ${names}. Each panel's title gives the task's slope minus each other slice's, with the t interval its claim is read from.`
      : `Lines: ${names}. Each group is the task's examples in that group, analysed as a file of them alone would be.`,
    `Points are each slice's means over its examples shared by all models; bars are 95% paired-bootstrap intervals (seed ${task?.analysis.seed ?? 0}).`,
  ];
  if (panels > 1)
    sentences.push(
      shared
        ? "The panels share one value axis."
        : "Each panel has its own value and scale axes: compare panels by their tick labels, not by height.",
    );
  sentences.push(task?.analysis.codeVersion ?? "");
  return sentences;
}
