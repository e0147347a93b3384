import type { ModelFamily } from "../generated/types";

/**
 * A model family definition (schemas/model-family.schema.json), as far as analysis needs it. Deliberately
 * narrower than ModelFamily: the CLI and tests analyse families given only names, axes and scales, without an
 * adapter; and `models` is a plain array (the schema's "at least two" is checked by validation, not the type).
 */
export interface FamilyDefinition extends Pick<ModelFamily, "name" | "axis" | "visibility"> {
  models: Pick<ModelFamily["models"][number], "id" | "parameters" | "trainingFlops" | "trainingTokens" | "rlhfSteps">[];
}

export type FamilyScales =
  | { ok: true; name: string; axis: NonNullable<FamilyDefinition["axis"]>; scales: Map<string, number> }
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
