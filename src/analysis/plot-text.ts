/**
 * The words of a plot: each line's verdict (or, for a direction-only metric, its direction) and slope, what a
 * panel says in its title, the caption and the description read by screen readers. Plain text: the drawing
 * escapes it.
 */
import type { Analysis } from "./analyse";
import { verdictWords } from "./behaviour";
import { fixedLabel, formatScale } from "./labels";
import { slopePer } from "./statistics";

type Line = Analysis["families"][number];
type Orientation = Analysis["metric"]["orientation"];
type Metric = Analysis["metric"];

/** A line's name: its family, and what it holds fixed when it is one of a grid family's lines. */
export function lineName(line: Line): string {
  return line.fixed ? `${line.family}, ${fixedLabel(line.fixed)}` : line.family;
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

/**
 * A line's verdict as short as the legend and caption need: its name ("u-shaped"), or for a direction-only metric
 * which way the value moves along the line's axis ("rises with RLHF steps"), never a performance word.
 */
export function verdictText(line: Line, orientation: Orientation): string {
  if (orientation !== "direction_only") return line.verdict.replace("_", "-");
  return lineVerdictWords(line, orientation);
}

/** Which side is better, in words ("lower is better"); none for a direction-only metric. */
export function readingText(metric: Metric): string {
  return metric.orientation === "direction_only"
    ? "direction only: neither way is better"
    : metric.direction.replace(/_/g, " ");
}

/** Which side is better, as an axis says it: "lower is better", or "direction only". */
export function shortReading(metric: Metric): string {
  return metric.orientation === "direction_only" ? "direction only" : metric.direction.replace(/_/g, " ");
}

/** A number to 3 significant digits with its sign, so a slope's direction reads at a glance: +0.031, -1.2. */
export function signed(value: number): string {
  const text = String(Number(value.toPrecision(3)));
  return value > 0 ? `+${text}` : text;
}

/** "slope +0.031 per decade (95% CI +0.012 to +0.05)": the line's slope under its own unit. */
export function slopeText(line: Line): string {
  const { value, unit } = slopePer(line.slope);
  const [low, high] = line.slope.ci95;
  // With no resamples there is no bootstrap interval to give.
  if (!Number.isFinite(low) || !Number.isFinite(high)) return `slope ${signed(value)} per ${unit}`;
  return `slope ${signed(value)} per ${unit} (95% CI ${signed(low)} to ${signed(high)})`;
}

/** The model a U-shaped or inverted-U line turns at; none for any other verdict. */
export function turningModel(line: Line): Line["models"][number] | undefined {
  const shape =
    line.verdict === "u_shaped"
      ? line.twoLines?.uShaped
      : line.verdict === "inverted_u"
        ? line.twoLines?.invertedU
        : null;
  return shape ? line.models.find((model) => model.id === shape.turningModel) : undefined;
}

/** "turns at curie (6.7B)", or nothing. */
export function turningText(line: Line): string {
  const turning = turningModel(line);
  return turning ? `turns at ${turning.id} (${formatScale(turning.scale)})` : "";
}

/** What a panel of one line says under its family's name: the verdict in words, the slope, and any turn. */
export function panelVerdict(line: Line, orientation: Orientation): string {
  const turn = turningText(line);
  return `${lineVerdictWords(line, orientation)}; ${slopeText(line)}${turn ? `; ${turn}` : ""}`;
}

/** A grid line's legend entry: what it holds fixed first, so cutting it to fit keeps the distinction. */
export function legendText(line: Line, orientation: Orientation): string {
  const { value, unit } = slopePer(line.slope);
  const turn = turningText(line);
  const fixed = line.fixed ? fixedLabel(line.fixed) : line.family;
  return `${fixed}: ${verdictText(line, orientation)}, slope ${signed(value)} per ${unit}${turn ? `, ${turn}` : ""}`;
}

const thousands = (value: number): string => value.toLocaleString("en-US");

/** "2 model families", or for a grid family's lines "3 lines of 1 model family". */
function drawnWhat(lines: Line[]): string {
  const count = (total: number, one: string, many: string): string => `${total} ${total === 1 ? one : many}`;
  const named = count(new Set(lines.map((line) => line.family)).size, "model family", "model families");
  return lines.some((line) => line.fixed)
    ? `${count(lines.length, "line", "lines")} of ${named}`
    : count(lines.length, "model family", "model families");
}

/** The <desc>: every line's means and verdict (or direction), its turn, and the chance level, in words. */
export function describe(analysis: Analysis): string {
  const orientation = analysis.metric.orientation;
  const verdict = (line: Line): string => {
    const said =
      orientation === "direction_only" ? `direction: ${verdictText(line, orientation)}` : `verdict ${line.verdict}`;
    const turn = turningText(line);
    return turn ? `${said}, ${turn}` : said;
  };
  const means = (line: Line): string =>
    line.models.map((model) => `${model.id} (${formatScale(model.scale)}) ${model.mean.toFixed(3)}`).join(", ");
  return (
    `${analysis.metric.label} (${readingText(analysis.metric)}) for ${drawnWhat(analysis.families)}. ` +
    analysis.families.map((line) => `${lineName(line)}: ${means(line)}; ${verdict(line)}. ${line.reason}`).join(" ") +
    (analysis.chance === null ? "" : ` Chance level ${analysis.chance.toFixed(3)}.`)
  );
}

/** The examples the points average over: one count when every family shares as many, else each family's. */
function examplesText(lines: Line[]): string {
  const perFamily = new Map(lines.map((line) => [line.family, line.sharedExamples]));
  const counts = new Set(perFamily.values());
  if (counts.size === 1) return `the ${thousands([...counts][0] ?? 0)} examples shared by all models`;
  const each = [...perFamily].map(([family, count]) => `${family} ${thousands(count)}`).join("; ");
  return `the examples shared by all models of a family (${each})`;
}

/** B as drawn: one number, or the range when some family drew fewer resamples (a large input's CPU budget). */
function resamplesText(analysis: Analysis): string {
  const drawn = analysis.families.map((line) => line.bootstrapSamples);
  if (drawn.length === 0) return thousands(analysis.bootstrapSamples);
  const [low, high] = [Math.min(...drawn), Math.max(...drawn)];
  return low === high ? thousands(low) : `${thousands(low)} to ${thousands(high)}`;
}

/**
 * The caption's sentences: the verdicts (or directions), what points and bars are, how the panels' value axes
 * relate, what the dashed vertical lines mark, and the code that made the analysis.
 */
export function captionSentences(analysis: Analysis, panels: number, sharedValueAxis: boolean): string[] {
  const lines = analysis.families;
  const orientation = analysis.metric.orientation;
  const verdicts = lines.map((line) => `${lineName(line)}: ${verdictText(line, orientation)}`).join("; ");
  const sentences = [
    `${orientation === "direction_only" ? "Direction (neither way is better)" : "Verdict"}: ${verdicts}.`,
    `Points are means over ${examplesText(lines)}; bars are 95% paired-bootstrap intervals (B = ${resamplesText(analysis)}, seed ${analysis.seed}).`,
  ];
  if (panels > 1)
    sentences.push(
      sharedValueAxis
        ? "The panels share one value axis: their ranges overlap enough to be compared on one scale."
        : "Each panel has its own value and scale axes, fitted to its family: compare panels by their tick labels, not by height.",
    );
  if (lines.some((line) => turningModel(line)))
    sentences.push("A dashed vertical line marks the model where a U-shaped or inverted-U line turns.");
  sentences.push(analysis.codeVersion);
  return sentences;
}

/** Words of `text` in lines of at most `width` characters (a longer word is cut, with an ellipsis). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = "";
  for (const word of text.split(" ")) {
    const next = current ? `${current} ${word}` : word;
    if (next.length <= width || current === "") current = next;
    else {
      lines.push(current);
      current = word;
    }
  }
  if (current) lines.push(current);
  return lines.map((line) => truncate(line, width));
}

export function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
