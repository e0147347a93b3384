/**
 * How a plot tells its lines apart: a colour-blind-safe colour and a marker shape for each, so two lines differ
 * in shape even printed in grey or seen without colour.
 */
import { at } from "./checked";

/** Okabe–Ito, without its yellow (too faint on white): distinguishable with the common forms of colour blindness. */
const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"] as const;

const MARKERS = ["circle", "square", "triangle", "diamond", "triangle-down", "ring"] as const;
export type Marker = (typeof MARKERS)[number];

/** The n-th line's look. With 7 colours and 6 shapes, the first 42 lines of a chart all differ. */
export function lineStyle(index: number): { colour: string; marker: Marker } {
  return { colour: at(COLOURS, index % COLOURS.length), marker: at(MARKERS, index % MARKERS.length) };
}

const n = (value: number): string => (Math.round(value * 100) / 100).toString();

/** A marker centred at (x, y), filled with the current colour (a ring is hollow), about 9 pixels across. */
export function markerShape(marker: Marker, x: number, y: number): string {
  const xy = (dx: number, dy: number): string => `${n(x + dx)} ${n(y + dy)}`;
  switch (marker) {
    case "circle":
      return `<circle class="point" cx="${n(x)}" cy="${n(y)}" r="4.5"/>`;
    case "ring":
      return `<circle class="point" cx="${n(x)}" cy="${n(y)}" r="4" fill="#ffffff" stroke-width="2"/>`;
    case "square":
      return `<path class="point" d="M${xy(-4, -4)} L${xy(4, -4)} L${xy(4, 4)} L${xy(-4, 4)} Z"/>`;
    case "triangle":
      return `<path class="point" d="M${xy(0, -5.5)} L${xy(5, 3.5)} L${xy(-5, 3.5)} Z"/>`;
    case "triangle-down":
      return `<path class="point" d="M${xy(0, 5.5)} L${xy(5, -3.5)} L${xy(-5, -3.5)} Z"/>`;
    case "diamond":
      return `<path class="point" d="M${xy(0, -5.5)} L${xy(5.5, 0)} L${xy(0, 5.5)} L${xy(-5.5, 0)} Z"/>`;
  }
}
