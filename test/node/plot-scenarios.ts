/**
 * Analyses to draw in the plot tests, made by the real analysis from seeded per-example losses: each example has a
 * difficulty shared by all models of a family (so paired contrasts are tight) plus each model's own noise.
 */
import { analyse, type Analysis, type FamilyResults } from "../../src/analysis/analyse";
import { METRICS } from "../../src/analysis/metrics";
import { seededDraws } from "./helpers";

const OPTIONS = { seed: 1, bootstrapSamples: 1000, equivalenceMargin: 0.05, minSharedExamples: 30 };

/** A family of models at `scales` whose mean losses are `means`, over `examples` shared examples. */
export function lossFamily(
  family: string,
  scales: number[],
  means: number[],
  { examples = 1320, spread = 0.3, noise = 0.05, seed = 1 } = {},
): FamilyResults {
  const { gaussian } = seededDraws(seed);
  const difficulty = Array.from({ length: examples }, () => spread * gaussian());
  return {
    family,
    axis: "params",
    models: scales.map((scale, m) => ({
      id: `${family}-${m}`,
      scale,
      results: {
        rows: examples,
        columns: {
          loss: Float64Array.from(difficulty, (d) => Math.max(0, (means[m] ?? 0) + d + noise * gaussian())),
        },
      },
    })),
  };
}

export const analyseLoss = (families: FamilyResults[], classCounts?: number[]): Analysis =>
  analyse("classification", METRICS.loss, families, OPTIONS, classCounts);

/**
 * The issue's reader's case: GPT-3's U-shaped loss (0.67 to 0.82 nats) and the reference family's losses of 12 to
 * 15 nats, about 20 times larger, on a two-choice task (chance 0.693 nats).
 */
export function twentyFoldApart(): Analysis {
  return analyseLoss(
    [
      lossFamily("gpt3", [350e6, 1.3e9, 6.7e9, 175e9], [0.82, 0.7, 0.67, 0.8], { seed: 3 }),
      lossFamily("isv-reference", [500, 5e3, 5e4, 5e5], [12, 13, 14, 15], { spread: 2, noise: 0.3, seed: 4 }),
    ],
    [2, 2],
  );
}

/** What a test reads of one panel of a drawn plot, from the SVG text. */
export interface DrawnPanel {
  family: string;
  frame: { x: number; y: number; width: number; height: number };
  /** Each line's points through the means, in page coordinates. */
  lines: { x: number; y: number }[][];
  titles: string[];
  valueTicks: string[];
  scaleTicks: string[];
  chance: boolean;
  turning: { model: string; x: number }[];
}

const texts = (svg: string, cls: string): string[] =>
  [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, "g"))].map((match) => match[1] ?? "");

/** The panels of a plot, in order. Each is read from its opening tag to the next panel's (the last, to the end). */
export function drawnPanels(svg: string): DrawnPanel[] {
  return svg
    .split('<g class="panel"')
    .slice(1)
    .map((chunk) => {
      const frame = chunk.match(/<rect class="frame" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/);
      const [x, y, width, height] = (frame?.slice(1) ?? []).map(Number);
      return {
        family: chunk.match(/^ data-family="([^"]*)"/)?.[1] ?? "",
        frame: { x: x ?? NaN, y: y ?? NaN, width: width ?? NaN, height: height ?? NaN },
        lines: [...chunk.matchAll(/<g class="family"[^>]*>\n<path d="([^"]+)"/g)].map((match) =>
          [...(match[1] ?? "").matchAll(/[ML]([\d.-]+) ([\d.-]+)/g)].map((point) => ({
            x: Number(point[1]),
            y: Number(point[2]),
          })),
        ),
        titles: texts(chunk, "panel-title"),
        valueTicks: texts(chunk, "value-tick"),
        scaleTicks: texts(chunk, "scale-tick"),
        chance: chunk.includes(">chance</text>"),
        turning: [...chunk.matchAll(/<line class="turning" data-model="([^"]*)" x1="([\d.]+)"/g)].map((match) => ({
          model: match[1] ?? "",
          x: Number(match[2]),
        })),
      };
    });
}

/** Every text drawn (not <title> or <desc>), in order, joined by spaces: wrapped sentences read whole. */
export const drawnText = (svg: string): string =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]).join(" ");

/** The share of its frame's height that a line's means span. */
export function heightShare(panel: DrawnPanel): number {
  const ys = panel.lines.flat().map((point) => point.y);
  return (Math.max(...ys) - Math.min(...ys)) / panel.frame.height;
}
