import { validator } from "hono/validator";
import type { StandaloneValidator } from "../generated/validators";
import { schemaProblem } from "./json-part";
import type { ProblemCode } from "./problem";

/** Hono's validator seam with a build-time compiled schema: a bad body is a problem naming each field. */
export function jsonBody<T>(validate: StandaloneValidator<T>, code: ProblemCode, noun: string) {
  return validator("json", (value): T => {
    if (!validate(value)) throw schemaProblem(validate, code, noun);
    return value;
  });
}
