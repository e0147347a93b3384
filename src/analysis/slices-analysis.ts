import type { Analysis } from "./analyse";
import type { SlicesAnalysis as GeneratedSlicesAnalysis } from "../generated/types";

/**
 * A submission's slices analysed (schemas/slices-analysis.schema.json; made by src/review/slice-analyses.ts): the
 * generated type, its analyses the wider Analysis of analyse.ts (any TaskType), as analyses are stored.
 */
export interface SlicesAnalysis extends Omit<GeneratedSlicesAnalysis, "slices"> {
  slices: SliceEntry[];
}

export type SliceEntry = Omit<GeneratedSlicesAnalysis["slices"][number], "analysis"> & { analysis?: Analysis };
