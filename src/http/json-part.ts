import type { StandaloneValidator } from "../generated/validators";
import { MultipartError, type MultipartReader } from "./multipart";
import { ProblemError, type ProblemCode } from "./problem";
import { schemaErrorsToFields } from "./schema-errors";

/**
 * Reads the current multipart part as JSON and checks it with a compiled schema, failing with `code` and one
 * plain message per field; `noun` names the part in messages ("metadata", "family").
 */
export async function readJsonPart<T>(
  reader: MultipartReader,
  maxBytes: number,
  validate: StandaloneValidator<T>,
  code: ProblemCode,
  noun: string,
): Promise<T> {
  let value: unknown;
  try {
    value = JSON.parse(await reader.readBodyText(maxBytes));
  } catch (error) {
    if (error instanceof MultipartError) throw error;
    throw new ProblemError(code, `The "${noun}" part is not valid JSON.`, { fields: [] });
  }
  if (!validate(value)) throw schemaProblem(validate, code, noun);
  return value;
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
