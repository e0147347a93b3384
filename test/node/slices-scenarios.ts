/**
 * A submission's slices to draw and list: a task whose loss rises with scale on the reference family's scales, in
 * two parts, beside a control whose loss falls (its label carrying markup) and a few-shot variant whose loss rises
 * less, each analysed by the real analysis, with the real task-minus-other slope differences.
 */
import type { FamilyResults } from "../../src/analysis/analyse";
import type { SlicesAnalysis } from "../../src/analysis/slices-analysis";
import { DEFAULT_SLOPE_DIFFERENCE_OPTIONS, slopeDifference } from "../../src/analysis/slope-difference";
import { ANALYSIS_CODE_VERSION } from "../../src/analysis/statistics";
import { defined } from "../defined";
import { analyseLoss, lossFamily } from "./plot-scenarios";

const SCALES = [500, 5e3, 5e4, 5e5];
/** The task's loss rises with scale; the control's falls; a variant's rises less. */
const task = lossFamily("isv-reference", SCALES, [1, 1.2, 1.4, 1.6], { seed: 1 });
const control = lossFamily("isv-reference", SCALES, [1.5, 1.3, 1.1, 0.9], { seed: 2 });
const variant = lossFamily("isv-reference", SCALES, [1, 1.05, 1.1, 1.15], { seed: 3 });

const inputs = (family: FamilyResults) =>
  family.models.map((model) => ({
    id: model.id,
    scale: model.scale,
    values: defined(model.results.columns.loss, "loss"),
  }));

function difference(other: FamilyResults, role: "control" | "variant", label: string) {
  return slopeDifference(
    {
      family: "isv-reference",
      axis: "params",
      metric: { name: "loss", direction: "lower_is_better" },
      task: inputs(task),
      other: { role, label, models: inputs(other) },
    },
    { ...DEFAULT_SLOPE_DIFFERENCE_OPTIONS, pairing: "unpaired" },
  );
}

/** A task of two parts with a control (by default labelled with markup) and a few-shot variant. */
export function slices(controlLabel = 'facts <b onload="x()">&.csv'): SlicesAnalysis {
  return {
    schemaVersion: 1,
    codeVersion: ANALYSIS_CODE_VERSION,
    metric: "loss",
    slices: [
      { kind: "task", name: "the task", taskType: "classification", examples: 1320, analysis: analyseLoss([task]) },
      { kind: "part", name: "part-1.csv", file: "part-1.csv", taskType: "classification", examples: 660 },
      {
        kind: "control",
        name: controlLabel,
        file: controlLabel,
        taskType: "classification",
        examples: 1320,
        analysis: analyseLoss([control]),
      },
      {
        kind: "variant",
        name: "few-shot",
        file: "few.csv",
        label: "few-shot",
        taskType: "classification",
        examples: 1320,
        analysis: analyseLoss([variant]),
      },
    ],
    contrasts: [difference(control, "control", controlLabel), difference(variant, "variant", "few-shot")],
    uncompared: [],
  };
}
