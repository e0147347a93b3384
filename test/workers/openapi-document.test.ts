/// <reference types="vite/client" />
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { license, version } from "../../package.json";
import { PROBLEMS } from "../../src/http/problem";
import { bundleSchemas, discriminatedUnion, openApiDocument } from "../../src/openapi";

/**
 * The API document as the tools people point at it read it: references that resolve, every schema file bundled
 * once, every operation's security and problem codes, the licence and version. (The Redocly lint runs in CI:
 * `npm run lint:openapi`.)
 */
type Json = { [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const document: Json = JSON.parse(JSON.stringify(openApiDocument));
/** Every file in schemas/, found by the test rather than listed by the code under test. */
const schemaModules = import.meta.glob<Json>("../../schemas/*.schema.json", { eager: true, import: "default" });
/** Schemas no route serves yet: the zip report is the CLI's until zip uploads land (issue 18). */
const NOT_SERVED = new Set<string>();
const schemaFiles = Object.keys(schemaModules)
  .map((path) => path.replace(/^.*\//, ""))
  .filter((file) => !NOT_SERVED.has(file));
function readSchema(file: string): Json {
  const schema = schemaModules[`../../schemas/${file}`];
  if (!schema) throw new Error(`no schemas/${file}`);
  return structuredClone(schema);
}
/** A JSON object's members that are objects themselves (an operation's responses). */
const objectEntries = (value: unknown): Record<string, Json> =>
  Object.fromEntries(
    Object.entries(isObject(value) ? value : {}).filter((entry): entry is [string, Json] => isObject(entry[1])),
  );
const pascal = (text: string) => text.replace(/(^|[-_])([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
const componentOf = (file: string) => pascal(file.replace(".schema.json", ""));

/** Every `$ref` in a JSON value, with where it is. */
function references(node: unknown, at = "#"): { at: string; ref: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => references(item, `${at}/${index}`));
  if (!isObject(node)) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === "$ref" && typeof value === "string" ? [{ at, ref: value }] : references(value, `${at}/${key}`),
  );
}

/** The value a local JSON pointer names, or undefined. */
function resolve(root: unknown, pointer: string): unknown {
  if (!pointer.startsWith("#")) return undefined;
  const tokens = pointer.slice(1).split("/").slice(1);
  return tokens
    .map((token) => decodeURIComponent(token).replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<unknown>(
      (node, token) => (isObject(node) || Array.isArray(node) ? Reflect.get(node, token) : undefined),
      root,
    );
}

interface Operation {
  label: string;
  security?: unknown;
  responses: Record<string, Json>;
}

const operations: Operation[] = Object.entries(isObject(document.paths) ? document.paths : {}).flatMap(([path, item]) =>
  Object.entries(isObject(item) ? item : {}).map(([method, operation]) => ({
    ...(isObject(operation) ? operation : {}),
    label: `${method.toUpperCase()} ${path}`,
    responses: isObject(operation) ? objectEntries(operation.responses) : {},
  })),
);

/** The problem codes an error response declares: the `code` enum of its problem+json schema. */
function problemCodes(response: Json): string[] {
  const schema = resolve(response, "#/content/application~1problem+json/schema/allOf/1/properties/code/enum");
  return Array.isArray(schema) ? schema.map(String) : [];
}

const components =
  isObject(document.components) && isObject(document.components.schemas) ? document.components.schemas : {};

describe("references", () => {
  it("every $ref in the document resolves against the document", () => {
    const dangling = references(document).filter(({ ref }) => resolve(document, ref) === undefined);
    expect(references(document).length).toBeGreaterThan(100);
    expect(dangling).toEqual([]);
  });

  it("no $defs and no $id are left in the document to resolve against", () => {
    const text = JSON.stringify(document);
    expect({ defs: text.includes('"$defs"'), id: text.includes('"$id"') }).toEqual({ defs: false, id: false });
  });
});

describe("the schema files", () => {
  it.each(schemaFiles)("%s appears once under components/schemas, named for its file", (file) => {
    const name = componentOf(file);
    expect(Object.keys(components).filter((key) => key === name)).toEqual([name]);
  });

  it.each(schemaFiles)("%s has each of its $defs hoisted as <Name><Def>", (file) => {
    const defs = Object.keys(readSchema(file).$defs ?? {});
    for (const key of defs) expect(Object.keys(components), key).toContain(`${componentOf(file)}${pascal(key)}`);
  });

  it("a schema file without a union is embedded as it is, references aside", () => {
    const { $schema: _dialect, $id: _id, $defs: _defs, ...body } = readSchema("validation-report.schema.json");
    const hoisted = JSON.stringify(body).replace(
      /#\/\$defs\/(\w+)/g,
      (_, key: string) => `#/components/schemas/ValidationReport${pascal(key)}`,
    );
    expect(components.ValidationReport).toEqual(JSON.parse(hoisted));
  });

  it("a reference to another schema file points at that file's component", () => {
    expect(resolve(components, "#/MetadataUpdate/properties/metadata/$ref")).toBe(
      "#/components/schemas/SubmissionMetadata",
    );
  });

  it("a reference to a definition that does not exist is refused when bundling", () => {
    const broken = { "broken.schema.json": { type: "object", properties: { a: { $ref: "#/$defs/missing" } } } };
    expect(() => bundleSchemas(broken)).toThrow("Broken: $ref #/$defs/missing names no schema in schemas/");
  });
});

describe("the Example union", () => {
  const example = isObject(components.Example) ? components.Example : {};
  const taskTypes = resolve(readSchema("example.schema.json"), "#/properties/taskType/enum");

  it("is discriminated by taskType, mapping each of the six task types to its own component", () => {
    expect(taskTypes).toHaveLength(6);
    expect(resolve(example, "#/discriminator/propertyName")).toBe("taskType");
    const mapping = resolve(example, "#/discriminator/mapping");
    expect(Object.keys(isObject(mapping) ? mapping : {}).sort()).toEqual(
      [...(Array.isArray(taskTypes) ? taskTypes : [])].sort(),
    );
  });

  it("has branches that each require taskType and fix it to their one value", () => {
    const mapping = resolve(example, "#/discriminator/mapping");
    for (const [taskType, ref] of Object.entries(isObject(mapping) ? mapping : {})) {
      const branch = resolve(document, String(ref));
      expect(resolve(branch, "#/properties/taskType"), taskType).toEqual({ const: taskType });
      expect(resolve(branch, "#/required"), taskType).toContain("taskType");
    }
  });

  const ajv = new Ajv2020({ strict: false });
  const fileSchema = ajv.compile(readSchema("example.schema.json"));
  const bundled = ajv.compile({ ...document, $ref: "#/components/schemas/Example" });
  const cases: [string, Json][] = [
    [
      "classification",
      { taskType: "classification", row: 1, line: 2, prompt: "Q", classes: [" a", " b"], answerIndex: 0 },
    ],
    ["sequence_prob", { taskType: "sequence_prob", row: 1, line: 2, prompt: "Q", completion: " x" }],
    [
      "logodds",
      { taskType: "logodds", row: 1, line: 2, prompt: "Q", otherPrompt: "R", classes: [" a", " b"], answerIndex: 1 },
    ],
    [
      "absolute_logodds",
      {
        taskType: "absolute_logodds",
        row: 1,
        line: 2,
        prompt: "Q",
        otherPrompt: "R",
        classes: [" a", " b"],
        answerIndex: 0,
      },
    ],
    ["numeric", { taskType: "numeric", row: 1, line: 2, prompt: "Q", trueAnswer: 3, anchor: 30 }],
    ["behaviour", { taskType: "behaviour", row: 1, line: 2, prompt: "Q", classes: [" Yes", " No"], matchingCount: 1 }],
    [
      "logodds with three classes",
      {
        taskType: "logodds",
        row: 1,
        line: 2,
        prompt: "Q",
        otherPrompt: "R",
        classes: [" a", " b", " c"],
        answerIndex: 1,
      },
    ],
    [
      "classification without answerIndex",
      { taskType: "classification", row: 1, line: 2, prompt: "Q", classes: [" a", " b"] },
    ],
    [
      "numeric fields under another type",
      { taskType: "sequence_prob", row: 1, line: 2, prompt: "Q", trueAnswer: 3, anchor: 30 },
    ],
    ["no taskType", { row: 1, line: 2, prompt: "Q", completion: " x" }],
  ];

  it.each(cases)("judges %s as the schema file does", (_, value) => {
    expect(bundled(value)).toBe(fileSchema(value));
  });

  it("accepts every valid example and refuses every invalid one in those cases", () => {
    expect(cases.map(([, value]) => bundled(value))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it("refuses a union whose branches do not cover the property's enum", () => {
    const schema = {
      type: "object",
      properties: { kind: { enum: ["a", "b"] } },
      oneOf: [{ properties: { kind: { const: "a" } } }],
    };
    expect(() => discriminatedUnion("Thing", schema, "kind")).toThrow(
      "Thing: the branches' kind values are not exactly its enum",
    );
  });
});

describe("operations", () => {
  it.each(operations.map((operation) => [operation.label, operation] as const))(
    "%s declares its security",
    (_, operation) => {
      expect(Array.isArray(operation.security)).toBe(true);
    },
  );

  it("public operations are exactly the pages, this document, the upload, the leaderboard, the settings and the public plots", () => {
    // Public: no requirement, or an empty one among others (a token that is optional: the upload's).
    const publicOnes = operations.filter(
      (operation) =>
        Array.isArray(operation.security) &&
        (operation.security.length === 0 ||
          operation.security.some((requirement) => Object.keys(requirement).length === 0)),
    );
    expect(publicOnes.map((operation) => operation.label).sort()).toEqual([
      "GET /",
      "GET /assets/copy-token.js",
      "GET /assets/pages.css",
      "GET /docs",
      "GET /healthz",
      "GET /openapi.json",
      "GET /review",
      "GET /submissions/{id}",
      "GET /submit",
      "GET /v1/leaderboard",
      "GET /v1/leaderboard.csv",
      "GET /v1/settings",
      "GET /v1/submissions/{id}/plot.svg",
      "GET /v1/submissions/{id}/slices.svg",
      "POST /review/sign-in",
      "POST /review/sign-out",
      "POST /submissions/{id}/sign-in",
      "POST /submissions/{id}/sign-out",
      "POST /submit",
      "POST /v1/submissions",
    ]);
  });

  it("every operation documents a 4xx response but the public reads that take no input (redocly.yaml)", () => {
    const without = operations.filter(
      (operation) => !Object.keys(operation.responses).some((status) => status.startsWith("4")),
    );
    expect(without.map((operation) => operation.label).sort()).toEqual([
      "GET /",
      "GET /assets/copy-token.js",
      "GET /assets/pages.css",
      "GET /docs",
      "GET /healthz",
      "GET /openapi.json",
      "GET /submissions/{id}",
      "GET /submit",
      "GET /v1/leaderboard",
      "GET /v1/leaderboard.csv",
      "GET /v1/settings",
    ]);
  });

  it("every operation documents a 2xx response but the pages' sign-in, sign-out, withdrawal, file replacement and decision, whose success is a 303 (redocly.yaml)", () => {
    const without = operations.filter(
      (operation) => !Object.keys(operation.responses).some((status) => status.startsWith("2")),
    );
    expect(without.map((operation) => operation.label).sort()).toEqual([
      "POST /review/sign-in",
      "POST /review/sign-out",
      "POST /review/submissions/{id}/decision",
      "POST /submissions/{id}/file",
      "POST /submissions/{id}/sign-in",
      "POST /submissions/{id}/sign-out",
      "POST /submissions/{id}/withdraw",
    ]);
  });

  it("every error response names problem codes whose status is the response's", () => {
    const mismatched = operations.flatMap((operation) =>
      Object.entries(operation.responses)
        // The submitters' pages answer errors as pages (text/html), which name no problem code.
        .filter(([status, response]) => /^[45]/.test(status) && !isHtmlPage(response))
        .flatMap(([status, response]) => {
          const codes = problemCodes(response);
          if (codes.length === 0) return [`${operation.label} ${status}: no codes`];
          return codes
            .filter((code) => String(Object.entries(PROBLEMS).find(([name]) => name === code)?.[1].status) !== status)
            .map((code) => `${operation.label} ${status}: ${code}`);
        }),
    );
    expect(mismatched).toEqual([]);
  });

  it("organiser routes answer 403 only where a role or reveal=true is checked", () => {
    const with403 = operations
      .filter((operation) => "403" in operation.responses && !isHtmlPage(operation.responses["403"]))
      .map((operation) => operation.label);
    expect(with403.sort()).toEqual([
      "GET /v1/review/audit",
      "GET /v1/review/spend",
      "GET /v1/review/submissions/{id}",
      "POST /v1/review/families/{name}/check",
      "POST /v1/submissions",
      "PUT /v1/review/families/{name}",
      "PUT /v1/review/settings",
    ]);
  });
});

/** A response of the submitters' pages: HTML only. */
function isHtmlPage(response: unknown): boolean {
  if (typeof response !== "object" || response === null || !("content" in response)) return false;
  const { content } = response;
  return typeof content === "object" && content !== null && Object.keys(content).join() === "text/html";
}

describe("components and info", () => {
  it("every component but Example, which no route returns, is referenced", () => {
    const referenced = new Set(references(document).map(({ ref }) => ref.split("/")[3]));
    expect(Object.keys(components).filter((name) => !referenced.has(name))).toEqual(["Example"]);
  });

  it("info carries the licence and version of package.json", () => {
    expect(document.info).toMatchObject({ version, license: { name: "MIT", identifier: license } });
  });
});
