import type { StandaloneValidator } from "../generated/validators";
import { MultipartError, type MultipartReader } from "./multipart";
import { ProblemError, type ProblemCode } from "./problem";
import { duplicateKeyPath } from "./json-duplicate-keys";
import { schemaErrorsToFields } from "./schema-errors";

/**
 * Reads the current multipart part as JSON and checks it with a compiled schema, failing with `code` and one
 * plain message per field; `noun` names the part in messages ("metadata", "family"). With `duplicateKeyCode`, a
 * key given twice in one object (which JSON.parse would silently resolve to the last) fails with that code.
 */
export async function readJsonPart<T>(
  reader: MultipartReader,
  maxBytes: number,
  validate: StandaloneValidator<T>,
  code: ProblemCode,
  noun: string,
  duplicateKeyCode?: ProblemCode,
): Promise<T> {
  let text: string;
  let value: unknown;
  try {
    text = await reader.readBodyText(maxBytes);
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof MultipartError) throw error;
    throw new ProblemError(code, `The "${noun}" part is not valid JSON.`, { fields: [] });
  }
  if (duplicateKeyCode) rejectDuplicateKeys(text, duplicateKeyCode, `The "${noun}" part`);
  if (!validate(value)) throw schemaProblem(validate, code, noun);
  return value;
}

/** Fails with `code`, naming the key's path, when JSON text (already parsed) gives a key twice in one object. */
export function rejectDuplicateKeys(text: string, code: ProblemCode, subject: string): void {
  const key = duplicateKeyPath(text);
  if (key === undefined) return;
  throw new ProblemError(
    code,
    `${subject} gives "${key}" more than once; JSON readers disagree on which one counts, so give each key once.`,
    { key },
  );
}

/** The problem for a value its schema rejected: one plain message per field, and the fields listed. */
export function schemaProblem(validate: StandaloneValidator<unknown>, code: ProblemCode, noun: string): ProblemError {
  const fields = schemaErrorsToFields(validate.errors ?? []);
  const listed = fields.map((field) => `${field.field} ${field.message}`).join("; ");
  return new ProblemError(
    code,
    `The ${noun} has ${fields.length} problem${fields.length === 1 ? "" : "s"}: ${listed}.`,
    { fields },
  );
}
