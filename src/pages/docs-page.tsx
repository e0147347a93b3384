import type { Child } from "hono/jsx";
import { Layout, pagePolicy, renderToString } from "./layout";

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

interface SecurityScheme {
  readonly scheme?: string;
  readonly in?: string;
  readonly name?: string;
  readonly description?: string;
}

/** The parts of the OpenAPI document the page shows. */
export interface DocsSource {
  readonly info: { readonly title: string; readonly version?: string; readonly description?: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: { readonly securitySchemes?: Readonly<Record<string, SecurityScheme>> };
}

/** The page has no script and no form: its policy allows neither (the leaderboard's, for the same reason). */
export function docsPagePolicy(origin: string): string {
  return pagePolicy(origin, { script: false, forms: false });
}

type Json = { readonly [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

/** Items with a separator between each two, as children of one element. */
function joined(items: readonly Child[], separator: Child): Child[] {
  return items.flatMap((item, index) => (index === 0 ? [item] : [separator, item]));
}

/**
 * A description's `backticked` names as code, the rest as text (both escaped by JSX). An odd number of backticks
 * means they are not code spans: the text is shown as written.
 */
function Prose({ text }: { text: string }) {
  const parts = text.split("`");
  if (parts.length % 2 === 0) return <>{text}</>;
  return <>{parts.map((part, index) => (index % 2 === 1 ? <code>{part}</code> : part))}</>;
}

/** A schema in a few words: a component's name, the values of an enum or const, else its type and bounds. */
function SchemaWords({ schema }: { schema: unknown }) {
  if (!isObject(schema)) return null;
  if (typeof schema.$ref === "string") return <code>{schema.$ref.replace(/^.*\//, "")}</code>;
  if ("const" in schema) return <code>{JSON.stringify(schema.const)}</code>;
  if (Array.isArray(schema.enum))
    return (
      <>
        {joined(
          schema.enum.map((value) => <code>{JSON.stringify(value)}</code>),
          " | ",
        )}
      </>
    );
  const type = Array.isArray(schema.type) ? strings(schema.type).join(" or ") : String(schema.type ?? "any");
  const format = typeof schema.format === "string" ? ` (${schema.format})` : "";
  const bounds = [
    typeof schema.minimum === "number" ? `≥ ${schema.minimum}` : "",
    typeof schema.maximum === "number" ? `≤ ${schema.maximum}` : "",
  ].filter(Boolean);
  return <>{`${type}${format}${bounds.length > 0 ? `, ${bounds.join(", ")}` : ""}`}</>;
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

/**
 * The parameters as a list rather than a table: a name, where it goes and whether it is required, then its schema
 * and description, which read at 320 px without scrolling sideways.
 */
function Parameters({ parameters }: { parameters: readonly Parameter[] }) {
  if (parameters.length === 0) return <p>Parameters: none.</p>;
  return (
    <>
      <h3>Parameters</h3>
      <dl class="parameters">
        {parameters.map((parameter) => (
          <>
            <dt>
              <code>{parameter.name}</code> ({parameter.in}, {parameter.required ? "required" : "optional"})
            </dt>
            <dd>
              <SchemaWords schema={parameter.schema} />
              {parameter.description ? (
                <>
                  {". "}
                  <Prose text={parameter.description} />
                </>
              ) : null}
            </dd>
          </>
        ))}
      </dl>
    </>
  );
}

/** How a scheme is presented: a bearer token, or the cookie a page session is carried in. */
function SchemeCarrier({ scheme }: { scheme: SecurityScheme | undefined }) {
  if (scheme?.scheme) return <>{` (${scheme.scheme} token)`}</>;
  if (scheme?.in && scheme.name)
    return (
      <>
        {` (${scheme.in} `}
        <code>{scheme.name}</code>)
      </>
    );
  return null;
}

/**
 * Who may call the operation: each security requirement's schemes, or none for a public operation. Requirements
 * are alternatives; an empty one means the operation may also be called with none. The schemes' descriptions are
 * said once, in the page's "Authentication" section, rather than under every operation.
 */
function Authentication({ operation, source }: { operation: Operation; source: DocsSource }) {
  const schemes = source.components?.securitySchemes ?? {};
  const requirement = (names: readonly string[]): Child =>
    names.length === 0
      ? "none (public)"
      : joined(
          names.map((name) => (
            <>
              <code>{name}</code>
              <SchemeCarrier scheme={schemes[name]} />
            </>
          )),
          " and ",
        );
  const said =
    operation.security === undefined
      ? "not declared"
      : operation.security.length === 0
        ? "none (public)"
        : joined(
            operation.security.map((alternative) => requirement(Object.keys(alternative))),
            ", or ",
          );
  return <p>Authentication: {said}</p>;
}

function RequestBody({ operation }: { operation: Operation }) {
  const content = operation.requestBody?.content;
  if (!content) return null;
  const types = Object.entries(content).map(([type, media]) => (
    <>
      <code>{type}</code>
      {isObject(media.schema) ? (
        <>
          {" "}
          <SchemaWords schema={media.schema} />
        </>
      ) : null}
    </>
  ));
  return <p>Body: {joined(types, "; ")}</p>;
}

function Responses({ operation }: { operation: Operation }) {
  return (
    <>
      <h3>Responses</h3>
      <ul>
        {Object.entries(operation.responses ?? {}).map(([status, response]) => {
          const codes = problemCodes(response);
          return (
            <li>
              <code>{status}</code> <Prose text={response.description ?? ""} />
              {codes.length > 0 ? (
                <>
                  {" Problem codes: "}
                  {joined(
                    codes.map((code) => <code>{code}</code>),
                    ", ",
                  )}
                  .
                </>
              ) : null}
            </li>
          );
        })}
      </ul>
    </>
  );
}

interface Entry {
  path: string;
  method: string;
  operation: Operation;
  /** The section's id, the operation's anchor: its operationId where it has one. */
  anchor: string;
}

function entriesOf(source: DocsSource): Entry[] {
  return Object.entries(source.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      path,
      method,
      operation,
      anchor: operation.operationId ?? `${method}-${path}`,
    })),
  );
}

function OperationSection({ entry, source }: { entry: Entry; source: DocsSource }) {
  const { path, method, operation, anchor } = entry;
  return (
    <section id={anchor}>
      <h2>
        <code>
          {method.toUpperCase()} {path}
        </code>
      </h2>
      <p>
        <strong>{operation.summary ?? ""}</strong>
      </p>
      {operation.description ? (
        <p>
          <Prose text={operation.description} />
        </p>
      ) : null}
      <Authentication operation={operation} source={source} />
      <Parameters parameters={operation.parameters ?? []} />
      <RequestBody operation={operation} />
      <Responses operation={operation} />
    </section>
  );
}

/** The security schemes once, each with its description, for the operations' "Authentication" lines. */
function Schemes({ source }: { source: DocsSource }) {
  const schemes = Object.entries(source.components?.securitySchemes ?? {});
  if (schemes.length === 0) return null;
  return (
    <section aria-labelledby="authentication-heading">
      <h2 id="authentication-heading">Authentication</h2>
      <dl>
        {schemes.map(([name, scheme]) => (
          <>
            <dt id={`scheme-${name}`}>
              <code>{name}</code>
              <SchemeCarrier scheme={scheme} />
            </dt>
            <dd>
              <Prose text={scheme.description ?? ""} />
            </dd>
          </>
        ))}
      </dl>
    </section>
  );
}

/** Every operation by its method and path, each a link to its section: a way to jump, by keyboard too. */
function Contents({ entries }: { entries: readonly Entry[] }) {
  return (
    <nav aria-labelledby="operations-heading">
      <h2 id="operations-heading">Operations</h2>
      <ul>
        {entries.map(({ method, path, anchor }) => (
          <li>
            <a href={`#${anchor}`}>
              <code>
                {method.toUpperCase()} {path}
              </code>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/**
 * The API reference as a page, rendered from the OpenAPI document itself so the two cannot disagree: every
 * operation with its parameters, who may call it, its body, and its responses with their problem codes. It is one
 * of the site's pages: its layout, navigation and stylesheet, nothing inline.
 */
export function DocsPage({ source }: { source: DocsSource }) {
  const entries = entriesOf(source);
  return (
    <Layout title="API reference" here="/docs">
      <p>
        {source.info.title}
        {source.info.version ? `, version ${source.info.version}` : ""}. <Prose text={source.info.description ?? ""} />{" "}
        The machine-readable document is <a href="/openapi.json">/openapi.json</a>; schemas are in its components.
      </p>
      <Schemes source={source} />
      <Contents entries={entries} />
      {entries.map((entry) => (
        <OperationSection entry={entry} source={source} />
      ))}
    </Layout>
  );
}

export function renderDocsPage(source: DocsSource): string {
  return renderToString(<DocsPage source={source} />);
}
