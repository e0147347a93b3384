/**
 * `values[index]` for an index the caller keeps in bounds (a model of the family, a scenario's cell), checked:
 * under noUncheckedIndexedAccess an index read may be undefined, and a missing value must fail here, naming the
 * index, rather than turn into NaN further on. Not for loops over every value of a typed array (the bootstrap,
 * the contrasts, copying columns, the results parser's cells): one helper called with many array types is slower
 * there, so those reads stay unchecked, each under a biome-ignore that says why it is in bounds.
 */
export function at<T>(values: ArrayLike<T>, index: number): T {
  const value = values[index];
  if (value === undefined) throw new RangeError(`index ${index} is outside 0 to ${values.length - 1}`);
  return value;
}
