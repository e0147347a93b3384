import { validator } from "hono/validator";
import type { StandaloneValidator } from "../generated/validators";
import { rejectDuplicateKeys, schemaProblem } from "./json-part";
import type { ProblemCode } from "./problem";

/** The media types Hono's validator parses as JSON. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Hono's validator seam with a build-time compiled schema: a bad body is a problem naming each field. A key given
 * twice in one object of the body fails first, with `duplicateKeyCode` (the body's own code when not given).
 */
export function jsonBody<T>(
  validate: StandaloneValidator<T>,
  code: ProblemCode,
  noun: string,
  duplicateKeyCode?: ProblemCode,
) {
  return validator("json", async (value, c): Promise<T> => {
    // Hono parsed a JSON body from its text and keeps it: reading it again costs no second read of the stream.
    const [mediaType = ""] = (c.req.header("content-type") ?? "").split(";");
    // JSON.parse keeps the last of two equal keys silently; a body that says two things is refused instead.
    if (JSON_MEDIA_TYPE.test(mediaType.trim()))
      rejectDuplicateKeys(await c.req.text(), duplicateKeyCode ?? code, `The ${noun} body`);
    if (!validate(value)) throw schemaProblem(validate, code, noun);
    return value;
  });
}
