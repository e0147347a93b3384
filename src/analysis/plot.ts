import { escapeXml } from "../util/escape";
import type { Analysis } from "./analyse";
import { at } from "./checked";

/**
 * Draws an analysis as a standalone SVG: the metric against scale on a log axis, one line per family with 95%
 * interval bars, the chance level where one exists, and the verdicts in the caption. Pure string building, so
 * the Worker draws it without a browser or canvas; the same analysis always gives the same bytes.
 */

const WIDTH = 720;
const HEIGHT = 460;
const MARGIN = { left: 76, right: 28, top: 56, bottom: 118 };
/** Okabe–Ito: distinguishable with the common forms of colour blindness. */
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

const AXIS_LABELS = {
  params: "Parameters (log scale)",
  flops: "Training FLOPs (log scale)",
  rlhf_steps: "RLHF steps (log scale)",
} as const;

/** 1K, 10M, 1.3B: how model sizes are usually written. */
export function formatScale(value: number): string {
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, unit] of units) if (value >= size) return `${Number((value / size).toPrecision(3))}${unit}`;
  return String(Number(value.toPrecision(3)));
}

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
  zMin: number;
  zMax: number;
  yTicks: number[];
  x: (z: number) => number;
  y: (value: number) => number;
}

const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;

export function renderPlot(analysis: Analysis, taskTitle: string): string {
  const frame = plotFrame(analysis);
  const axis = analysis.families[0]?.axis ?? "params";
  const title = `${taskTitle}: ${analysis.metric.label} against scale`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="plot-title plot-desc" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title id="plot-title">${escapeXml(title)}</title>`,
    `<desc id="plot-desc">${escapeXml(describe(analysis))}</desc>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="28" font-size="15" font-weight="600">${escapeXml(truncate(title, 68))}</text>`,
    ...gridAndAxes(frame, axis, analysis.metric),
    ...chanceLine(frame, analysis.chance),
    ...analysis.families.flatMap((family, index) => familyMarks(frame, family, index)),
    ...caption(analysis),
    `</svg>`,
  ];
  return `${parts.join("\n")}\n`;
}

/** The axes' ranges: half-decades around the scales, round ticks around the intervals and the chance level. */
function plotFrame(analysis: Analysis): Frame {
  const points = analysis.families.flatMap((family) => family.models);
  const zs = points.map((model) => model.log10Scale);
  const zMin = Math.floor(Math.min(...zs) * 2) / 2 - 0.25;
  const zMax = Math.ceil(Math.max(...zs) * 2) / 2 + 0.25;
  const ys = points.flatMap((model) => model.ci95).concat(analysis.chance === null ? [] : [analysis.chance]);
  const yPad = (Math.max(...ys) - Math.min(...ys)) * 0.08 || 0.5;
  const yTicks = niceTicks(Math.min(...ys) - yPad, Math.max(...ys) + yPad);
  // With no finite range (NaN intervals, from an analysis with no resamples) there are no ticks, and no bounds.
  const yMin = Math.min(yTicks[0] ?? NaN, Math.min(...ys) - yPad);
  const yMax = Math.max(yTicks.at(-1) ?? NaN, Math.max(...ys) + yPad);
  return {
    zMin,
    zMax,
    yTicks,
    x: (z) => MARGIN.left + ((z - zMin) / (zMax - zMin)) * PLOT_WIDTH,
    y: (value) => MARGIN.top + (1 - (value - yMin) / (yMax - yMin)) * PLOT_HEIGHT,
  };
}

/** The <desc>: every family's means and verdict, and the chance level, in words. */
function describe(analysis: Analysis): string {
  const families = analysis.families;
  return (
    `${analysis.metric.label} (${analysis.metric.direction.replace(/_/g, " ")}) for ${families.length} model ${families.length === 1 ? "family" : "families"}. ` +
    families
      .map(
        (family) =>
          `${family.family}: ${family.models.map((model) => `${model.id} (${formatScale(model.scale)}) ${model.mean.toFixed(3)}`).join(", ")}; verdict ${family.verdict}. ${family.reason}`,
      )
      .join(" ") +
    (analysis.chance === null ? "" : ` Chance level ${analysis.chance.toFixed(3)}.`)
  );
}

/** Grid and axes: a line and a label at each value tick and each decade, the frame, and the axis titles. */
function gridAndAxes(frame: Frame, axis: keyof typeof AXIS_LABELS, metric: Analysis["metric"]): string[] {
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
  for (let decade = Math.ceil(frame.zMin); decade <= Math.floor(frame.zMax); decade++) {
    parts.push(
      `<line x1="${n(x(decade))}" x2="${n(x(decade))}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_HEIGHT}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${n(x(decade))}" y="${MARGIN.top + PLOT_HEIGHT + 18}" text-anchor="middle">${escapeXml(axis === "params" ? formatScale(10 ** decade) : `1e${decade}`)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" fill="none" stroke="#444"/>`,
  );
  parts.push(
    `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${MARGIN.top + PLOT_HEIGHT + 40}" text-anchor="middle">${AXIS_LABELS[axis]}</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escapeXml(metric.label)}${metric.direction === "lower_is_better" ? " (lower is better)" : " (higher is better)"}</text>`,
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

/** One family: its line through the means, each model's interval bar and point, and its legend entry. */
function familyMarks({ x, y }: Frame, family: Analysis["families"][number], index: number): string[] {
  const colour = at(COLOURS, index % COLOURS.length);
  const path = family.models
    .map((model, i) => `${i === 0 ? "M" : "L"}${n(x(model.log10Scale))} ${n(y(model.mean))}`)
    .join(" ");
  const parts: string[] = [];
  parts.push(`<g class="family" data-family="${escapeXml(family.family)}" stroke="${colour}" fill="${colour}">`);
  parts.push(`<path d="${path}" fill="none" stroke-width="2"/>`);
  for (const model of family.models) {
    const px = n(x(model.log10Scale));
    const [low, high] = model.ci95;
    parts.push(
      `<g class="model"><title>${escapeXml(`${family.family} ${model.id} (${formatScale(model.scale)}): ${model.mean.toFixed(3)}, 95% CI ${low.toFixed(3)} to ${high.toFixed(3)}`)}</title>` +
        `<line x1="${px}" x2="${px}" y1="${n(y(low))}" y2="${n(y(high))}" stroke-width="1.5"/>` +
        `<line x1="${n(x(model.log10Scale) - 4)}" x2="${n(x(model.log10Scale) + 4)}" y1="${n(y(low))}" y2="${n(y(low))}"/>` +
        `<line x1="${n(x(model.log10Scale) - 4)}" x2="${n(x(model.log10Scale) + 4)}" y1="${n(y(high))}" y2="${n(y(high))}"/>` +
        `<circle cx="${px}" cy="${n(y(model.mean))}" r="4"/></g>`,
    );
  }
  parts.push(`</g>`);
  // Legend, top right inside the plot.
  const legendY = MARGIN.top + 16 + index * 18;
  parts.push(
    `<line x1="${WIDTH - MARGIN.right - 220}" x2="${WIDTH - MARGIN.right - 200}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${colour}" stroke-width="2"/>`,
    `<text x="${WIDTH - MARGIN.right - 194}" y="${legendY}">${escapeXml(truncate(`${family.family}: ${family.verdict.replace("_", "-")}`, 34))}</text>`,
  );
  return parts;
}

/** The caption under the plot: the verdicts, what the points and bars are, and the code that made them. */
function caption(analysis: Analysis): string[] {
  const families = analysis.families;
  const captionTop = MARGIN.top + PLOT_HEIGHT + 64;
  const verdicts = families.map((family) => `${family.family}: ${family.verdict.replace("_", "-")}`).join("; ");
  const lines = [
    `Verdict: ${verdicts}.`,
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
