/**
 * `value`, or a failure that names what was missing, thrown at the line that looked for it. Tests use this where the
 * types allow undefined or null (an index under noUncheckedIndexedAccess, a `find`, a row that may be absent) instead
 * of a non-null assertion, which would let a missing value fail later with an unrelated TypeError, or not at all.
 */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}`);
  return value;
}
