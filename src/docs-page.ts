import { escapeXml } from "./util/escape";
import { htmlDocument } from "./http/html";

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly description?: string;
  readonly schema?: unknown;
}

interface Response {
  readonly description?: string;
  readonly content?: Readonly<Record<string, { readonly schema?: unknown }>>;
}

interface Operation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly parameters?: readonly Parameter[];
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  readonly requestBody?: { readonly content?: Readonly<Record<string, { readonly schema?: unknown }>> };
  readonly responses?: Readonly<Record<string, Response>>;
}

/** The parts of the OpenAPI document the page shows. */
export interface DocsSource {
  readonly info: { readonly title: string; readonly version?: string; readonly description?: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: {
    readonly securitySchemes?: Readonly<
      Record<
        string,
        { readonly scheme?: string; readonly in?: string; readonly name?: string; readonly description?: string }
      >
    >;
  };
}

type Json = { readonly [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
const code = (text: string): string => `<code>${escapeXml(text)}</code>`;

/** A schema in a few words: a component's name, the values of an enum or const, else its type and bounds. */
function describeSchema(schema: unknown): string {
  if (!isObject(schema)) return "";
  if (typeof schema.$ref === "string") return code(schema.$ref.replace(/^.*\//, ""));
  if ("const" in schema) return code(JSON.stringify(schema.const));
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => code(JSON.stringify(value))).join(" | ");
  const type = Array.isArray(schema.type) ? strings(schema.type).join(" or ") : String(schema.type ?? "any");
  const format = typeof schema.format === "string" ? ` (${escapeXml(schema.format)})` : "";
  const bounds = [
    typeof schema.minimum === "number" ? `≥ ${schema.minimum}` : "",
    typeof schema.maximum === "number" ? `≤ ${schema.maximum}` : "",
  ].filter(Boolean);
  return `${escapeXml(type)}${format}${bounds.length > 0 ? `, ${bounds.join(", ")}` : ""}`;
}

/** The problem codes an error response can carry: the `code` enum of its problem+json schema (or an allOf part). */
function problemCodes(response: Response): string[] {
  const schema = response.content?.["application/problem+json"]?.schema;
  if (!isObject(schema)) return [];
  const parts = [schema, ...(Array.isArray(schema.allOf) ? schema.allOf : [])];
  return parts.flatMap((part) =>
    isObject(part) && isObject(part.properties) && isObject(part.properties.code)
      ? strings(part.properties.code.enum)
      : [],
  );
}

function parametersTable(parameters: readonly Parameter[]): string {
  if (parameters.length === 0) return "<p>Parameters: none.</p>";
  const rows = parameters
    .map(
      (parameter) =>
        `<tr><td>${code(parameter.name)}</td><td>${escapeXml(parameter.in)}</td><td>${parameter.required ? "yes" : "no"}</td><td>${describeSchema(parameter.schema)}</td><td>${escapeXml(parameter.description ?? "")}</td></tr>`,
    )
    .join("\n");
  return `<table>
<caption>Parameters</caption>
<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th><th scope="col">Schema</th><th scope="col">Description</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

/** Who may call the operation: each security requirement's schemes, or none for a public operation. */
function securityText(operation: Operation, source: DocsSource): string {
  if (operation.security === undefined) return "not declared";
  if (operation.security.length === 0) return "none (public)";
  const schemes = source.components?.securitySchemes ?? {};
  // Requirements are alternatives; an empty one means the operation may also be called with none.
  return operation.security
    .map((requirement) => {
      const names = Object.keys(requirement);
      if (names.length === 0) return "none (public)";
      return names
        .map((name) => {
          const scheme = schemes[name];
          const how = scheme?.scheme
            ? ` (${escapeXml(scheme.scheme)} token)`
            : scheme?.in && scheme.name
              ? ` (${escapeXml(scheme.in)} ${code(scheme.name)})`
              : "";
          return `${code(name)}${how}${scheme?.description ? `: ${escapeXml(scheme.description)}` : ""}`;
        })
        .join(" and ");
    })
    .join(", or ");
}

function requestBodyText(operation: Operation): string {
  const content = operation.requestBody?.content;
  if (!content) return "";
  const types = Object.entries(content).map(([type, media]) => {
    const schema = describeSchema(media.schema);
    return `${code(type)}${schema ? ` ${schema}` : ""}`;
  });
  return `<p>Body: ${types.join("; ")}</p>`;
}

function responsesList(operation: Operation): string {
  const items = Object.entries(operation.responses ?? {}).map(([status, response]) => {
    const codes = problemCodes(response);
    const codeText = codes.length > 0 ? ` Problem codes: ${codes.map(code).join(", ")}.` : "";
    return `<li>${code(status)} ${escapeXml(response.description ?? "")}${codeText}</li>`;
  });
  return `<ul>${items.join("")}</ul>`;
}

function operationSection(path: string, method: string, operation: Operation, source: DocsSource): string {
  return `<section id="${escapeXml(operation.operationId ?? `${method}-${path}`)}">
  <h2><code>${escapeXml(method.toUpperCase())} ${escapeXml(path)}</code></h2>
  <p><strong>${escapeXml(operation.summary ?? "")}</strong></p>
  ${operation.description ? `<p>${escapeXml(operation.description)}</p>` : ""}
  <p>Authentication: ${securityText(operation, source)}</p>
  ${parametersTable(operation.parameters ?? [])}
  ${requestBodyText(operation)}
  <h3>Responses</h3>
  ${responsesList(operation)}
</section>`;
}

/**
 * The API reference as a page, rendered from the OpenAPI document itself so the two cannot disagree: every
 * operation with its parameters, who may call it, its body, and its responses with their problem codes.
 */
export function renderDocsPage(source: DocsSource): string {
  const sections = Object.entries(source.paths)
    .flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => operationSection(path, method, operation, source)),
    )
    .join("\n");
  const version = source.info.version ? ` (version ${escapeXml(source.info.version)})` : "";
  return htmlDocument({
    title: `${source.info.title}: API reference`,
    style: `  body { max-width: 860px; }
  section { border-top: 1px solid #ddd; padding: 0.5rem 0; } h2 { font-size: 1.05rem; } h3 { font-size: 0.95rem; }
  code { background: #f4f4f4; padding: 0 0.2rem; }
  table { border-collapse: collapse; font-size: 0.9rem; } caption { text-align: left; font-weight: 600; }
  th, td { border: 1px solid #ddd; padding: 0.2rem 0.4rem; text-align: left; vertical-align: top; }`,
    body: `<h1>${escapeXml(source.info.title)}: API reference${version}</h1>
<p>${escapeXml(source.info.description ?? "")} The machine-readable document is <a href="/openapi.json">/openapi.json</a>; schemas are in its components.</p>
${sections}`,
  });
}
