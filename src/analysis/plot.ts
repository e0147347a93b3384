import { escapeXml } from "../util/escape";
import type { Analysis } from "./analyse";
import { verdictWords } from "./behaviour";
import { at } from "./checked";
import { fixedLabel, formatScale } from "./labels";

/**
 * Draws an analysis as a standalone SVG: the metric against scale on a log axis, one line per family with 95%
 * interval bars, the chance level where one exists, and the verdicts in the caption. Lines of a grid family are
 * drawn one per size (along RLHF steps) or one per step count (along size), each labelled with what it holds
 * fixed; the two axes are never in one chart. An axis that contains 0 (RLHF steps with the pretrained model) is
 * drawn linear. A direction-only metric (a behaviour that is neither desired nor undesired) is never given a
 * performance verdict or a better side: its lines say which way the value moves. Pure string building, so the Worker draws it without a browser or canvas; the same analysis
 * always gives the same bytes.
 */

const WIDTH = 720;
const HEIGHT = 460;
const MARGIN = { left: 76, right: 28, top: 56, bottom: 118 };
/** Okabe–Ito: distinguishable with the common forms of colour blindness. */
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

type Line = Analysis["families"][number];
type Axis = Line["axis"];
type ModelPoint = Line["models"][number];
type Orientation = Analysis["metric"]["orientation"];

/** The axes a plot can be drawn along (the `axis` of an analysis's lines). */
export const PLOT_AXES = ["params", "rlhf_steps", "flops"] as const satisfies readonly Axis[];
export const isPlotAxis = (name: string): name is Axis => PLOT_AXES.some((axis) => axis === name);

/** The axes the analysis's lines run along, in the order of its lines: the plots it can be drawn as. */
export function plotAxes(analysis: Analysis): Axis[] {
  return [...new Set(analysis.families.map((family) => family.axis))];
}

const AXIS_NAMES = { params: "Parameters", flops: "Training FLOPs", rlhf_steps: "RLHF steps" } as const;

/** "Parameters (log scale)", "RLHF steps (linear scale)". */
function axisLabel(axis: Axis, linear: boolean): string {
  return `${AXIS_NAMES[axis]} (${linear ? "linear" : "log"} scale)`;
}

export { formatScale } from "./labels";

/** Round tick steps (1, 2 or 5 times a power of ten) giving about `count` ticks over [low, high]. */
function niceTicks(low: number, high: number, count = 5): number[] {
  const span = high - low || Math.abs(high) || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step)
    ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

const n = (value: number): string => (Math.round(value * 100) / 100).toString();

/** Where values land: the axes' ranges and the maps from data to SVG coordinates. */
interface Frame {
  /** Each model's place on the x axis: log10 of its scale, or on a linear axis its scale. */
  place: (model: ModelPoint) => number;
  xTicks: { at: number; label: string }[];
  yTicks: number[];
  x: (z: number) => number;
  y: (value: number) => number;
}

const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;

/** The analysis's lines along `axis` (default: its first line's), drawn; lines along another axis are not. */
export function renderPlot(analysis: Analysis, taskTitle: string, axis?: Axis): string {
  const along = axis ?? analysis.families[0]?.axis ?? "params";
  const shown: Analysis = { ...analysis, families: analysis.families.filter((family) => family.axis === along) };
  return draw(shown, taskTitle, along);
}

function draw(analysis: Analysis, taskTitle: string, axis: Axis): string {
  const linear = analysis.families.some((family) => family.axisScale === "linear");
  const frame = plotFrame(analysis, axis, linear);
  const title = `${taskTitle}: ${analysis.metric.label} against ${axis === "rlhf_steps" ? "RLHF steps" : "scale"}`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="plot-title plot-desc" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title id="plot-title">${escapeXml(title)}</title>`,
    `<desc id="plot-desc">${escapeXml(describe(analysis))}</desc>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="28" font-size="15" font-weight="600">${escapeXml(truncate(title, 68))}</text>`,
    ...gridAndAxes(frame, axisLabel(axis, linear), analysis.metric),
    ...chanceLine(frame, analysis.chance),
    ...analysis.families.flatMap((family, index) => familyMarks(frame, family, index, analysis.metric.orientation)),
    ...caption(analysis),
    `</svg>`,
  ];
  return `${parts.join("\n")}\n`;
}

/**
 * The axes' ranges: half-decades around the scales (or, linear, 5% of the span beyond round ticks), round ticks
 * around the intervals and the chance level.
 */
function plotFrame(analysis: Analysis, axis: Axis, linear: boolean): Frame {
  const points = analysis.families.flatMap((family) => family.models);
  const place = linear
    ? (model: ModelPoint) => model.scale
    : (model: ModelPoint) => model.log10Scale ?? Math.log10(model.scale);
  const { zMin, zMax, xTicks } = linear ? linearRange(points.map(place)) : logRange(points.map(place), axis);
  const ys = points.flatMap((model) => model.ci95).concat(analysis.chance === null ? [] : [analysis.chance]);
  const yPad = (Math.max(...ys) - Math.min(...ys)) * 0.08 || 0.5;
  const yTicks = niceTicks(Math.min(...ys) - yPad, Math.max(...ys) + yPad);
  // With no finite range (NaN intervals, from an analysis with no resamples) there are no ticks, and no bounds.
  const yMin = Math.min(yTicks[0] ?? NaN, Math.min(...ys) - yPad);
  const yMax = Math.max(yTicks.at(-1) ?? NaN, Math.max(...ys) + yPad);
  return {
    place,
    xTicks,
    yTicks,
    x: (z) => MARGIN.left + ((z - zMin) / (zMax - zMin)) * PLOT_WIDTH,
    y: (value) => MARGIN.top + (1 - (value - yMin) / (yMax - yMin)) * PLOT_HEIGHT,
  };
}

/** Half-decades around the positions, a tick at each decade. */
function logRange(zs: number[], axis: Axis): { zMin: number; zMax: number; xTicks: Frame["xTicks"] } {
  const zMin = Math.floor(Math.min(...zs) * 2) / 2 - 0.25;
  const zMax = Math.ceil(Math.max(...zs) * 2) / 2 + 0.25;
  const xTicks: Frame["xTicks"] = [];
  for (let decade = Math.ceil(zMin); decade <= Math.floor(zMax); decade++)
    xTicks.push({ at: decade, label: axis === "params" ? formatScale(10 ** decade) : `1e${decade}` });
  return { zMin, zMax, xTicks };
}

/** Round ticks over the steps (0, 250, 500, …), and 5% of the span beyond the ends so no point sits on the frame. */
function linearRange(xs: number[]): { zMin: number; zMax: number; xTicks: Frame["xTicks"] } {
  const low = Math.min(...xs);
  const high = Math.max(...xs);
  const pad = (high - low) * 0.05 || 1;
  const xTicks = niceTicks(low, high).map((tick) => ({ at: tick, label: formatScale(tick) }));
  return { zMin: low - pad, zMax: high + pad, xTicks };
}

/** "2 model families", or for a grid family's lines "3 lines of 1 model family". */
function drawnWhat(families: Line[]): string {
  const count = (total: number, one: string, many: string): string => `${total} ${total === 1 ? one : many}`;
  const named = count(new Set(families.map((family) => family.family)).size, "model family", "model families");
  return families.some((family) => family.fixed)
    ? `${count(families.length, "line", "lines")} of ${named}`
    : count(families.length, "model family", "model families");
}

/** A line's name: its family, and what it holds fixed when it is one of a grid family's lines. */
function lineName(family: Line): string {
  return family.fixed ? `${family.family}, ${fixedLabel(family.fixed)}` : family.family;
}

/**
 * A line's verdict as the plot writes it: its name ("u-shaped"), or for a direction-only metric which way the
 * value moves along the line's axis ("rises with RLHF steps").
 */
function verdictText(family: Line, orientation: Orientation): string {
  if (orientation !== "direction_only") return family.verdict.replace("_", "-");
  return lineVerdictWords(family, orientation);
}

/**
 * A line's verdict in words for people (verdictWords), a direction along RLHF steps said as such: "rises with RLHF
 * steps", not "with scale". The plots and the leaderboard both say it this way.
 */
export function lineVerdictWords(line: Pick<Line, "verdict" | "axis">, orientation: Orientation): string {
  const words = verdictWords(line.verdict, orientation);
  return orientation === "direction_only" && line.axis === "rlhf_steps"
    ? words.replace("with scale", "with RLHF steps")
    : words;
}

/** Which side is better, in words; none for a direction-only metric, whose direction only says how it was read. */
function readingText(metric: Analysis["metric"]): string {
  return metric.orientation === "direction_only"
    ? "direction only: neither way is better"
    : metric.direction.replace(/_/g, " ");
}

/** The <desc>: every family's means and verdict, and the chance level, in words. */
function describe(analysis: Analysis): string {
  const families = analysis.families;
  const orientation = analysis.metric.orientation;
  const verdict = (family: Line): string =>
    orientation === "direction_only" ? `direction: ${verdictText(family, orientation)}` : `verdict ${family.verdict}`;
  return (
    `${analysis.metric.label} (${readingText(analysis.metric)}) for ${drawnWhat(families)}. ` +
    families
      .map(
        (family) =>
          `${lineName(family)}: ${family.models.map((model) => `${model.id} (${formatScale(model.scale)}) ${model.mean.toFixed(3)}`).join(", ")}; ${verdict(family)}. ${family.reason}`,
      )
      .join(" ") +
    (analysis.chance === null ? "" : ` Chance level ${analysis.chance.toFixed(3)}.`)
  );
}

/** Grid and axes: a line and a label at each value tick and each x tick, the frame, and the axis titles. */
function gridAndAxes(frame: Frame, xLabel: string, metric: Analysis["metric"]): string[] {
  const { x, y } = frame;
  const parts: string[] = [];
  for (const tick of frame.yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${n(y(tick))}" y2="${n(y(tick))}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${MARGIN.left - 8}" y="${n(y(tick) + 4)}" text-anchor="end">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  for (const tick of frame.xTicks) {
    parts.push(
      `<line x1="${n(x(tick.at))}" x2="${n(x(tick.at))}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_HEIGHT}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${n(x(tick.at))}" y="${MARGIN.top + PLOT_HEIGHT + 18}" text-anchor="middle">${escapeXml(tick.label)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" fill="none" stroke="#444"/>`,
  );
  parts.push(
    `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${MARGIN.top + PLOT_HEIGHT + 40}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escapeXml(metric.label)} (${escapeXml(metric.orientation === "direction_only" ? "direction only" : metric.direction.replace(/_/g, " "))})</text>`,
  );
  return parts;
}

/** The chance level, dashed, where one exists. */
function chanceLine({ y }: Frame, chance: number | null): string[] {
  if (chance === null) return [];
  const chanceY = n(y(chance));
  return [
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${chanceY}" y2="${chanceY}" stroke="#777" stroke-dasharray="6 4"/>`,
    `<text x="${WIDTH - MARGIN.right - 6}" y="${n(y(chance) - 6)}" text-anchor="end" fill="#555">chance</text>`,
  ];
}

/** One family (or line): its line through the means, each model's interval bar and point, and its legend entry. */
function familyMarks({ x, y, place }: Frame, family: Line, index: number, orientation: Orientation): string[] {
  const colour = at(COLOURS, index % COLOURS.length);
  const path = family.models
    .map((model, i) => `${i === 0 ? "M" : "L"}${n(x(place(model)))} ${n(y(model.mean))}`)
    .join(" ");
  const parts: string[] = [];
  const fixed = family.fixed ? ` data-fixed="${escapeXml(fixedLabel(family.fixed))}"` : "";
  parts.push(
    `<g class="family" data-family="${escapeXml(family.family)}"${fixed} stroke="${colour}" fill="${colour}">`,
  );
  parts.push(`<path d="${path}" fill="none" stroke-width="2"/>`);
  for (const model of family.models) {
    const px = n(x(place(model)));
    const [low, high] = model.ci95;
    parts.push(
      `<g class="model"><title>${escapeXml(`${lineName(family)} ${model.id} (${formatScale(model.scale)}): ${model.mean.toFixed(3)}, 95% CI ${low.toFixed(3)} to ${high.toFixed(3)}`)}</title>` +
        `<line x1="${px}" x2="${px}" y1="${n(y(low))}" y2="${n(y(high))}" stroke-width="1.5"/>` +
        `<line x1="${n(x(place(model)) - 4)}" x2="${n(x(place(model)) + 4)}" y1="${n(y(low))}" y2="${n(y(low))}"/>` +
        `<line x1="${n(x(place(model)) - 4)}" x2="${n(x(place(model)) + 4)}" y1="${n(y(high))}" y2="${n(y(high))}"/>` +
        `<circle cx="${px}" cy="${n(y(model.mean))}" r="4"/></g>`,
    );
  }
  parts.push(`</g>`);
  // Legend, top right inside the plot.
  const legendY = MARGIN.top + 16 + index * 18;
  parts.push(
    `<line x1="${WIDTH - MARGIN.right - 220}" x2="${WIDTH - MARGIN.right - 200}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${colour}" stroke-width="2"/>`,
    `<text x="${WIDTH - MARGIN.right - 194}" y="${legendY}">${escapeXml(truncate(legendText(family, orientation), 34))}</text>`,
  );
  return parts;
}

/** What a line holds fixed comes first in its legend entry, so cutting it to fit keeps the distinction and the verdict. */
function legendText(family: Line, orientation: Orientation): string {
  const verdict = verdictText(family, orientation);
  return family.fixed ? `${fixedLabel(family.fixed)}: ${verdict} (${family.family})` : `${family.family}: ${verdict}`;
}

/** The caption under the plot: the verdicts, what the points and bars are, and the code that made them. */
function caption(analysis: Analysis): string[] {
  const families = analysis.families;
  const captionTop = MARGIN.top + PLOT_HEIGHT + 64;
  const orientation = analysis.metric.orientation;
  const verdicts = families.map((family) => `${lineName(family)}: ${verdictText(family, orientation)}`).join("; ");
  const lines = [
    `${orientation === "direction_only" ? "Direction (neither way is better)" : "Verdict"}: ${verdicts}.`,
    `Points are means over ${families.map((family) => family.sharedExamples).join("/")} examples; bars are 95% paired-bootstrap intervals (B = ${analysis.bootstrapSamples}, seed ${analysis.seed}).`,
    `${analysis.codeVersion}`,
  ];
  // The full title and every number are in <title> and <desc>; the drawn text is cut to fit the width.
  return lines.map(
    (line, i) =>
      `<text x="${MARGIN.left}" y="${captionTop + i * 16}" font-size="11" fill="${i === 0 ? "#111" : "#555"}">${escapeXml(truncate(line, 104))}</text>`,
  );
}

function formatTick(value: number): string {
  return Math.abs(value) >= 1000 || (Math.abs(value) < 0.01 && value !== 0)
    ? value.toExponential(1)
    : String(Number(value.toPrecision(4)));
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
