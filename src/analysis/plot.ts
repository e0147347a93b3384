import { escapeXml } from "../util/escape";
import type { Analysis } from "./analyse";
import { fixedLabel, formatScale } from "./labels";
import { lineStyle, markerShape } from "./plot-marks";
import {
  type Range,
  canShareValueAxis,
  dataRange,
  formatValueTick,
  linearScaleRange,
  linearTicks,
  logScaleRange,
  logTicks,
  padded,
  union,
  valueTicks,
} from "./plot-scales";
import {
  captionSentences,
  describe,
  legendText,
  lineName,
  panelVerdict,
  shortReading,
  truncate,
  turningModel,
  wrap,
} from "./plot-text";

/**
 * Draws an analysis as a standalone SVG of small multiples: one panel per model family, each with its own value
 * range fitted to its intervals and its own scale range over its models, so a family whose values are 20 times
 * smaller than another's still shows its shape. Panels share a value axis only when every family would still fill
 * most of it (plot-scales.ts SHARE_FILL), and the caption says which. A grid family's panel has one line per size
 * (along RLHF steps) or per step count (along size), each labelled with what it holds fixed; the two axes are never
 * in one chart. An axis that contains 0 (RLHF steps with the pretrained model) is drawn linear. A direction-only
 * metric is never given a performance verdict or a better side. Every point has a <title> with its model, scale,
 * mean and interval, and <desc> says every verdict. Pure string building with presentation attributes only (no
 * script, style or external reference), so the Worker draws it and a strict CSP shows it; the same analysis always
 * gives the same bytes.
 */

type Line = Analysis["families"][number];
type Axis = Line["axis"];
type ModelPoint = Line["models"][number];
type Metric = Analysis["metric"];

/** The axes a plot can be drawn along (the `axis` of an analysis's lines). */
export const PLOT_AXES = ["params", "rlhf_steps", "flops"] as const satisfies readonly Axis[];
export const isPlotAxis = (name: string): name is Axis => PLOT_AXES.some((axis) => axis === name);

/** The axes the analysis's lines run along, in the order of its lines: the plots it can be drawn as. */
export function plotAxes(analysis: Analysis): Axis[] {
  return [...new Set(analysis.families.map((family) => family.axis))];
}

export { formatScale } from "./labels";
export { lineVerdictWords } from "./plot-text";

const WIDTH = 720;
/** Left of the panels: the value axis's name, turned; the title and subtitle sit above them. */
const OUTER = { left: 30, right: 10, top: 62 };
/** Inside a panel, beside its plot area: value tick labels on the left. */
const GUTTER = { left: 50, right: 14 };
const PLOT_HEIGHT = { alone: 260, paired: 220 };
const HEADER_LINE = 15;
const LEGEND_LINE = 15;
const CAPTION_LINE = 15;
/** Tick labels and the scale axis's name under a plot area. */
const BELOW_PLOT = 38;
const PANEL_GAP = 22;
/** Average glyph widths (px) at the sizes drawn, to wrap text before it runs out of its panel. */
const GLYPH = { header: 6.2, small: 6.5 };

const n = (value: number): string => (Math.round(value * 100) / 100).toString();

/** The analysis's lines along `axis` (default: its first line's), drawn; lines along another axis are not. */
export function renderPlot(analysis: Analysis, taskTitle: string, axis?: Axis): string {
  const along = axis ?? analysis.families[0]?.axis ?? "params";
  const shown: Analysis = { ...analysis, families: analysis.families.filter((family) => family.axis === along) };
  return draw(shown, taskTitle, along);
}

/**
 * A family's panel: its lines, each with the index of its colour and marker (lineStyle) and, when it is not the
 * family's own line (a slice of a submission: slices-plot.ts), the name its points' titles give it.
 */
export interface Panel {
  family: string;
  lines: { line: Line; style: number; name?: string }[];
}

/**
 * The lines grouped by family, in order of first appearance. A grid family's line is styled by what it holds
 * fixed, so "1B params" looks the same in every panel; a family that is one line, by its panel.
 */
function panelsOf(lines: Line[]): Panel[] {
  const panels: Panel[] = [];
  const fixedValues = [...new Set(lines.flatMap((line) => (line.fixed ? [fixedLabel(line.fixed)] : [])))];
  for (const line of lines) {
    const panel = panels.find((candidate) => candidate.family === line.family);
    const panelIndex = panel ? panels.indexOf(panel) : panels.length;
    const style = line.fixed ? fixedValues.indexOf(fixedLabel(line.fixed)) : panelIndex;
    if (panel) panel.lines.push({ line, style });
    else panels.push({ family: line.family, lines: [{ line, style }] });
  }
  return panels;
}

/** Where a panel sits and what it says, before any data is mapped into it. */
export interface PanelLayout {
  panel: Panel;
  /** Where the row's headers start, so panels side by side have their titles on one line. */
  headerTop: number;
  plotLeft: number;
  plotWidth: number;
  plotTop: number;
  plotHeight: number;
  header: string[];
  /** A grid family's key: each line's entry, wrapped to the panel's width. */
  legend: string[][];
  valueRange: Range;
}

function draw(analysis: Analysis, taskTitle: string, axis: Axis): string {
  const panels = panelsOf(analysis.families);
  const { valueRanges, shared } = valueRangesOf(panels);
  const { plotWidth } = panelGeometry(panels.length);
  const drafts = panels.map((panel, i) => {
    const valueRange = valueRanges[i] ?? { low: 0, high: 1 };
    const legend =
      panel.lines.length > 1 ? panel.lines.map(({ line }) => legendText(line, analysis.metric.orientation)) : [];
    return {
      panel,
      valueRange,
      header: panelHeader(panel, analysis, valueRange, plotWidth + GUTTER.right),
      legend: legend.map((entry) => wrapLegend(entry, plotWidth)),
    };
  });
  const { layouts, bottom } = layOut(drafts);
  return svgDocument({
    title: `${taskTitle}: ${analysis.metric.label} against ${axis === "rlhf_steps" ? "RLHF steps" : "scale"}`,
    description: describe(analysis),
    subtitle: subtitle(analysis.metric, panels.length),
    body: [
      ...valueAxisNames(layouts, analysis.metric),
      ...layouts.flatMap((layout) => panelMarks(layout, analysis.chance, axis)),
    ],
    bottom,
    caption: captionSentences(analysis, panels.length, shared),
  });
}

/** What a figure of panels says around them; the panels' marks are its body, drawn above `bottom`. */
export interface FigureText {
  title: string;
  /** The <desc> read by screen readers. */
  description: string;
  subtitle: string;
  body: string[];
  /** Where the caption starts: layOut's bottom. */
  bottom: number;
  /** The caption's sentences, the first (the verdicts) darker; each wrapped to the width. */
  caption: string[];
}

/** A figure as a standalone SVG: title, description, white ground, heading, subtitle, the body, then the caption. */
export function svgDocument(figure: FigureText): string {
  const { title, bottom } = figure;
  const caption = figure.caption.flatMap((sentence, k) =>
    wrap(sentence, Math.floor((WIDTH - OUTER.left - OUTER.right) / GLYPH.small)).map((text) => ({
      text,
      colour: k === 0 ? "#111" : "#555",
    })),
  );
  const height = bottom + caption.length * CAPTION_LINE + 12;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="plot-title plot-desc" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title id="plot-title">${escapeXml(title)}</title>`,
    `<desc id="plot-desc">${escapeXml(figure.description)}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${OUTER.left}" y="26" font-size="15" font-weight="600">${escapeXml(truncate(title, 78))}</text>`,
    `<text x="${OUTER.left}" y="46" fill="#333">${escapeXml(figure.subtitle)}</text>`,
    ...figure.body,
    ...caption.map(
      (line, i) =>
        `<text x="${OUTER.left}" y="${bottom + 4 + i * CAPTION_LINE}" font-size="11" fill="${line.colour}">${escapeXml(line.text)}</text>`,
    ),
    `</svg>`,
  ];
  return `${parts.join("\n")}\n`;
}

/** "Loss (nats), lower is better. One panel per model family." */
function subtitle(metric: Metric, panels: number): string {
  return `${metric.label}, ${shortReading(metric)}.${panels > 1 ? " One panel per model family." : ""}`;
}

/**
 * Each panel's value range: its own, fitted to its intervals and means, or one shared by all when every panel
 * would still fill most of it. A panel with no finite value (an analysis with no resamples) gets 0 to 1.
 */
export function valueRangesOf(panels: Panel[]): { valueRanges: Range[]; shared: boolean } {
  const ranges = panels.map((panel) =>
    dataRange(panel.lines.flatMap(({ line }) => line.models.flatMap((model) => [...model.ci95, model.mean]))),
  );
  const known = ranges.filter((range): range is Range => range !== null);
  const shared = known.length === ranges.length && canShareValueAxis(known);
  const whole = shared ? union(known) : null;
  return { valueRanges: ranges.map((range) => padded(whole ?? range ?? { low: 0, high: 1 })), shared };
}

/** Panels in one column when alone, else two: each panel's width, its plot area's width and height. */
export function panelGeometry(count: number): {
  columns: number;
  panelWidth: number;
  plotWidth: number;
  plotHeight: number;
} {
  const columns = count === 1 ? 1 : 2;
  const panelWidth = (WIDTH - OUTER.left - OUTER.right) / columns;
  return {
    columns,
    panelWidth,
    plotWidth: panelWidth - GUTTER.left - GUTTER.right,
    plotHeight: columns === 1 ? PLOT_HEIGHT.alone : PLOT_HEIGHT.paired,
  };
}

/** How many characters of header text fit across a panel of this plot width (panelHeader's width). */
export const headerChars = (plotWidth: number): number => Math.floor((plotWidth + GUTTER.right) / GLYPH.header);

/** A legend entry wrapped to a panel's plot width, beside its line and marker. */
export const wrapLegend = (entry: string, plotWidth: number): string[] =>
  wrap(entry, Math.floor((plotWidth - 24) / GLYPH.small));

/** A panel before layout: its lines, value range, and the header and legend it says (already wrapped). */
export type PanelDraft = Omit<PanelLayout, "headerTop" | "plotLeft" | "plotWidth" | "plotTop" | "plotHeight">;

/**
 * Lays the panels out (panelGeometry): in a row, plot areas line up, under the row's tallest header. Returns each
 * panel's place and the y where the caption starts.
 */
export function layOut(drafts: PanelDraft[]): { layouts: PanelLayout[]; bottom: number } {
  const { columns, panelWidth, plotWidth, plotHeight } = panelGeometry(drafts.length);
  const layouts: PanelLayout[] = [];
  let top = OUTER.top;
  for (let first = 0; first < drafts.length; first += columns) {
    const row = drafts.slice(first, first + columns);
    const headerLines = Math.max(...row.map((draft) => draft.header.length));
    const legendLines = Math.max(...row.map((draft) => draft.legend.flat().length));
    const plotTop = top + headerLines * HEADER_LINE + 8;
    for (const [column, draft] of row.entries())
      layouts.push({
        ...draft,
        headerTop: top,
        plotLeft: OUTER.left + column * panelWidth + GUTTER.left,
        plotWidth,
        plotTop,
        plotHeight,
      });
    top = plotTop + plotHeight + BELOW_PLOT + legendLines * LEGEND_LINE + PANEL_GAP;
  }
  return { layouts, bottom: top };
}

/**
 * What a panel says above its plot: the family's name (and, for a grid family, how its lines differ), a single
 * line's verdict, slope and turn, and where the chance level lies when it is outside the panel's range.
 */
function panelHeader(panel: Panel, analysis: Analysis, valueRange: Range, width: number): string[] {
  const chars = Math.floor(width / GLYPH.header);
  const [only] = panel.lines;
  const name =
    panel.lines.length > 1 ? `${panel.family}: ${linesDifferBy(panel.lines.map(({ line }) => line))}` : panel.family;
  const details =
    panel.lines.length === 1 && only ? wrap(panelVerdict(only.line, analysis.metric.orientation), chars) : [];
  const chance = analysis.chance;
  const outside =
    chance === null || (chance >= valueRange.low && chance <= valueRange.high)
      ? []
      : [`Chance level ${chance.toFixed(3)} is ${chance < valueRange.low ? "below" : "above"} this range.`];
  return [truncate(name, chars), ...details, ...outside];
}

/** "one line per size" (lines along RLHF steps) or "one line per RLHF step count" (lines along size). */
function linesDifferBy(lines: Line[]): string {
  if (lines.every((line) => line.fixed?.parameters !== undefined)) return "one line per size";
  if (lines.every((line) => line.fixed?.rlhfSteps !== undefined)) return "one line per RLHF step count";
  return `${lines.length} lines`;
}

/** The value axis's name, turned, left of each row of panels. */
export function valueAxisNames(layouts: PanelLayout[], metric: Metric): string[] {
  const reading = shortReading(metric);
  const rows = [...new Set(layouts.map((layout) => layout.plotTop))];
  return rows.map((plotTop) => {
    const height = layouts.find((layout) => layout.plotTop === plotTop)?.plotHeight ?? 0;
    return `<text transform="translate(14 ${n(plotTop + height / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(metric.label)} (${escapeXml(reading)})</text>`;
  });
}

/** A panel's maps from data to the page, and its ticks, in page coordinates. */
interface Frame {
  x: (model: ModelPoint) => number;
  y: (value: number) => number;
  xTicks: { at: number; label: string }[];
  yTicks: { at: number; label: string }[];
  linear: boolean;
}

function frameOf(layout: PanelLayout, axis: Axis): Frame {
  const { plotLeft, plotWidth, plotTop, plotHeight, valueRange } = layout;
  const models = layout.panel.lines.flatMap(({ line }) => line.models);
  const linear = layout.panel.lines.some(({ line }) => line.axisScale === "linear");
  const place = (model: ModelPoint): number => (linear ? model.scale : (model.log10Scale ?? Math.log10(model.scale)));
  const xRange = linear ? linearScaleRange(models.map(place)) : logScaleRange(models.map(place));
  const toX = (z: number): number => plotLeft + ((z - xRange.low) / (xRange.high - xRange.low)) * plotWidth;
  const y = (value: number): number =>
    plotTop + (1 - (value - valueRange.low) / (valueRange.high - valueRange.low)) * plotHeight;
  // Room for a label every 60 px; d3's count is approximate (its steps may give up to about twice as many).
  const xValues = linear
    ? linearTicks(xRange, Math.max(4, Math.floor(plotWidth / 90)))
    : logTicks(xRange, Math.max(2, Math.floor(plotWidth / 60)));
  const { ticks, step } = valueTicks(valueRange, Math.max(3, Math.floor(plotHeight / 40)));
  return {
    x: (model) => toX(place(model)),
    y,
    xTicks: xValues.map((value) => ({ at: toX(linear ? value : Math.log10(value)), label: scaleLabel(value, axis) })),
    yTicks: ticks.map((value) => ({ at: y(value), label: formatValueTick(value, step) })),
    linear,
  };
}

/** A scale tick as model sizes are written (1.3B), RLHF steps likewise (1.5K), FLOPs as powers of ten (3e21). */
function scaleLabel(value: number, axis: Axis): string {
  return axis === "flops" ? value.toExponential().replace("e+", "e") : formatScale(value);
}

const AXIS_NAMES = { params: "Parameters", flops: "Training FLOPs", rlhf_steps: "RLHF steps" } as const;

/** One panel: header, grid and ticks, frame, chance level, turning models, lines, scale axis name and legend. */
export function panelMarks(layout: PanelLayout, chance: number | null, axis: Axis): string[] {
  const frame = frameOf(layout, axis);
  const { headerTop, plotLeft, plotTop, plotWidth, plotHeight } = layout;
  const bottom = plotTop + plotHeight;
  return [
    `<g class="panel" data-family="${escapeXml(layout.panel.family)}">`,
    ...layout.header.map(
      (text, i) =>
        `<text class="panel-title" x="${n(plotLeft)}" y="${n(headerTop + 11 + i * HEADER_LINE)}"${i === 0 ? ' font-size="13" font-weight="600"' : ' font-size="11.5" fill="#333"'}>${escapeXml(text)}</text>`,
    ),
    ...frame.yTicks.flatMap((tick) => [
      `<line x1="${n(plotLeft)}" x2="${n(plotLeft + plotWidth)}" y1="${n(tick.at)}" y2="${n(tick.at)}" stroke="#e5e5e5"/>`,
      `<text class="value-tick" x="${n(plotLeft - 6)}" y="${n(tick.at + 4)}" text-anchor="end" font-size="11">${escapeXml(tick.label)}</text>`,
    ]),
    ...frame.xTicks.flatMap((tick) => [
      `<line x1="${n(tick.at)}" x2="${n(tick.at)}" y1="${n(plotTop)}" y2="${n(bottom)}" stroke="#e5e5e5"/>`,
      `<text class="scale-tick" x="${n(tick.at)}" y="${n(bottom + 15)}" text-anchor="middle" font-size="11">${escapeXml(tick.label)}</text>`,
    ]),
    `<rect class="frame" x="${n(plotLeft)}" y="${n(plotTop)}" width="${n(plotWidth)}" height="${n(plotHeight)}" fill="none" stroke="#444"/>`,
    `<text x="${n(plotLeft + plotWidth / 2)}" y="${n(bottom + 31)}" text-anchor="middle" font-size="11.5">${escapeXml(`${AXIS_NAMES[axis]} (${frame.linear ? "linear" : "log"} scale)`)}</text>`,
    ...chanceLine(layout, frame, chance),
    ...layout.panel.lines.flatMap(({ line, style }) => turningMark(layout, frame, line, style)),
    ...layout.panel.lines.flatMap(({ line, style, name }) => lineMarks(frame, line, style, name)),
    ...legend(layout, bottom + BELOW_PLOT + 10),
    `</g>`,
  ];
}

/** The chance level, dashed, where it falls inside the panel's range (the header says where it lies otherwise). */
function chanceLine(layout: PanelLayout, { y }: Frame, chance: number | null): string[] {
  if (chance === null || chance < layout.valueRange.low || chance > layout.valueRange.high) return [];
  const right = layout.plotLeft + layout.plotWidth;
  return [
    `<line x1="${n(layout.plotLeft)}" x2="${n(right)}" y1="${n(y(chance))}" y2="${n(y(chance))}" stroke="#777" stroke-dasharray="6 4"/>`,
    `<text x="${n(right - 6)}" y="${n(y(chance) - 5)}" text-anchor="end" fill="#555" font-size="11">chance</text>`,
  ];
}

/** A dashed vertical line at the model a U-shaped or inverted-U line turns at, in the line's colour. */
function turningMark(layout: PanelLayout, frame: Frame, line: Line, index: number): string[] {
  const turning = turningModel(line);
  if (!turning) return [];
  const x = n(frame.x(turning));
  return [
    `<line class="turning" data-model="${escapeXml(turning.id)}" x1="${x}" x2="${x}" y1="${n(layout.plotTop)}" y2="${n(layout.plotTop + layout.plotHeight)}" stroke="${lineStyle(index).colour}" stroke-dasharray="3 3"/>`,
  ];
}

/**
 * One line: its path through the means, each model's interval bar and marker, with the model's <title> naming the
 * line (`name`, else its family and what it holds fixed).
 */
function lineMarks({ x, y }: Frame, line: Line, index: number, name?: string): string[] {
  const { colour, marker } = lineStyle(index);
  const path = line.models.map((model, i) => `${i === 0 ? "M" : "L"}${n(x(model))} ${n(y(model.mean))}`).join(" ");
  const fixed = line.fixed ? ` data-fixed="${escapeXml(fixedLabel(line.fixed))}"` : "";
  const slice = name === undefined ? "" : ` data-slice="${escapeXml(name)}"`;
  const models = line.models.map((model) => {
    const px = x(model);
    const [low, high] = model.ci95;
    // With no resamples (isv analyse --samples 0) there is no interval: no bar, and the title says so.
    const hasInterval = Number.isFinite(low) && Number.isFinite(high);
    const interval = hasInterval ? `95% CI ${low.toFixed(3)} to ${high.toFixed(3)}` : "no interval";
    const title = `${name ?? lineName(line)} ${model.id} (${formatScale(model.scale)}): ${model.mean.toFixed(3)}, ${interval}`;
    const bar = hasInterval
      ? `<line x1="${n(px)}" x2="${n(px)}" y1="${n(y(low))}" y2="${n(y(high))}" stroke-width="1.5"/>` +
        `<line x1="${n(px - 4)}" x2="${n(px + 4)}" y1="${n(y(low))}" y2="${n(y(low))}"/>` +
        `<line x1="${n(px - 4)}" x2="${n(px + 4)}" y1="${n(y(high))}" y2="${n(y(high))}"/>`
      : "";
    return `<g class="model"><title>${escapeXml(title)}</title>${bar}${markerShape(marker, px, y(model.mean))}</g>`;
  });
  return [
    `<g class="family" data-family="${escapeXml(line.family)}"${fixed}${slice} stroke="${colour}" fill="${colour}">`,
    `<path d="${path}" fill="none" stroke-width="2"/>`,
    ...models,
    `</g>`,
  ];
}

/** A grid family's key under its panel: per line, a stretch of it with its marker, then its entry's lines. */
function legend(layout: PanelLayout, top: number): string[] {
  const parts: string[] = [];
  let baseline = top;
  for (const [i, entry] of layout.legend.entries()) {
    const { colour, marker } = lineStyle(layout.panel.lines[i]?.style ?? i);
    const [left, middle] = [layout.plotLeft, baseline - 4];
    parts.push(
      `<g class="legend" stroke="${colour}" fill="${colour}"><line x1="${n(left)}" x2="${n(left + 18)}" y1="${n(middle)}" y2="${n(middle)}" stroke-width="2"/>${markerShape(marker, left + 9, middle)}</g>`,
    );
    for (const text of entry) {
      parts.push(`<text x="${n(left + 24)}" y="${n(baseline)}" font-size="11">${escapeXml(text)}</text>`);
      baseline += LEGEND_LINE;
    }
  }
  return parts;
}
