import { verdictWords } from "../analysis/behaviour";
import { fixedLabel } from "../analysis/labels";
import { slopePer, type FamilyAnalysis } from "../analysis/statistics";
import type { SlicesAnalysis } from "../generated/types";

/**
 * What the text of a slices analysis reads: the generated shape (the submitter's GET body), narrowed to the fields
 * shown, so the CLI's own analysis (src/analysis/slices-analysis.ts, whose analyses are the wider Analysis) fits too.
 */
export interface ShownSlices {
  metric: string;
  slices: readonly {
    kind: SlicesAnalysis["slices"][number]["kind"];
    name: string;
    examples: number;
    analysis?: {
      metric: { orientation?: "performance" | "direction_only" };
      families: readonly Pick<FamilyAnalysis, "family" | "fixed" | "verdict" | "slope">[];
    };
    reason?: string;
  }[];
  contrasts: readonly Pick<
    SlicesAnalysis["contrasts"][number],
    "family" | "fixed" | "other" | "pairing" | "per" | "difference" | "claim" | "statement" | "warnings"
  >[];
  uncompared: SlicesAnalysis["uncompared"];
}

const f = (value: number): string => value.toFixed(4);

/**
 * Each slice's verdicts on the headline metric (the task first, then its parts, controls, variants and groups),
 * then per control or variant and family line the task's slope minus theirs: the estimate and its interval with
 * their unit, the claim, and the statement in words.
 */
export function formatSlices(slices: ShownSlices): string {
  const lines = [`slices, on ${slices.metric} (the headline metric):`];
  for (const slice of slices.slices) {
    const kind = slice.kind === "task" ? "" : `${slice.kind} `;
    lines.push(
      `  ${kind}${slice.name} (${slice.examples} examples)${slice.analysis ? ":" : `: ${slice.reason ?? ""}`}`,
    );
    const orientation = slice.analysis?.metric.orientation;
    for (const family of slice.analysis?.families ?? []) {
      const verdict =
        orientation === "direction_only" ? verdictWords(family.verdict, orientation) : family.verdict.toUpperCase();
      const slope = slopePer(family.slope);
      lines.push(
        `    ${lineName(family)}: ${verdict} (slope ${f(slope.value)} per ${slope.unit}, 95% CI ${f(family.slope.ci95[0])} to ${f(family.slope.ci95[1])})`,
      );
    }
  }
  if (slices.contrasts.length > 0 || slices.uncompared.length > 0) lines.push("task − control or variant:");
  for (const contrast of slices.contrasts) {
    const { difference } = contrast;
    const [low, high] = difference.test.interval;
    const claim = contrast.claim === "excludes_zero" ? "excludes 0" : "includes 0";
    lines.push(
      `  ${contrast.other.role} ${contrast.other.label}, ${lineName(contrast)}: ${f(difference.estimate)} per ${contrast.per} (${Math.round(difference.test.level * 100)}% t interval ${f(low)} to ${f(high)}, ${contrast.pairing}): ${claim}`,
    );
    lines.push(`    ${contrast.statement}`);
    for (const warning of contrast.warnings) lines.push(`    warning: ${warning}`);
  }
  for (const line of slices.uncompared)
    lines.push(
      `  ${line.other}, ${line.line ? `${line.family}, ${line.line}` : line.family}: not compared: ${line.reason}`,
    );
  return lines.join("\n");
}

const lineName = (line: { family: string; fixed?: FamilyAnalysis["fixed"] }): string =>
  line.fixed ? `${line.family}, ${fixedLabel(line.fixed)}` : line.family;
