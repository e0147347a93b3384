/**
 * Slices of one evaluation's results. A multi-part submission's files are evaluated as one list of examples (the
 * files' examples concatenated in the metadata's order), so each model has one ModelResults over all of them; each
 * file, the task (all parts), a control, a variant or a group is a list of example indices into it. A slice is
 * analysed exactly as results of those examples alone would be: the analysis only ever reads a column's values by
 * example index, and a slice's index k is the k-th index it was given. Pure.
 */
import type { FamilyResults } from "./analyse";
import type { ModelResults } from "./results-csv";

/**
 * The results of the examples at `indices`, in that order: every column becomes its values there (NaN stays NaN,
 * so a flagged example stays flagged), `rows` becomes indices.length, and everything else is kept. An index that
 * is not a whole number inside a column is a caller's bug, not a property of the data: it throws RangeError rather
 * than read as a missing value.
 */
export function sliceResults(results: ModelResults, indices: readonly number[]): ModelResults {
  const columns: ModelResults["columns"] = Object.fromEntries(
    Object.entries(results.columns).map(([name, column]) => [name, pick(column, indices, name)]),
  );
  return { ...results, columns, rows: indices.length };
}

/** Every model of every line sliced alike (sliceResults); families, axes, lines and scales unchanged. */
export function sliceFamilyResults(lines: readonly FamilyResults[], indices: readonly number[]): FamilyResults[] {
  return lines.map((line) => ({
    ...line,
    models: line.models.map((model) => ({ ...model, results: sliceResults(model.results, indices) })),
  }));
}

function pick(column: Float64Array, indices: readonly number[], name: string): Float64Array {
  const out = new Float64Array(indices.length);
  for (const [k, index] of indices.entries()) {
    if (!Number.isInteger(index) || index < 0 || index >= column.length) {
      throw new RangeError(`slice index ${index} is outside column "${name}" (examples 0 to ${column.length - 1})`);
    }
    // biome-ignore lint/style/noNonNullAssertion: index is a whole number inside the column, checked just above.
    out[k] = column[index]!;
  }
  return out;
}

/** The indices of `count` examples from `start`: a file's range in the concatenated list, or the task's parts. */
export function exampleRange(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => start + k);
}

/**
 * Each group's example indices, in file order, groups in the order they first appear; an example without a group
 * is in none. `groups[i]` is example i's group (the task file's optional `group` column).
 */
export function groupIndices(groups: readonly (string | undefined)[]): Map<string, number[]> {
  const indices = new Map<string, number[]>();
  for (const [i, group] of groups.entries()) {
    if (group === undefined) continue;
    const list = indices.get(group);
    if (list) list.push(i);
    else indices.set(group, [i]);
  }
  return indices;
}
