import type { ModelFamily } from "../generated/types";
import { axisScaleOf, type Axis, type AxisScale, type LineFixed } from "./family-input";

/**
 * A model family definition (schemas/model-family.schema.json), as far as analysis needs it. Deliberately
 * narrower than ModelFamily: the CLI and tests analyse families given only names, axes and scales, without an
 * adapter; and `models` is a plain array (the schema's "at least two" is checked by validation, not the type).
 */
export interface FamilyDefinition extends Pick<ModelFamily, "name" | "axis" | "visibility"> {
  models: Pick<ModelFamily["models"][number], "id" | "parameters" | "trainingFlops" | "trainingTokens" | "rlhfSteps">[];
}

export type FamilyScales =
  | { ok: true; name: string; axis: Axis; scales: Map<string, number> }
  | { ok: false; message: string };

/** Each model's scale on the family's axis (parameters unless the family says flops or RLHF steps). */
export function familyScales(family: FamilyDefinition): FamilyScales {
  const axis = family.axis ?? "params";
  const scales = new Map<string, number>();
  for (const model of family.models) {
    const scale = axis === "params" ? model.parameters : axis === "flops" ? model.trainingFlops : model.rlhfSteps;
    if (scale === undefined) {
      return {
        ok: false,
        message: `model "${model.id}" has no ${axis === "flops" ? "trainingFlops" : "rlhfSteps"}, which the family's axis "${axis}" needs`,
      };
    }
    scales.set(model.id, scale);
  }
  return { ok: true, name: family.name, axis, scales };
}

/** One line of a family to analyse: FamilyResults (analyse.ts) when R is ModelResults. */
export interface FamilyLine<R> {
  family: string;
  axis: Axis;
  /** The family's, so all its lines along one axis are placed alike and can share a plot. */
  axisScale: AxisScale;
  /** Set on the lines of a grid family only, so a family that is one line is analysed exactly as before. */
  fixed?: LineFixed;
  /** The line's models that have results, in the family's order. */
  models: { id: string; scale: number; results: R }[];
}

/**
 * A line that cannot show a trend, and why. Every model of a family is on a line, on one of these, or listed as
 * without results.
 */
export interface UnfitLine {
  family: string;
  axis: Axis;
  fixed?: LineFixed;
  /** Its models that have results (none have results when this is empty). */
  models: string[];
  reason: string;
}

export type FamilyLines<R> =
  | {
      ok: true;
      axis: Axis;
      axisScale: AxisScale;
      /** Lines with at least 2 models with results at 2 different positions: analyse these. */
      lines: FamilyLine<R>[];
      unfit: UnfitLine[];
      /** Models of the family with no entry in `results`. */
      withoutResults: string[];
    }
  | { ok: false; message: string };

/**
 * The axes a family can be analysed along: its own axis first, then, for a grid (models differing in both size
 * and RLHF steps), the other of size and RLHF steps. Each axis is a separate analysis and plot.
 */
export function familyAxes(family: FamilyDefinition): Axis[] {
  const axis = family.axis ?? "params";
  if (!isGrid(family)) return [axis];
  return axis === "rlhf_steps" ? [axis, "params"] : [axis, "rlhf_steps"];
}

/**
 * Whether the family is a grid: every model gives its RLHF steps, and the models differ in both parameters and
 * steps. A family where only some models give steps (base models next to tuned ones, as families registered before
 * grids were analysed may be) is one line on its own axis, as it always was.
 */
export function isGrid(family: FamilyDefinition): boolean {
  if (family.models.some((model) => model.rlhfSteps === undefined)) return false;
  const sizes = new Set(family.models.map((model) => model.parameters));
  const steps = new Set(family.models.map((model) => model.rlhfSteps));
  return sizes.size > 1 && steps.size > 1;
}

/**
 * The lines to analyse a family along `axis` (default: the family's): against RLHF steps one line per size,
 * against size (or FLOPs) one line per RLHF step count, each holding that value fixed; a family that is not a grid
 * is one line, exactly as familyScales places it. `results` holds the models that have results (a model absent
 * from it is listed in withoutResults). A line needs 2 models with results at 2 different positions on the axis;
 * one that has fewer is listed in `unfit` with the reason, never dropped silently. Pure.
 */
export function familyLines<R>(
  definition: FamilyDefinition,
  results: ReadonlyMap<string, R>,
  axis: Axis = definition.axis ?? "params",
): FamilyLines<R> {
  const known = familyScales({ ...definition, axis });
  if (!known.ok) return known;
  const grid = isGrid(definition);
  const heldName = axis === "rlhf_steps" ? "parameters" : "rlhfSteps";
  const axisScale = axisScaleOf(axis, known.scales.values());
  // Models grouped by the value held fixed, smallest first; a family that is not a grid is one group.
  const groups = new Map<number | undefined, FamilyDefinition["models"]>();
  for (const model of definition.models) {
    const held = grid ? model[heldName] : undefined;
    groups.set(held, [...(groups.get(held) ?? []), model]);
  }
  const held = [...groups.keys()].sort((a, b) => (a ?? 0) - (b ?? 0));
  const lines: FamilyLine<R>[] = [];
  const unfit: UnfitLine[] = [];
  const withoutResults: string[] = [];
  for (const value of held) {
    const fixed: LineFixed | undefined =
      value === undefined ? undefined : heldName === "parameters" ? { parameters: value } : { rlhfSteps: value };
    const models = (groups.get(value) ?? []).flatMap((model) => {
      const modelResults = results.get(model.id);
      if (modelResults === undefined) {
        withoutResults.push(model.id);
        return [];
      }
      return [{ id: model.id, scale: knownScale(known.scales.get(model.id)), results: modelResults }];
    });
    const positions = new Set(models.map((model) => model.scale)).size;
    const line = { family: definition.name, axis, ...(fixed && { fixed }) };
    if (positions >= 2) lines.push({ ...line, axisScale, models });
    else unfit.push({ ...line, models: models.map((model) => model.id), reason: unfitReason(models.length, axis) });
  }
  return { ok: true, axis, axisScale, lines, unfit, withoutResults };
}

/** Why a line with fewer than 2 positions cannot show a trend. */
function unfitReason(withResults: number, axis: Axis): string {
  const along = axis === "rlhf_steps" ? "RLHF step counts" : axis === "flops" ? "training FLOPs" : "sizes";
  if (withResults === 0) return `no model on this line has results; a trend needs 2 ${along}`;
  if (withResults === 1) return `only 1 model on this line has results; a trend needs 2 ${along}`;
  return `its ${withResults} models with results are all at one position; a trend needs 2 ${along}`;
}

/** familyScales has a scale for every model, or refused the family. */
function knownScale(scale: number | undefined): number {
  if (scale === undefined) throw new Error("familyScales gave no scale for one of its own models");
  return scale;
}
