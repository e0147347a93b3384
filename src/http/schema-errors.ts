import type { SchemaError } from "../generated/validators";

export interface FieldProblem {
  /** Dotted path of the field, e.g. "authors[0].name". */
  field: string;
  message: string;
}

/** Turns JSON Schema errors into one plain message per field, naming the field the way a submitter wrote it. */
export function schemaErrorsToFields(errors: readonly SchemaError[]): FieldProblem[] {
  const seen = new Set<string>();
  const fields: FieldProblem[] = [];
  for (const error of errors) {
    // An if/then rule's failure is said by the "then" schema's own error (a variant's label "is required").
    if (error.keyword === "if") continue;
    let path = pointerToPath(error.instancePath);
    let message = error.message ?? "is invalid";
    if (error.keyword === "required" && typeof error.params.missingProperty === "string") {
      path = join(path, error.params.missingProperty);
      message = "is required";
    } else if (error.keyword === "additionalProperties" && typeof error.params.additionalProperty === "string") {
      path = join(path, error.params.additionalProperty);
      message = "is not a known field";
    }
    const field = path || "(metadata)";
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fields.push({ field, message });
  }
  return fields;
}

function pointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, token) => (/^\d+$/.test(token) ? `${path}[${token}]` : join(path, token)), "");
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
