import analysisSchema from "../schemas/analysis.schema.json";
import settingsSchema from "../schemas/competition-settings.schema.json";
import decisionSchema from "../schemas/decision-request.schema.json";
import evaluationRequestSchema from "../schemas/evaluation-request.schema.json";
import exampleSchema from "../schemas/example.schema.json";
import leaderboardSchema from "../schemas/leaderboard.schema.json";
import metadataUpdateSchema from "../schemas/metadata-update.schema.json";
import familySchema from "../schemas/model-family.schema.json";
import metadataSchema from "../schemas/submission-metadata.schema.json";
import reportSchema from "../schemas/validation-report.schema.json";
import filesReportSchema from "../schemas/files-report.schema.json";
import slicesAnalysisSchema from "../schemas/slices-analysis.schema.json";
import slopeDifferenceSchema from "../schemas/slope-difference.schema.json";
import { license, version } from "../package.json";
import { PROBLEMS, type ProblemCode } from "./http/problem";
import { REFUSALS } from "./competition/refusals";

/** A JSON Schema object as the document holds it. */
type SchemaObject = { [keyword: string]: unknown };

const isObject = (value: unknown): value is SchemaObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const COMPONENTS = "#/components/schemas/";
const pascal = (text: string): string =>
  text.replace(/(^|[-_])([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

/** The component a schema file becomes: its file name in PascalCase, as scripts/build-schemas.mjs names its type. */
function componentName(file: string): string {
  return pascal(file.replace(/^.*\//, "").replace(/\.schema\.json$/, ""));
}

/**
 * Rewrites one reference from a schema file into one that resolves against the document: `#/$defs/x…` to the
 * hoisted `<Name>X…`, `#…` to the schema's own component, `other.schema.json#…` likewise into that file's.
 */
function documentReference(ref: string, name: string, names: ReadonlySet<string>): string {
  const [file = "", fragment = ""] = ref.split("#");
  const target = file === "" ? name : componentName(file);
  const [, definition, rest = ""] = /^\/\$defs\/([^/]+)(.*)$/.exec(fragment) ?? [];
  const rewritten =
    definition === undefined
      ? `${COMPONENTS}${target}${fragment}`
      : `${COMPONENTS}${target}${pascal(definition)}${rest}`;
  const component = rewritten.slice(COMPONENTS.length).split("/")[0] ?? "";
  if (!names.has(component)) throw new Error(`${name}: $ref ${ref} names no schema in schemas/`);
  return rewritten;
}

function withReferences(node: unknown, rewrite: (ref: string) => string): unknown {
  if (Array.isArray(node)) return node.map((item) => withReferences(item, rewrite));
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === "$ref" && typeof value === "string" ? rewrite(value) : withReferences(value, rewrite),
    ]),
  );
}

/**
 * Every schema file once under components/schemas, named for its file, with its `$defs` hoisted beside it as
 * `<Name><Def>` (AnalysisInterval, as src/generated/types.ts names them) and every `$ref` rewritten to match. The
 * files resolve `#/$defs/…` against their own `$id`, which a document embedding them does not have; the files
 * themselves stay as they are, since Ajv compiles them at build time.
 */
export function bundleSchemas(files: Readonly<Record<string, unknown>>): Record<string, SchemaObject> {
  const hoisted = Object.entries(files).flatMap(([file, schema]) => {
    if (!isObject(schema)) throw new Error(`${file} is not a schema object`);
    const { $schema: _dialect, $id: _id, $defs = {}, ...body } = schema;
    const name = componentName(file);
    const definitions = isObject($defs) ? Object.entries($defs) : [];
    return [
      { name, body, owner: name },
      ...definitions.map(([key, definition]) => ({ name: `${name}${pascal(key)}`, body: definition, owner: name })),
    ];
  });
  const names = new Set(hoisted.map((entry) => entry.name));
  if (names.size < hoisted.length) throw new Error(`two schemas bundle under one name: ${duplicateOf(hoisted)}`);
  return Object.fromEntries(
    hoisted.map(({ name, body, owner }) => {
      const bundled = withReferences(body, (ref) => documentReference(ref, owner, names));
      if (!isObject(bundled)) throw new Error(`${name} is not a schema object`);
      return [name, bundled];
    }),
  );
}

/** The values of `property` a branch of a union admits: its `const`, or each of its `enum`. */
function branchValues(branch: SchemaObject, property: string): string[] {
  const schema = isObject(branch.properties) ? branch.properties[property] : undefined;
  if (isObject(schema) && typeof schema.const === "string") return [schema.const];
  if (isObject(schema) && Array.isArray(schema.enum) && schema.enum.every((value) => typeof value === "string"))
    return schema.enum;
  throw new Error(`a branch of the union fixes no value of ${property}`);
}

/**
 * A schema of shared properties plus a `oneOf` whose branches each fix `property`, as the discriminated union
 * tools read: one component per value of `property` (`<Name><Value>`: the shared properties and the branch's, with
 * `property` required and fixed to that value) and `<Name>` as their `oneOf` with a discriminator mapping every
 * value. A branch admitting two values becomes two components; the values must be exactly the property's `enum`.
 */
export function discriminatedUnion(name: string, schema: SchemaObject, property: string): Record<string, SchemaObject> {
  const { oneOf, properties, required, type, ...annotations } = schema;
  const shared = isObject(properties) ? properties : {};
  const sharedRequired = Array.isArray(required) ? required : [];
  if (!Array.isArray(oneOf) || !oneOf.every(isObject)) throw new Error(`${name} has no oneOf of schemas`);
  const variants = oneOf.flatMap((branch) => {
    const { properties: own = {}, required: ownRequired = [], ...rest } = branch;
    if (Object.keys(rest).length > 0 || !isObject(own) || !Array.isArray(ownRequired))
      throw new Error(`${name}: a branch says more than properties and required`);
    // Merging is exact only while a branch narrows no shared property but `property` (checked below).
    const narrowed = Object.keys(own).filter((key) => key !== property && key in shared);
    if (narrowed.length > 0) throw new Error(`${name}: a branch redefines ${narrowed.join(", ")}`);
    return branchValues(branch, property).map((value) => ({
      value,
      schema: {
        type,
        required: [...new Set([property, ...sharedRequired, ...ownRequired])],
        properties: { ...shared, ...own, [property]: { const: value } },
      },
    }));
  });
  const declared = isObject(shared[property]) ? shared[property].enum : undefined;
  const values = variants.map((variant) => variant.value);
  if (!Array.isArray(declared) || [...declared].sort().join() !== [...values].sort().join())
    throw new Error(`${name}: the branches' ${property} values are not exactly its enum`);
  const componentOf = (value: string) => `${name}${pascal(value)}`;
  return {
    [name]: {
      ...annotations,
      oneOf: values.map((value) => ({ $ref: `${COMPONENTS}${componentOf(value)}` })),
      discriminator: {
        propertyName: property,
        mapping: Object.fromEntries(values.map((value) => [value, `${COMPONENTS}${componentOf(value)}`])),
      },
    },
    ...Object.fromEntries(variants.map((variant) => [componentOf(variant.value), variant.schema])),
  };
}

/** The schema files, bundled; Example as the union of its task types, discriminated by `taskType`. */
function fileSchemas(): Record<string, SchemaObject> {
  const { Example, ...schemas } = bundleSchemas({
    "analysis.schema.json": analysisSchema,
    "competition-settings.schema.json": settingsSchema,
    "decision-request.schema.json": decisionSchema,
    "evaluation-request.schema.json": evaluationRequestSchema,
    "example.schema.json": exampleSchema,
    "files-report.schema.json": filesReportSchema,
    "leaderboard.schema.json": leaderboardSchema,
    "metadata-update.schema.json": metadataUpdateSchema,
    "model-family.schema.json": familySchema,
    "slices-analysis.schema.json": slicesAnalysisSchema,
    "slope-difference.schema.json": slopeDifferenceSchema,
    "submission-metadata.schema.json": metadataSchema,
    "validation-report.schema.json": reportSchema,
  });
  if (!Example) throw new Error("example.schema.json is missing");
  return mergeComponents(schemas, discriminatedUnion("Example", Example, "taskType"));
}

/** The first name given twice, for the error that stops a bundle from overwriting a schema silently. */
function duplicateOf(entries: readonly { name: string }[]): string {
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return "(none)";
}

/** Components from several sources; a name given twice throws rather than one silently replacing the other. */
export function mergeComponents(...parts: Readonly<Record<string, SchemaObject>>[]): Record<string, SchemaObject> {
  const merged: Record<string, SchemaObject> = {};
  for (const part of parts)
    for (const [name, schema] of Object.entries(part)) {
      if (Object.hasOwn(merged, name)) throw new Error(`two components are named ${name}`);
      merged[name] = schema;
    }
  return merged;
}

const idParameter = { name: "id", in: "path", required: true, schema: { type: "string" } } as const;
const metricParameter = {
  name: "metric",
  in: "query",
  required: false,
  schema: { type: "string" },
  description:
    "Default: the submission's headline metric (`headlineMetric`: accuracy for a task declared classification_acc; matching_probability for a behaviour task; otherwise the type's metric, loss or the log-odds difference).",
} as const;

const axisParameter = {
  name: "axis",
  in: "query",
  required: false,
  schema: { enum: ["params", "flops", "rlhf_steps"] },
  description:
    "The axis to draw: the lines along it only (a family of sizes x RLHF steps is analysed along both, and the two are never drawn in one chart). Default: the first line's axis.",
} as const;

const figureParameter = {
  name: "figure",
  in: "query",
  required: false,
  schema: { enum: ["contrasts", "groups"] },
  description:
    "contrasts (the default): the task beside its controls and variants, with the slope differences in each panel's title; groups: the task beside each group of its examples, one line per group.",
} as const;

/**
 * An error response: problem+json whose `code` is one of `codes`, as an enum that generated clients type and the
 * /docs page lists.
 */
const problem = (codes: ProblemCode[], description: string) => ({
  description,
  content: {
    "application/problem+json": {
      schema: {
        allOf: [
          { $ref: "#/components/schemas/Problem" },
          { type: "object", required: ["code"], properties: { code: { enum: codes } } },
        ],
      },
    },
  },
});

/** Any route that reaches storage can fail on the service's side; nothing about the fault is described. */
const internalError = problem(
  ["internal_error"],
  "A fault on the service's side: logged with the request id (`requestId`), never described; nothing was stored.",
);

/** Any JSON body under /v1 larger than 256 KiB is refused unread (src/app.ts, MAX_JSON_BODY_BYTES). */
const jsonTooLarge = problem(["payload_too_large"], "A JSON body over 256 KiB, refused unread (`limitBytes`).");

/** Uploads and file replacements past their client's allowance (README, "Competition settings"). */
const rateLimited = {
  ...problem(
    ["rate_limited"],
    "This client (its IP address; an IPv6 address by its /64) has used its `uploadsPerHour` uploads and file replacements: `retryAfterSeconds`, `limit`. The body is read and discarded; nothing was stored.",
  ),
  headers: {
    "Retry-After": { description: "Seconds until this client may upload again.", schema: { type: "integer" } },
  },
};

/** A public route (no token) that reads storage. */
const publicRoute = (responses: Record<string, unknown>) => ({
  security: [],
  responses: { "500": internalError, ...responses },
});

/** An organiser route's security and responses: the token, and the 401 every such route shares. */
const organiser = (responses: Record<string, unknown>) => ({
  security: [{ organiserToken: [] }],
  responses: {
    "401": problem(["unauthorized"], "No organiser token, or one that is unknown or revoked."),
    "500": internalError,
    ...responses,
  },
});

/** An admin-only route: an organiser's token is valid but gets 403. */
const admin = (responses: Record<string, unknown>) =>
  organiser({ "403": problem(["forbidden"], "The token is an organiser's; this needs the admin role."), ...responses });

/** A submitter route's security and responses: the submission's token, and the 401/404 every such route shares. */
const submitter = (responses: Record<string, unknown>) => ({
  security: [{ submitterToken: [] }],
  responses: {
    "401": problem(["unauthorized"], "No bearer token."),
    "404": problem(["submission_not_found"], "No submission with this id for this token."),
    "500": internalError,
    ...responses,
  },
});

const json = (schema: Record<string, unknown>) => ({ "application/json": { schema } });

/** A response of the submitters' pages: HTML, whatever the outcome (a page says what went wrong). */
const htmlPage = (description: string) => ({ description, content: { "text/html": {} } });

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "isv: Inverse Scaling validator",
    version,
    license: { name: license, identifier: license },
    description:
      "Submit inverse-scaling benchmark tasks in the Inverse Scaling Prize's CSV formats. Every error is application/problem+json (RFC 9457) with a stable `code`. Every answer carries X-Content-Type-Options: nosniff and a Content-Security-Policy with frame-ancestors 'none' (nothing served runs script).",
  },
  servers: [{ url: "/" }],
  paths: {
    "/v1/submissions": {
      post: {
        operationId: "createSubmission",
        summary: "Submit a task file with its metadata",
        // Anyone may submit; the owner of a duplicate may send its token to read the full record.
        security: [{}, { submitterToken: [] }],
        description:
          "multipart/form-data with two parts, in either order: `metadata` (JSON, SubmissionMetadata, each key once) and `file` (the task file, UTF-8: the prize's CSV, or a model-written evaluation in JSON Lines, or one JSON array of such items, as `metadata.format` says or, without it, as the first byte that is not whitespace says: `{` or `[` for mwe). A model-written evaluation becomes a `behaviour` task: each item's prompt is `metadata.behaviour.promptTemplate` filled in with its fields, its classes are the matching answers, then the others. With the metadata first, the file is validated as it streams; with the file first, it is staged as it streams and validated once the metadata (its task type) has been read, with the same outcome. Every problem is reported at once, each with its line, row, column and code; metadata problems come first in either order, and nothing is kept if either part is refused. A valid file is stored and a submitter token is returned once. The same bytes submitted again answer 200 with the existing submission's id and `duplicate: true` only, or its full record (never the token) when the request carries that submission's submitter token as a bearer token.",
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["metadata", "file"],
                properties: {
                  metadata: { $ref: "#/components/schemas/SubmissionMetadata" },
                  file: { type: "string", description: "The task file: CSV, JSON Lines or a JSON array." },
                },
              },
              encoding: {
                metadata: { contentType: "application/json" },
                file: { contentType: "text/csv, application/x-ndjson, application/jsonl, application/json" },
              },
            },
          },
        },
        responses: {
          "201": {
            description:
              "Stored. `submitterToken` is shown only here; send it as a bearer token to read the submission.",
            content: { "application/json": { schema: { $ref: "#/components/schemas/SubmissionCreated" } } },
          },
          "200": {
            description:
              "These exact bytes were submitted before: `{ id, duplicate: true }`, the existing submission's id alone; with that submission's submitter token (Authorization: Bearer), its full record marked `duplicate: true`, without the token. Location names it.",
            content: {
              "application/json": {
                schema: {
                  oneOf: [
                    {
                      type: "object",
                      required: ["id", "duplicate"],
                      additionalProperties: false,
                      properties: { id: { type: "string" }, duplicate: { const: true } },
                    },
                    {
                      allOf: [
                        { $ref: "#/components/schemas/Submission" },
                        { type: "object", required: ["duplicate"], properties: { duplicate: { const: true } } },
                      ],
                    },
                  ],
                },
              },
            },
          },
          "400": problem(
            ["invalid_metadata", "metadata_duplicate_key", "invalid_multipart", "missing_part", "unexpected_part"],
            "The request is not a readable submission: `fields` lists each metadata problem; a key given twice in one object of the metadata JSON is named in `key` (its path, e.g. `authors[0].name`); a part is missing or not named `metadata` or `file`.",
          ),
          "403": problem(
            ["submissions_closed"],
            "No round is open: the message names the deadline that passed (`closedAt`) or the next opening (`nextOpensAt`).",
          ),
          "413": problem(
            ["payload_too_large"],
            "The file exceeds the competition's size limit (`limitBytes`): from Content-Length before the body is read, or while streaming (`report` when the metadata came first).",
          ),
          "415": problem(["unsupported_media_type"], "The body is not multipart/form-data."),
          "422": problem(
            ["invalid_task_file"],
            "The file has errors; `report` holds the full validation report. Nothing was stored.",
          ),
          "429": rateLimited,
          "500": problem(["internal_error"], "A fault on the service's side; nothing was stored."),
        },
      },
    },
    "/v1/submissions/{id}": {
      get: {
        operationId: "getSubmission",
        summary: "A submission's state and validation report",
        parameters: [idParameter],
        ...submitter({
          "200": {
            description: "The submission.",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Submission" } } },
          },
        }),
      },
    },
    "/v1/review/submissions/{id}/results": {
      post: {
        operationId: "uploadExternalResults",
        summary: "Upload per-example results of models run elsewhere (organisers)",
        description:
          "multipart/form-data: a `family` part (JSON, ModelFamily: the models and their scales), then one `results` part per model whose filename is MODEL.csv, in the prize pipeline's output format (a 0-based `index` column and the task type's columns: classification loss, correct; sequence_prob loss; logodds types logodds_difference, correct; total_logprob optional). Every example of the task must appear exactly once in each file, with finite numbers. The task's analyses are recomputed over every family with results, stored, and returned: its headline metric (`role` headline: accuracy for a task declared classification_acc, else the type's metric), then as `role` secondary the type's metric if it is not the headline, and accuracy and coverage where the files have them. A later upload for the same family replaces it; earlier analyses are kept.",
        parameters: [idParameter],
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["family", "results"],
                properties: {
                  family: { $ref: "#/components/schemas/ModelFamily" },
                  results: { type: "array", items: { type: "string", contentMediaType: "text/csv" } },
                },
              },
            },
          },
        },
        ...organiser({
          "201": {
            description:
              "Stored and analysed: `analyses` maps each metric to its Analysis, the headline metric's first; each Analysis says its `role`.",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    analyses: { type: "object", additionalProperties: { $ref: "#/components/schemas/Analysis" } },
                  },
                },
              },
            },
          },
          "400": problem(
            ["invalid_family", "invalid_multipart", "missing_part"],
            "The family definition breaks its schema or is not JSON (`fields`), the body is not readable multipart, or its parts are not `family` then `results` files.",
          ),
          "404": problem(["not_found"], "No such submission."),
          "415": problem(["unsupported_media_type"], "The body is not multipart/form-data."),
          "422": problem(
            ["invalid_results", "not_analysable"],
            "Files missing, extra or not matching the task's examples (`problems` lists each, with its file), or a numeric task.",
          ),
        }),
      },
    },
    "/v1/review/submissions/{id}/analysis": {
      get: {
        operationId: "getAnalysis",
        summary: "The newest analysis of a submission (organisers)",
        parameters: [idParameter, metricParameter],
        ...organiser({
          "200": {
            description: "The analysis.",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    createdAt: { type: "string" },
                    analysis: { $ref: "#/components/schemas/Analysis" },
                  },
                },
              },
            },
          },
          "404": problem(["not_found", "analysis_not_found"], "No such submission, or no analysis yet."),
        }),
      },
    },
    "/v1/review/submissions/{id}/plot.svg": {
      get: {
        operationId: "getAnalysisPlot",
        summary: "The newest analysis drawn as SVG (organisers)",
        parameters: [idParameter, metricParameter, axisParameter],
        ...organiser({
          "200": {
            description:
              "An accessible SVG: the metric against scale (log; RLHF steps from 0 on a linear scale), 95% intervals, verdicts.",
            content: { "image/svg+xml": {} },
          },
          "400": problem(
            ["invalid_query"],
            "An unknown metric for the task, or an unknown axis (`parameter` names it).",
          ),
          "404": problem(
            ["not_found", "analysis_not_found"],
            "No such submission, no analysis of the metric yet, or no line along the axis.",
          ),
        }),
      },
    },
    "/v1/review/submissions/{id}/slices.svg": {
      get: {
        operationId: "getSlicesPlot",
        summary: "The task beside its controls and variants, or its groups, drawn as SVG (organisers)",
        description:
          "From the newest slices analysis of the current file, on the headline metric: per family line one panel with the task's line and each control's and variant's (means with 95% intervals), each named in the panel's key with its verdict and slope, and the task-minus-other slope differences with their intervals and claims in the panel's title. Private families included.",
        parameters: [idParameter, figureParameter],
        ...organiser({
          "200": { description: "An accessible SVG.", content: { "image/svg+xml": {} } },
          "400": problem(["invalid_query"], "An unknown `figure`."),
          "404": problem(
            ["not_found", "analysis_not_found"],
            "No such submission, no slices analysis yet, or no analysed control or variant to draw.",
          ),
        }),
      },
    },
    "/v1/review/families": {
      get: {
        operationId: "listFamilies",
        summary: "Registered model families (organisers)",
        ...organiser({
          "200": {
            description: "Families by name.",
            content: json({
              type: "object",
              properties: { families: { type: "array", items: { $ref: "#/components/schemas/ModelFamily" } } },
            }),
          },
        }),
      },
    },
    "/v1/review/families/{name}": {
      put: {
        operationId: "putFamily",
        summary: "Register or update a model family (admins). Evaluations keep the definition they ran with.",
        description:
          "Organisers get 403: they list families and start evaluations on them. Every URL the family would call must pass the outbound policy (https on a public name; no IP literals, local or internal names, or user:pass@; hosts in `OUTBOUND_ALLOW_HOSTS` excepted), and its `apiKeySecret` must be declared in `PROVIDER_SECRETS` for those hosts. The same rules are applied again before every request.",
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/ModelFamily" }) },
        ...admin({
          "200": {
            description: "Stored.",
            content: json({ type: "object", properties: { family: { $ref: "#/components/schemas/ModelFamily" } } }),
          },
          "400": problem(
            ["invalid_family", "bad_request"],
            "The definition breaks the schema, gives a key twice, or names another family than the URL (`fields`): `invalid_family`; the body is not JSON: `bad_request`.",
          ),
          "413": jsonTooLarge,
          "409": problem(
            ["family_builtin"],
            "The name is a built-in family's (isv-reference), which cannot be replaced.",
          ),
          "422": problem(
            ["host_refused", "secret_not_allowed"],
            "A URL the family would call is refused by the outbound policy, or its API key secret is not declared in PROVIDER_SECRETS for that host.",
          ),
          "500": problem(
            ["configuration_invalid", "internal_error"],
            "PROVIDER_SECRETS or OUTBOUND_ALLOW_HOSTS cannot be read (`configuration_invalid`), or another fault on the service's side.",
          ),
        }),
      },
    },
    "/v1/review/families/{name}/check": {
      post: {
        operationId: "checkFamily",
        summary:
          "Preflight a registered family (admins): one tiny scoring request per model, before any evaluation spends money",
        description:
          "Per model: whether the server answered, gave log-probabilities for the prompt with usable token offsets, and started a class with a leading space on a token boundary; the latency; and the tokens (and cost, with the family's `pricing`) of a 1,000-example task. `ok` is true when every model passes. Audited as `family.check`.",
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        ...admin({
          "200": {
            description: "The check, whether or not every model passed (`ok`, `models[].problems`).",
            content: json({ type: "object" }),
          },
          "404": problem(["not_found"], "No family of that name is registered."),
          "422": problem(
            ["not_checkable"],
            "The family is run elsewhere (adapter external), its URL is refused by the outbound policy, or its API key's secret is not declared for its host or not set.",
          ),
        }),
      },
    },
    "/v1/review/submissions/{id}/evaluations": {
      post: {
        operationId: "startEvaluations",
        summary: "Evaluate (or re-evaluate) a submission on families (organisers)",
        description:
          "Each family gets a new evaluation, queued in shards (a model on 100 examples each), with an estimate of requests and tokens per model. `tokenBudget` stops it cleanly: each shard is charged its estimate before it is sent, and one the rest of the budget cannot pay for fails `token_budget_reached`. Earlier evaluations are kept. An evaluation whose reservation (its budget, else its estimate) would pass the competition's spend ceiling (`spendCeilingTokens`, `spendCeilingUsd`) is refused before queueing.",
        parameters: [idParameter],
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/EvaluationRequest" }) },
        ...organiser({
          "202": {
            description: "Queued: each evaluation's id, family, state and estimate.",
            content: json({ type: "object" }),
          },
          "400": problem(["bad_request"], "The body is not JSON or breaks its schema, or names an unknown family."),
          "413": jsonTooLarge,
          "404": problem(["not_found"], "No such submission."),
          "409": problem(
            ["spend_ceiling_reached"],
            "This family's evaluation would pass the spend ceiling: not queued, not recorded (`family`, `refused`: spend_ceiling or spend_ceiling_usd); the families before it in the request were started (`started`).",
          ),
          "422": problem(["not_analysable"], "A numeric task, or a family run elsewhere (upload its results instead)."),
        }),
      },
      get: {
        operationId: "listEvaluations",
        summary: "A submission's evaluations with progress, means, counters and errors (organisers)",
        parameters: [idParameter],
        ...organiser({
          "200": {
            description: "Evaluations.",
            content: json({
              type: "object",
              properties: { evaluations: { type: "array", items: { $ref: "#/components/schemas/EvaluationSummary" } } },
            }),
          },
          "404": problem(["not_found"], "No such submission."),
        }),
      },
    },
    "/v1/review/evaluations/{id}": {
      get: {
        operationId: "getEvaluation",
        summary:
          "One evaluation: state, progress and means per model, requests, retries, cache hits, tokens, failed shards (organisers)",
        parameters: [idParameter],
        ...organiser({
          "200": { description: "The evaluation.", content: json({ $ref: "#/components/schemas/EvaluationSummary" }) },
          "404": problem(["not_found"], "No such evaluation."),
        }),
      },
    },
    "/v1/review/evaluations/{id}/results/{file}": {
      get: {
        operationId: "getEvaluationResults",
        summary: "A model's per-example results in the prize pipeline's CSV format (organisers); {file} is MODEL.csv",
        parameters: [idParameter, { name: "file", in: "path", required: true, schema: { type: "string" } }],
        ...organiser({
          "200": {
            description: "index plus the task type's columns; flagged examples are left out.",
            content: { "text/csv": {} },
          },
          "404": problem(["not_found"], "No such evaluation or model."),
        }),
      },
    },
    "/v1/leaderboard": {
      get: {
        operationId: "getLeaderboard",
        summary: "The public leaderboard: accepted tasks, strongest inverse scaling first",
        description:
          "Served from a snapshot rebuilt on every accept or reject. ETag with If-None-Match (304), Cache-Control, CORS for any origin. Never carries emails, tokens, unaccepted tasks or private families; authors appear only if they agreed to be named.",
        parameters: [
          {
            name: "If-None-Match",
            in: "header",
            required: false,
            schema: { type: "string" },
            description: "The ETag of a leaderboard already held: 304 if it is still current.",
          },
        ],
        ...publicRoute({
          "200": { description: "The leaderboard.", content: json({ $ref: "#/components/schemas/Leaderboard" }) },
          "304": { description: "Unchanged since the ETag sent." },
        }),
      },
    },
    "/v1/leaderboard.csv": {
      get: {
        operationId: "getLeaderboardCsv",
        summary: "The leaderboard for spreadsheets (cells that would run as formulas are neutralised)",
        ...publicRoute({ "200": { description: "CSV, one task a row.", content: { "text/csv": {} } } }),
      },
    },
    "/v1/submissions/{id}/metadata": {
      put: {
        operationId: "updateMetadata",
        summary: "Replace a submission's metadata until review decides (submitter token)",
        parameters: [idParameter],
        requestBody: {
          required: true,
          content: json({ $ref: "#/components/schemas/MetadataUpdate" }),
        },
        ...submitter({
          "200": { description: "The submission with its new metadata.", content: json({ type: "object" }) },
          "400": problem(
            ["invalid_metadata", "metadata_duplicate_key", "bad_request"],
            "The metadata breaks its schema (`fields`), or tries to change the task type or the metric it is judged on (the declared name stays the upload's; `taskType` may be left out), or the body's JSON gives a key twice in one object (`key`, e.g. `metadata.title`), or the body is not JSON (`bad_request`).",
          ),
          "413": jsonTooLarge,
          "409": problem(["not_editable"], "Review has decided, it was withdrawn, or its round closed: no more edits."),
        }),
      },
    },
    "/v1/submissions/{id}/file": {
      put: {
        operationId: "replaceFile",
        summary: "Replace a submission's task file while it is editable (submitter token); the old file is kept",
        description:
          "The body is the new file in the task's own format (text/csv for CSV tasks; application/x-ndjson, application/jsonl, application/x-jsonlines or application/json for a model-written evaluation), streamed and validated exactly like an upload, against the submission's task type and format. Editable: before review decides and until the submission's round closes, or after organisers request changes. A valid file becomes the current version (`fileVersion` + 1), open evaluations of the old file end as superseded, and the new file is evaluated on the public families; a submission waiting on requested changes returns to review. A task of several files takes a zip (application/zip) of the files its metadata names, in the same roles; the report is then a files report and the new version's files are listed.",
        parameters: [idParameter],
        requestBody: {
          required: true,
          content: Object.fromEntries(
            [
              "text/csv",
              "application/x-ndjson",
              "application/jsonl",
              "application/x-jsonlines",
              "application/json",
              "application/zip",
            ].map((type) => [type, { schema: { type: "string" } }]),
          ),
        },
        ...submitter({
          "200": {
            description: "The submission with its new file (`unchanged: true` if the bytes are the current file's).",
            content: json({ type: "object" }),
          },
          "400": problem(["bad_request"], "The body is empty."),
          "409": problem(
            ["not_editable", "duplicate_file"],
            "No longer editable (decided, withdrawn, round closed), or these bytes are another submission.",
          ),
          "413": problem(
            ["payload_too_large"],
            "The file exceeds the competition's size limit (`limitBytes`), or is sent as application/json and exceeds 256 KiB.",
          ),
          "415": problem(
            ["unsupported_media_type"],
            "The body's media type is not one of the task format's (a zip for a task of several files, never for one).",
          ),
          "422": problem(
            ["invalid_task_file"],
            "The new file has errors (`report`); the submission keeps its current file.",
          ),
          "429": rateLimited,
        }),
      },
    },
    "/v1/settings": {
      get: {
        operationId: "getSettings",
        summary: "The competition's rules: rounds and deadlines, limits, public families; whether submissions are open",
        ...publicRoute({
          "200": {
            description: "The settings in force, with `submissionsOpen` and `currentRound`.",
            content: json({ $ref: "#/components/schemas/CompetitionSettings" }),
          },
        }),
      },
    },
    "/v1/review/settings": {
      get: {
        operationId: "getSettingsForReview",
        summary: "The settings in force with their version (organisers)",
        ...organiser({
          "200": {
            description:
              "`settings` (every field: those a saved document lacks come from the Worker's vars), `version` (0: the Worker's defaults) and `savedAt`.",
            content: json({ type: "object" }),
          },
        }),
      },
      put: {
        operationId: "putSettings",
        summary: "Replace the competition settings (admins); earlier versions are kept and the change is audited",
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/CompetitionSettings" }) },
        ...admin({
          "200": { description: "Saved: the settings with their version.", content: json({ type: "object" }) },
          "400": problem(
            ["invalid_settings", "bad_request"],
            "The settings break their schema or the rounds overlap, run backwards or repeat a name (`fields`), or the body is not JSON (`bad_request`).",
          ),
          "413": jsonTooLarge,
        }),
      },
    },
    "/v1/review/spend": {
      get: {
        operationId: "getSpend",
        summary: "What evaluations have spent and still reserve, against the spend ceilings (admins)",
        ...admin({
          "200": {
            description:
              "`tokens` and `usd`, each `used`, `reserved` (the budget, else the estimate, of open evaluations, beyond what they used and were charged), `ceiling` and `remaining`; dollars at each family's `pricing` (families without one count nothing). `automaticEvaluations`: today's (UTC) `started` and `refused`, and the `cap`. `families`: the same per family and price.",
            content: json({
              type: "object",
              required: ["tokens", "usd", "automaticEvaluations", "families"],
              properties: {
                tokens: { $ref: "#/components/schemas/SpendTotal" },
                usd: { $ref: "#/components/schemas/SpendTotal" },
                automaticEvaluations: {
                  type: "object",
                  properties: {
                    day: { type: "string", format: "date" },
                    started: { type: "integer" },
                    refused: { type: "integer" },
                    cap: { type: ["integer", "null"] },
                  },
                },
                families: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      family: { type: "string" },
                      usdPerMillionTokens: { type: ["number", "null"] },
                      evaluations: { type: "integer" },
                      tokensUsed: { type: "integer" },
                      tokensReserved: { type: "integer" },
                      usdUsed: { type: ["number", "null"] },
                      usdReserved: { type: ["number", "null"] },
                    },
                  },
                },
              },
            }),
          },
        }),
      },
    },
    "/v1/submissions/{id}/withdraw": {
      post: {
        operationId: "withdraw",
        summary: "Withdraw a submission (submitter token): it leaves review and the leaderboard; its record is kept",
        parameters: [idParameter],
        ...submitter({
          "200": { description: "Withdrawn.", content: json({ type: "object" }) },
          "409": problem(["invalid_transition"], "Already withdrawn."),
        }),
      },
    },
    "/v1/submissions/{id}/token": {
      post: {
        operationId: "rotateSubmitterToken",
        summary: "A new submitter token (submitter token); the one sent stops working at once",
        parameters: [idParameter],
        ...submitter({
          "200": {
            description: "`submitterToken`, shown only here. Audited as submission.rotate_token.",
            content: json({
              type: "object",
              required: ["id", "submitterToken"],
              properties: { id: { type: "string" }, submitterToken: { type: "string" } },
            }),
          },
        }),
      },
    },
    "/v1/submissions/{id}/plot.svg": {
      get: {
        operationId: "getPublicPlot",
        summary: "An accepted task's plot (public families only)",
        parameters: [idParameter, metricParameter, axisParameter],
        ...publicRoute({
          "200": { description: "SVG.", content: { "image/svg+xml": {} } },
          "400": problem(
            ["invalid_query"],
            "An unknown metric for the task, or an unknown axis (`parameter` names it).",
          ),
          "404": problem(
            ["not_found", "analysis_not_found"],
            "Not accepted, nothing public to plot, or no line along the axis.",
          ),
        }),
      },
    },
    "/v1/submissions/{id}/slices.svg": {
      get: {
        operationId: "getPublicSlicesPlot",
        summary: "An accepted task beside its controls and variants (public families only)",
        description:
          "The figure of GET /v1/review/submissions/{id}/slices.svg without the private families: per public family line, the task's, each control's and each variant's line, and the slope differences in the panel's title.",
        parameters: [idParameter, figureParameter],
        ...publicRoute({
          "200": { description: "SVG.", content: { "image/svg+xml": {} } },
          "400": problem(["invalid_query"], "An unknown `figure`."),
          "404": problem(
            ["not_found", "analysis_not_found"],
            "Not accepted, or no public control or variant to draw beside the task.",
          ),
        }),
      },
    },
    "/v1/review/submissions": {
      get: {
        operationId: "listSubmissions",
        summary: "Submissions, newest first, filtered and paginated (organisers)",
        parameters: [
          {
            name: "state",
            in: "query",
            required: false,
            schema: { enum: ["valid", "changes_requested", "accepted", "rejected", "withdrawn"] },
          },
          { name: "taskType", in: "query", required: false, schema: { type: "string" } },
          {
            name: "family",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "Has results on this family (evaluated or uploaded) for its current file.",
          },
          {
            name: "verdict",
            in: "query",
            required: false,
            schema: { enum: ["inverse", "standard", "u_shaped", "inverted_u", "flat", "inconclusive"] },
            description: "Its latest analysis of its headline metric gives this verdict (on `family` when given).",
          },
          { name: "since", in: "query", required: false, schema: { type: "string", format: "date-time" } },
          { name: "until", in: "query", required: false, schema: { type: "string", format: "date-time" } },
          { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100 } },
          {
            name: "cursor",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "nextCursor from the previous page.",
          },
        ],
        ...organiser({
          "200": {
            description: "A page of submissions and the cursor of the next.",
            content: json({ type: "object" }),
          },
          "400": problem(
            ["bad_request", "invalid_query"],
            "A cursor this API did not give out, or an unknown verdict (`bad_request`); `limit` not a whole number from 1 to 100 (`invalid_query`, naming the `parameter`).",
          ),
        }),
      },
    },
    "/v1/review/submissions/{id}": {
      get: {
        operationId: "getReviewSubmission",
        summary: "A submission's full record, anonymised unless an admin asks ?reveal=true (organisers)",
        parameters: [idParameter, { name: "reveal", in: "query", required: false, schema: { type: "boolean" } }],
        ...organiser({
          "403": problem(["forbidden"], "`reveal=true` with an organiser's token: only an admin can reveal authors."),
          "200": {
            description:
              "ETag: the version a decision's If-Match names. Metadata (without authors and contact unless revealed; its `taskType` is the name declared at upload), the last review note, `allowedDecisions`, the current `fileVersion` and `previousVersions`, report, evaluations (of every file version), `headlineMetric`, the headline metric's `analysis` and `plotUrl`, and `metrics`: every analysed metric with its `role` (the headline first, then the secondary ones), verdicts and plot.",
            content: json({
              type: "object",
              properties: {
                headlineMetric: { $ref: "#/components/schemas/HeadlineMetric" },
                analysis: { oneOf: [{ $ref: "#/components/schemas/Analysis" }, { type: "null" }] },
                slices: {
                  description:
                    "Several files or grouped examples: each slice and each task-minus-other slope difference.",
                  oneOf: [{ $ref: "#/components/schemas/SlicesAnalysis" }, { type: "null" }],
                },
                files: { type: "array", items: { $ref: "#/components/schemas/SubmissionFile" } },
                metrics: {
                  type: "array",
                  items: {
                    type: "object",
                    required: ["metric", "role", "createdAt", "verdicts", "plotUrl"],
                    properties: {
                      metric: { type: "string" },
                      role: { $ref: "#/components/schemas/MetricRole" },
                      createdAt: { type: "string" },
                      verdicts: { type: "array", items: { type: "object" } },
                      plotUrl: { type: "string" },
                    },
                  },
                },
              },
            }),
          },
          "404": problem(["not_found"], "No such submission."),
        }),
      },
    },
    "/v1/review/submissions/{id}/decision": {
      post: {
        operationId: "decide",
        summary: "Accept, reject or request changes, with a note (organisers); the leaderboard is rebuilt",
        parameters: [
          idParameter,
          {
            name: "If-Match",
            in: "header",
            required: false,
            description:
              "The ETag of GET /v1/review/submissions/{id}: the decision is refused if the submission changed.",
            schema: { type: "string" },
          },
        ],
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/DecisionRequest" }) },
        ...organiser({
          "200": { description: "The new state.", content: json({ type: "object" }) },
          "400": problem(["bad_request"], "The body is not JSON or breaks the decision's schema."),
          "413": jsonTooLarge,
          "404": problem(["not_found"], "No such submission."),
          "409": problem(
            ["invalid_transition"],
            "Not possible from the current state; `allowed` names the decisions that are. Accepting also needs results.",
          ),
          "412": problem(
            ["stale_decision"],
            "The submission changed since it was read (If-Match or expectedState); `state` and `etag` are its current ones.",
          ),
        }),
      },
    },
    "/v1/review/audit": {
      get: {
        operationId: "listAudit",
        summary: "The audit log of organiser actions, newest first (organisers); append-only",
        parameters: [
          { name: "submission", in: "query", required: false, schema: { type: "string" } },
          {
            name: "before",
            in: "query",
            required: false,
            schema: { type: "integer", minimum: 1 },
            description: "nextBefore from the previous page: entries older than this id.",
          },
          { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100 } },
          {
            name: "reveal",
            in: "query",
            required: false,
            schema: { type: "boolean" },
            description:
              "Admins only: keep authors and contact in edit details (otherwise removed, as in the anonymised review).",
          },
        ],
        ...organiser({
          "403": problem(["forbidden"], "`reveal=true` with an organiser's token: only an admin can reveal authors."),
          "200": { description: "Entries: who, when, what, before and after.", content: json({ type: "object" }) },
          "400": problem(
            ["invalid_query"],
            "`before` or `limit` not a whole number in range (digits only: 1.5, 1e2, -1 and 0x10 are refused), naming the `parameter`.",
          ),
        }),
      },
    },
    "/submit": {
      get: {
        operationId: "getSubmitPage",
        summary:
          "The submit page: the metadata as a form and a file input (server-rendered HTML, works without script)",
        security: [],
        responses: { "200": htmlPage("The form.") },
      },
      post: {
        operationId: "postSubmitPage",
        summary: "Submit from the page: the same intake, limits and report as POST /v1/submissions, as a page",
        description:
          "multipart/form-data as the page sends it (text fields, then the file). A rejected form is the page again with the fields kept and the report inline; a success shows the submitter token once. An 'add an author row' button re-sends the form without its file (url-encoded) and counts against nothing. Cross-site posts are refused.",
        security: [],
        requestBody: {
          required: true,
          content: { "multipart/form-data": { schema: { type: "object" } }, "application/x-www-form-urlencoded": {} },
        },
        responses: {
          "200": htmlPage("The form again, one author row longer."),
          "201": htmlPage("Stored: the submitter token, shown once, and a link to the status page."),
          "400": htmlPage("Metadata errors, on their fields; or a form the page never sends."),
          "403": htmlPage("A cross-site post."),
          "413": htmlPage("The file is larger than the competition allows."),
          "415": htmlPage("Not multipart."),
          "422": htmlPage("The file has errors: the report inline, each with its line and column."),
          "429": htmlPage("Too many uploads from this client: try again after Retry-After."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/submissions/{id}": {
      get: {
        operationId: "getStatusPage",
        summary:
          "A submission's status page: its state, progress, verdicts and plots once signed in; else the sign-in form",
        parameters: [idParameter],
        security: [{}, { submitterSession: [] }],
        responses: { "200": htmlPage("The status page, or the sign-in form."), "500": htmlPage("The service failed.") },
      },
    },
    "/submissions/{id}/sign-in": {
      post: {
        operationId: "signInToStatusPage",
        summary:
          "Exchange the pasted submitter token for a session cookie (HttpOnly, Secure, SameSite=Strict, this path)",
        parameters: [idParameter],
        security: [],
        requestBody: { required: true, content: { "application/x-www-form-urlencoded": {} } },
        responses: {
          "303": { description: "Signed in: the status page, by a redirect that names no token." },
          "401": htmlPage("The token does not open this submission: the sign-in form again."),
          "403": htmlPage("A cross-site post."),
          "413": htmlPage("More than a token."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/submissions/{id}/sign-out": {
      post: {
        operationId: "signOutOfStatusPage",
        summary: "Clear the session cookie",
        parameters: [idParameter],
        security: [],
        responses: {
          "303": { description: "Signed out: back to the sign-in form." },
          "403": htmlPage("A cross-site post."),
        },
      },
    },
    "/submissions/{id}/withdraw": {
      post: {
        operationId: "withdrawFromStatusPage",
        summary: "Withdraw the task (as POST /v1/submissions/{id}/withdraw), once its confirmation box is ticked",
        parameters: [idParameter],
        security: [{ submitterSession: [] }],
        requestBody: { required: true, content: { "application/x-www-form-urlencoded": {} } },
        responses: {
          "303": { description: "Withdrawn: the status page (?done=withdrawn), by post/redirect/get." },
          "400": htmlPage("The confirmation box was not ticked: the status page again, nothing withdrawn."),
          "401": htmlPage("Not signed in to this submission: the sign-in form."),
          "403": htmlPage("A cross-site post."),
          "409": htmlPage("Already withdrawn, or its state changed meanwhile."),
          "413": htmlPage("More than the form."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/submissions/{id}/edit": {
      get: {
        operationId: "getEditPage",
        summary: "The form that edits the task's details, prefilled, while the task is editable",
        parameters: [idParameter],
        security: [{ submitterSession: [] }],
        responses: {
          "200": htmlPage("The edit form."),
          "401": htmlPage("Not signed in to this submission: the sign-in form."),
          "409": htmlPage("The task can no longer be changed (decided, or its round closed)."),
          "500": htmlPage("The service failed."),
        },
      },
      post: {
        operationId: "editFromStatusPage",
        summary: "Save the task's details (as PUT /v1/submissions/{id}/metadata), or add an author row",
        parameters: [idParameter],
        security: [{ submitterSession: [] }],
        requestBody: { required: true, content: { "application/x-www-form-urlencoded": {} } },
        responses: {
          "200": htmlPage("The form again, one author row longer; nothing saved."),
          "303": { description: "Saved: the status page (?done=edited), by post/redirect/get." },
          "400": htmlPage("Metadata errors, on their fields: the form again as typed."),
          "401": htmlPage("Not signed in to this submission: the sign-in form."),
          "403": htmlPage("A cross-site post."),
          "409": htmlPage("The task can no longer be changed, or was decided while being edited."),
          "413": htmlPage("More than the form."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/submissions/{id}/file": {
      get: {
        operationId: "getReplaceFilePage",
        summary: "The page with the form that replaces the task file, while the task is editable",
        description:
          "A page of its own, linked from the status page: the status page reloads itself while an evaluation runs, which would clear a file chosen in a form there.",
        parameters: [idParameter],
        security: [{ submitterSession: [] }],
        responses: {
          "200": htmlPage("The replace form."),
          "401": htmlPage("Not signed in to this submission: the sign-in form."),
          "409": htmlPage("The task can no longer be changed (decided, or its round closed)."),
          "500": htmlPage("The service failed."),
        },
      },
      post: {
        operationId: "replaceFileFromStatusPage",
        summary: "Replace the task file (as PUT /v1/submissions/{id}/file) from the replace page's form",
        description:
          "multipart/form-data with one file part, `file`, streamed into the same service, under the same upload allowance (uploadsPerHour) and size limit. Refused before the body is read when the task can no longer be changed. A file that changes nothing comes back as a page saying why; cross-site posts are refused.",
        parameters: [idParameter],
        security: [{ submitterSession: [] }],
        requestBody: { required: true, content: { "multipart/form-data": { schema: { type: "object" } } } },
        responses: {
          "303": {
            description:
              "Replaced (?done=replaced; evaluated afresh), or the same file again (?done=unchanged): the status page, by post/redirect/get.",
          },
          "400": htmlPage("No file chosen, or a form the page never sends."),
          "401": htmlPage("Not signed in to this submission: the sign-in form."),
          "403": htmlPage("A cross-site post."),
          "409": htmlPage(
            "The task can no longer be changed (decided, or its round closed), was decided or replaced meanwhile, or the file is already another task's.",
          ),
          "413": htmlPage("The file is larger than the competition allows."),
          "415": htmlPage("Not multipart."),
          "422": htmlPage("The file has errors: the report inline, each with its line and column; nothing changed."),
          "429": htmlPage("Too many uploads from this client: try again after Retry-After."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/submissions/{id}/plot.svg": {
      get: {
        operationId: "getSubmitterPlot",
        summary: "The signed-in submitter's own plot (public families only), for the status page",
        parameters: [idParameter, metricParameter, axisParameter],
        security: [{ submitterSession: [] }],
        responses: {
          "200": { description: "SVG.", content: { "image/svg+xml": {} } },
          "400": htmlPage("An unknown metric or axis."),
          "404": htmlPage("Not signed in to this submission, or nothing to plot yet."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/review": {
      get: {
        operationId: "getReviewDesk",
        summary:
          "The review desk: the submissions, filtered and paged as the API lists them, once signed in; else the sign-in form",
        parameters: [
          {
            name: "state",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "A submission state, or empty for any.",
          },
          {
            name: "taskType",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "A task type, or empty for any.",
          },
          { name: "cursor", in: "query", required: false, schema: { type: "string" }, description: "The next page's." },
        ],
        security: [{}, { organiserSession: [] }],
        responses: {
          "200": htmlPage("The list, or the sign-in form."),
          "400": htmlPage("A cursor the desk never gave out."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/review/sign-in": {
      post: {
        operationId: "signInToReviewDesk",
        summary:
          "Exchange a pasted organiser token for a session cookie (HttpOnly, Secure, SameSite=Strict, Path=/review)",
        security: [],
        requestBody: { required: true, content: { "application/x-www-form-urlencoded": {} } },
        responses: {
          "303": { description: "Signed in: the list, by a redirect that names no token." },
          "401": htmlPage("Not a live organiser token: the sign-in form again."),
          "403": htmlPage("A cross-site post."),
          "413": htmlPage("More than a token."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/review/sign-out": {
      post: {
        operationId: "signOutOfReviewDesk",
        summary: "Clear the review desk's session cookie",
        security: [],
        responses: {
          "303": { description: "Signed out: back to the sign-in form." },
          "403": htmlPage("A cross-site post."),
        },
      },
    },
    "/review/settings": {
      get: {
        operationId: "getDeskSettingsPage",
        summary:
          "Admins' page of the desk: every family evaluations can use (built in and registered; the API's host only, never a key) and the competition settings in force, each with its schema's description",
        security: [{ organiserSession: [] }],
        responses: {
          "200": htmlPage("The families and the settings, read only."),
          "401": htmlPage("Not signed in (or the token was revoked): the sign-in form."),
          "403": htmlPage("An organiser who is not an admin."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/review/submissions/{id}": {
      get: {
        operationId: "getReviewTaskPage",
        summary:
          "A task's review page: anonymised metadata, report, verdicts and plots, per-model means, the examples that drive the verdict, the audit trail and the decision form",
        parameters: [
          idParameter,
          {
            name: "reveal",
            in: "query",
            required: false,
            schema: { type: "boolean" },
            description: "Show the authors (admins only).",
          },
        ],
        security: [{ organiserSession: [] }],
        responses: {
          "200": htmlPage("The task page."),
          "401": htmlPage("Not signed in (or the token was revoked): the sign-in form."),
          "403": htmlPage("Reveal asked by an organiser who is not an admin."),
          "404": htmlPage("No such submission."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/review/submissions/{id}/plot.svg": {
      get: {
        operationId: "getReviewPlot",
        summary: "The organisers' plot (private families too), for the task page's cookie session",
        parameters: [idParameter, metricParameter, axisParameter],
        security: [{ organiserSession: [] }],
        responses: {
          "200": { description: "SVG.", content: { "image/svg+xml": {} } },
          "401": htmlPage("Not signed in."),
          "404": htmlPage("No such submission, an unknown metric or axis, or nothing to plot yet."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/review/submissions/{id}/slices.svg": {
      get: {
        operationId: "getReviewSlicesPlot",
        summary:
          "The organisers' figure of the task beside its controls and variants, for the task page's cookie session",
        parameters: [idParameter, figureParameter],
        security: [{ organiserSession: [] }],
        responses: {
          "200": { description: "SVG.", content: { "image/svg+xml": {} } },
          "400": htmlPage("An unknown figure."),
          "401": htmlPage("Not signed in."),
          "404": htmlPage("No such submission, or no analysed control or variant to draw yet."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/review/submissions/{id}/decision": {
      post: {
        operationId: "postReviewDecisionForm",
        summary: "Decide from the task page: the same service and rules as POST /v1/review/submissions/{id}/decision",
        description:
          "decision, note and expectedState (the state the page showed) as a form; a decision made on a stale page is refused. Success redirects back to the task page (post/redirect/get). Cross-site posts are refused.",
        parameters: [idParameter],
        security: [{ organiserSession: [] }],
        requestBody: { required: true, content: { "application/x-www-form-urlencoded": {} } },
        responses: {
          "303": { description: "Decided: back to the task page." },
          "400": htmlPage("No decision chosen, or no note (or one too long)."),
          "401": htmlPage("Not signed in."),
          "403": htmlPage("A cross-site post."),
          "404": htmlPage("No such submission."),
          "409": htmlPage("Not allowed from the submission's state, or accepting without results."),
          "412": htmlPage("The submission changed since the page was read: the task page as it is now."),
          "413": htmlPage("More than a decision and its note."),
          "500": htmlPage("The service failed."),
        },
      },
    },
    "/assets/pages.css": {
      get: {
        operationId: "getPagesStylesheet",
        summary: "The pages' stylesheet (the pages' CSP allows it by this path)",
        security: [],
        responses: { "200": { description: "CSS.", content: { "text/css": {} } } },
      },
    },
    "/assets/copy-token.js": {
      get: {
        operationId: "getCopyTokenScript",
        summary: "The submit page's copy button, its only script (allowed by this path; the page works without it)",
        security: [],
        responses: { "200": { description: "JavaScript.", content: { "text/javascript": {} } } },
      },
    },
    "/docs": {
      get: {
        operationId: "getDocsPage",
        summary: "This API reference as a page, rendered from this document",
        security: [],
        responses: { "200": { description: "HTML.", content: { "text/html": {} } } },
      },
    },
    "/healthz": {
      get: {
        operationId: "getHealth",
        summary: "Liveness for load balancers and uptime checks: `ok`, touching no storage",
        security: [],
        responses: { "200": { description: "The text `ok`.", content: { "text/plain": {} } } },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "getOpenApi",
        summary: "This document",
        security: [],
        responses: { "200": { description: "The OpenAPI 3.1 document.", content: { "application/json": {} } } },
      },
    },
    "/": {
      get: {
        operationId: "getLeaderboardPage",
        summary: "The leaderboard as a page (server-rendered HTML, no script)",
        description:
          "The page's filter is plain links (no script, no form): a task is shown when one of its lines has the family and the verdict given; ranks stay the board's. An unknown verdict is named on the page and not applied.",
        parameters: [
          {
            name: "family",
            in: "query",
            required: false,
            schema: { type: "string" },
            description: "Only tasks with a line of this family.",
          },
          {
            name: "verdict",
            in: "query",
            required: false,
            schema: { enum: ["inverse", "standard", "u_shaped", "inverted_u", "flat", "inconclusive"] },
            description: "Only tasks with a line of this verdict.",
          },
        ],
        ...publicRoute({ "200": { description: "HTML.", content: { "text/html": {} } } }),
      },
    },
  },
  components: {
    securitySchemes: {
      submitterSession: {
        type: "apiKey",
        in: "cookie",
        name: "isv_submitter",
        description:
          "The submitters' pages: set by POST /submissions/{id}/sign-in from a pasted submitter token, HttpOnly, Secure, SameSite=Strict, for that submission's path.",
      },
      organiserSession: {
        type: "apiKey",
        in: "cookie",
        name: "isv_organiser",
        description:
          "The review desk: set by POST /review/sign-in from a pasted organiser or admin token, HttpOnly, Secure, SameSite=Strict, Path=/review; checked on every request as the bearer token is, so revoking the token ends the session.",
      },
      submitterToken: {
        type: "http",
        scheme: "bearer",
        description: "The token returned when the submission was created.",
      },
      organiserToken: {
        type: "http",
        scheme: "bearer",
        description:
          "An organiser or admin token (npx isv token create --role organiser). Missing or invalid: 401; a role without the right: 403.",
      },
    },
    // A hand-written component named like a schema file's would replace it silently: mergeComponents throws.
    schemas: mergeComponents(fileSchemas(), {
      EvaluationSummary: {
        type: "object",
        description:
          "State (queued, evaluating, evaluated, partially_evaluated, failed), per-model progress (done/total) and means with standard errors of the task's headline metric (`metric`; accuracy is the share correct), flagged examples (token_boundary, multi_token_class) by kind, counters and failed shards with their errors.",
        properties: {
          id: { type: "string" },
          family: { type: "string" },
          state: { enum: ["queued", "evaluating", "evaluated", "partially_evaluated", "failed"] },
          reason: { type: ["string", "null"] },
          metric: { $ref: "#/components/schemas/HeadlineMetric" },
          models: { type: "array", items: { type: "object" } },
          counters: {
            type: "object",
            properties: {
              requests: { type: "integer" },
              retries: { type: "integer" },
              cacheHits: { type: "integer" },
              tokensUsed: { type: "integer" },
            },
          },
        },
      },
      Submission: {
        type: "object",
        required: ["id", "state", "taskType", "title", "createdAt", "examples", "csvSha256", "report"],
        properties: {
          id: { type: "string" },
          state: { enum: ["valid", "changes_requested", "accepted", "rejected", "withdrawn"] },
          fileVersion: { type: "integer", minimum: 1 },
          review: {
            type: ["object", "null"],
            description: "The last review decision's time and note (for changes_requested: what to change).",
          },
          taskType: {
            type: "string",
            description: "The resolved type (classification_acc and classification_loss are classification).",
          },
          headlineMetric: { $ref: "#/components/schemas/HeadlineMetric" },
          title: { type: "string" },
          createdAt: { type: "string", format: "date-time" },
          examples: { type: "integer" },
          csvSha256: {
            type: "string",
            pattern: "^[0-9a-f]{64}$",
            description:
              "The file's SHA-256; for several files, of their manifest (names, roles and each file's hash).",
          },
          report: { $ref: "#/components/schemas/TaskReport" },
          files: {
            type: "array",
            description: "Several files: each with its role and the range of the submission's examples it holds.",
            items: { $ref: "#/components/schemas/SubmissionFile" },
          },
          slices: {
            description:
              "GET only: for several files or grouped examples, once analysed, each slice (the task, its parts, controls, variants and groups) on the headline metric, and each task-minus-other slope difference; null otherwise.",
            oneOf: [{ $ref: "#/components/schemas/SlicesAnalysis" }, { type: "null" }],
          },
          duplicate: { type: "boolean" },
          results: {
            description:
              "GET only: once analysed, the verdicts on the public families of the headline metric, then in `secondary` those of the other metrics; null before.",
            oneOf: [
              {
                allOf: [
                  { $ref: "#/components/schemas/MetricVerdicts" },
                  {
                    type: "object",
                    required: ["secondary"],
                    properties: {
                      secondary: { type: "array", items: { $ref: "#/components/schemas/MetricVerdicts" } },
                    },
                  },
                ],
              },
              { type: "null" },
            ],
          },
        },
      },
      TaskReport: {
        description: "One task file's validation report, or the files report of several (a zip, or several parts).",
        oneOf: [{ $ref: "#/components/schemas/ValidationReport" }, { $ref: "#/components/schemas/FilesReport" }],
      },
      SubmissionFile: {
        type: "object",
        required: ["name", "role", "paired", "sha256", "bytes", "firstExample", "examples"],
        properties: {
          name: { type: "string" },
          role: { enum: ["part", "control", "variant"] },
          label: { type: "string" },
          paired: { type: "boolean" },
          sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
          bytes: { type: "integer", minimum: 0 },
          firstExample: {
            type: "integer",
            minimum: 0,
            description: "Its examples start here in the submission's list.",
          },
          examples: { type: "integer", minimum: 0 },
        },
      },
      HeadlineMetric: {
        type: ["string", "null"],
        enum: ["loss", "accuracy", "logodds_difference", "absolute_logodds_difference", "matching_probability", null],
        description:
          "The metric the task is judged on (its verdict, acceptance and leaderboard rank), fixed at upload from the declared task type: accuracy for classification_acc; loss for classification, classification_loss and sequence_prob; logodds_difference; absolute_logodds_difference; matching_probability for a behaviour task (matching_win_rate is always analysed beside it). null for numeric tasks, which are not analysed. Other analysed metrics are secondary.",
      },
      MetricRole: {
        enum: ["headline", "secondary"],
        description: "headline: the metric the task is judged on; secondary: reported beside it.",
      },
      MetricVerdicts: {
        type: "object",
        required: ["metric", "role", "families"],
        properties: {
          metric: { type: "string" },
          role: { $ref: "#/components/schemas/MetricRole" },
          orientation: {
            enum: ["performance", "direction_only"],
            description: "direction_only: the verdicts say which way the metric moves, not which way is better.",
          },
          families: {
            type: "array",
            items: {
              type: "object",
              properties: {
                family: { type: "string" },
                verdict: { type: "string" },
                words: {
                  type: "string",
                  description:
                    'The verdict in words: in performance terms ("inverse scaling"), or the direction only ("rises with scale") for a behaviour task whose matching behaviour is neither desired nor undesired.',
                },
                axis: { enum: ["params", "flops", "rlhf_steps"] },
                fixed: {
                  type: "object",
                  description: "What a line of a family of sizes x RLHF steps holds fixed.",
                  properties: { parameters: { type: "number" }, rlhfSteps: { type: "number" } },
                },
                slopePerDecade: { type: "number", description: "Lines on a log axis." },
                slopePer1000Steps: { type: "number", description: "Lines along RLHF steps from 0 (a linear axis)." },
                slopeCi95: { type: "array", items: { type: "number" } },
                reason: { type: "string" },
              },
            },
          },
        },
      },
      SubmissionCreated: {
        allOf: [
          { $ref: "#/components/schemas/Submission" },
          {
            type: "object",
            required: ["submitterToken"],
            properties: {
              submitterToken: { type: "string" },
              evaluations: {
                type: "array",
                description:
                  "The automatic evaluations on the public families: queued (`id`, `state`), refused before queueing by a limit (`refused`: over_budget, client_daily_cap (the uploading client's allowance, automaticEvaluationsPerClientPerDay), daily_cap, spend_ceiling or spend_ceiling_usd; `state` failed, `error` the reason, also the evaluation's `reason`), or not started (`error`).",
                items: {
                  type: "object",
                  required: ["family"],
                  properties: {
                    family: { type: "string" },
                    id: { type: "string" },
                    state: { type: "string" },
                    refused: { enum: [...REFUSALS] },
                    error: { type: "string" },
                  },
                },
              },
            },
          },
        ],
      },
      SpendTotal: {
        type: "object",
        properties: {
          used: { type: "number" },
          reserved: { type: "number" },
          ceiling: { type: ["number", "null"] },
          remaining: { type: ["number", "null"], description: "ceiling − used − reserved, at least 0." },
        },
      },
      Problem: {
        type: "object",
        required: ["type", "title", "status", "code", "detail"],
        properties: {
          type: { type: "string" },
          title: { type: "string" },
          status: { type: "integer" },
          code: { enum: Object.keys(PROBLEMS) },
          detail: { type: "string" },
          requestId: { type: "string" },
          fields: {
            type: "array",
            items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } },
          },
          report: { $ref: "#/components/schemas/TaskReport" },
          limitBytes: { type: "integer" },
          retryAfterSeconds: { type: "integer", description: "rate_limited: the Retry-After header's seconds." },
          problems: {
            type: "array",
            items: { type: "object", properties: { file: { type: ["string", "null"] }, message: { type: "string" } } },
          },
        },
      },
    }),
  },
} as const;
