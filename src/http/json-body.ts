import { validator } from "hono/validator";
import type { StandaloneValidator } from "../generated/validators";
import { ProblemError, type ProblemCode } from "./problem";
import { schemaErrorsToFields } from "./schema-errors";

/** Hono's validator seam with a build-time compiled schema: a bad body is a problem naming each field. */
export function jsonBody<T>(validate: StandaloneValidator, code: ProblemCode, noun: string) {
  return validator("json", (value): T => {
    if (!validate(value)) {
      const fields = schemaErrorsToFields(validate.errors ?? []);
      throw new ProblemError(code, `The ${noun} has ${fields.length} problem${fields.length === 1 ? "" : "s"}: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}.`, { fields });
    }
    return value as T;
  });
}
