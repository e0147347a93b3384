/** How scales and the fixed value of a grid family's line are written for people (plots, reasons, the CLI). */
import type { AnalysisFixed } from "../generated/types";

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

/** "1.3B params" or "0 RLHF steps": what a line of a grid family holds fixed. */
export function fixedLabel(fixed: AnalysisFixed): string {
  if (fixed.parameters !== undefined) return `${formatScale(fixed.parameters)} params`;
  if (fixed.rlhfSteps !== undefined) return `${formatScale(fixed.rlhfSteps)} RLHF steps`;
  return "";
}
