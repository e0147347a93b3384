import exampleSchema from "../schemas/example.schema.json";
import metadataSchema from "../schemas/submission-metadata.schema.json";
import analysisSchema from "../schemas/analysis.schema.json";
import familySchema from "../schemas/model-family.schema.json";
import reportSchema from "../schemas/validation-report.schema.json";
import { PROBLEMS, type ProblemCode } from "./http/problem";

/** Schemas are embedded from schemas/ as they are, so the document cannot drift from what the service checks. */
const withoutMeta = ({ $schema: _schema, $id: _id, ...schema }: Record<string, unknown>): Record<string, unknown> => schema;

const idParameter = { name: "id", in: "path", required: true, schema: { type: "string" } } as const;
const metricParameter = {
  name: "metric",
  in: "query",
  required: false,
  schema: { type: "string" },
  description: "Default: the task type's metric (loss, or the log-odds difference).",
} as const;

const problem = (codes: ProblemCode[], description: string) => ({
  description: `${description} Codes: ${codes.map((code) => `\`${code}\``).join(", ")}.`,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "isv: Inverse Scaling validator",
    version: "0.1.0",
    description:
      "Submit inverse-scaling benchmark tasks in the Inverse Scaling Prize's CSV formats. Every error is application/problem+json (RFC 9457) with a stable `code`.",
  },
  servers: [{ url: "/" }],
  paths: {
    "/v1/submissions": {
      post: {
        operationId: "createSubmission",
        summary: "Submit a task file with its metadata",
        description:
          "multipart/form-data with two parts in this order: `metadata` (JSON, SubmissionMetadata) and `file` (the task CSV, UTF-8). The file is validated as it streams; every problem is reported at once, each with its line, row, column and code. A valid file is stored and a submitter token is returned once. The same bytes submitted again return the existing submission (200, without a token).",
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["metadata", "file"],
                properties: {
                  metadata: { $ref: "#/components/schemas/SubmissionMetadata" },
                  file: { type: "string", contentMediaType: "text/csv" },
                },
              },
              encoding: { metadata: { contentType: "application/json" }, file: { contentType: "text/csv" } },
            },
          },
        },
        responses: {
          "201": {
            description: "Stored. `submitterToken` is shown only here; send it as a bearer token to read the submission.",
            content: { "application/json": { schema: { $ref: "#/components/schemas/SubmissionCreated" } } },
          },
          "200": {
            description: "These exact bytes were submitted before: the existing submission, without its token.",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Submission" } } },
          },
          "400": problem(["invalid_metadata", "invalid_multipart", "missing_part"], "The request is not a readable submission; `fields` lists each metadata problem."),
          "413": problem(["payload_too_large"], "The file exceeds the competition's size limit."),
          "415": problem(["unsupported_media_type"], "The body is not multipart/form-data."),
          "422": problem(["invalid_task_file"], "The file has errors; `report` holds the full validation report. Nothing was stored."),
          "500": problem(["internal_error"], "A fault on the service's side; nothing was stored."),
        },
      },
    },
    "/v1/submissions/{id}": {
      get: {
        operationId: "getSubmission",
        summary: "A submission's state and validation report",
        security: [{ submitterToken: [] }],
        parameters: [idParameter],
        responses: {
          "200": { description: "The submission.", content: { "application/json": { schema: { $ref: "#/components/schemas/Submission" } } } },
          "401": problem(["unauthorized"], "No bearer token."),
          "404": problem(["submission_not_found"], "No submission with this id for this token."),
        },
      },
    },
    "/v1/review/submissions/{id}/results": {
      post: {
        operationId: "uploadExternalResults",
        summary: "Upload per-example results of models run elsewhere (organisers)",
        description:
          "multipart/form-data: a `family` part (JSON, ModelFamily: the models and their scales), then one `results` part per model whose filename is MODEL.csv, in the prize pipeline's output format (a 0-based `index` column and the task type's columns: classification loss, correct; sequence_prob loss; logodds types logodds_difference, correct; total_logprob optional). Every example of the task must appear exactly once in each file, with finite numbers. The task's analyses (its default metric, and accuracy and coverage where the files have them) are recomputed over every family with results, stored, and returned. A later upload for the same family replaces it; earlier analyses are kept.",
        security: [{ organiserToken: [] }],
        parameters: [idParameter],
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["family", "results"],
                properties: { family: { $ref: "#/components/schemas/ModelFamily" }, results: { type: "array", items: { type: "string", contentMediaType: "text/csv" } } },
              },
            },
          },
        },
        responses: {
          "201": {
            description: "Stored and analysed: `analyses` maps each metric to its Analysis.",
            content: { "application/json": { schema: { type: "object", properties: { analyses: { type: "object", additionalProperties: { $ref: "#/components/schemas/Analysis" } } } } } },
          },
          "400": problem(["invalid_family", "invalid_multipart", "missing_part"], "The family definition or the body's parts are wrong."),
          "401": problem(["unauthorized"], "No valid organiser token."),
          "404": problem(["not_found"], "No such submission."),
          "415": problem(["unsupported_media_type"], "The body is not multipart/form-data."),
          "422": problem(["invalid_results", "not_analysable"], "Files missing, extra or not matching the task's examples (`problems` lists each, with its file), or a numeric task."),
        },
      },
    },
    "/v1/review/submissions/{id}/analysis": {
      get: {
        operationId: "getAnalysis",
        summary: "The newest analysis of a submission (organisers)",
        security: [{ organiserToken: [] }],
        parameters: [idParameter, metricParameter],
        responses: {
          "200": { description: "The analysis.", content: { "application/json": { schema: { type: "object", properties: { id: { type: "string" }, createdAt: { type: "string" }, analysis: { $ref: "#/components/schemas/Analysis" } } } } } },
          "401": problem(["unauthorized"], "No valid organiser token."),
          "404": problem(["not_found", "analysis_not_found"], "No such submission, or no analysis yet."),
        },
      },
    },
    "/v1/review/submissions/{id}/plot.svg": {
      get: {
        operationId: "getAnalysisPlot",
        summary: "The newest analysis drawn as SVG (organisers)",
        security: [{ organiserToken: [] }],
        parameters: [idParameter, metricParameter],
        responses: {
          "200": { description: "An accessible SVG: metric against log scale, 95% intervals, verdicts.", content: { "image/svg+xml": {} } },
          "401": problem(["unauthorized"], "No valid organiser token."),
          "404": problem(["not_found", "analysis_not_found"], "No such submission, or no analysis yet."),
        },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "getOpenApi",
        summary: "This document",
        responses: { "200": { description: "The OpenAPI 3.1 document.", content: { "application/json": {} } } },
      },
    },
    "/": {
      get: {
        operationId: "getIndex",
        summary: "Service index with links",
        responses: { "200": { description: "Links to the API's entry points.", content: { "application/json": {} } } },
      },
    },
  },
  components: {
    securitySchemes: {
      submitterToken: { type: "http", scheme: "bearer", description: "The token returned when the submission was created." },
      organiserToken: { type: "http", scheme: "bearer", description: "An organiser or admin token (npx isv token create --role organiser). Missing or invalid: 401; a role without the right: 403." },
    },
    schemas: {
      SubmissionMetadata: withoutMeta(metadataSchema),
      ValidationReport: withoutMeta(reportSchema),
      Example: withoutMeta(exampleSchema),
      ModelFamily: withoutMeta(familySchema),
      Analysis: withoutMeta(analysisSchema),
      Submission: {
        type: "object",
        required: ["id", "state", "taskType", "title", "createdAt", "examples", "csvSha256", "report"],
        properties: {
          id: { type: "string" },
          state: { enum: ["valid", "queued", "evaluating", "evaluated", "partially_evaluated", "failed", "accepted", "rejected", "withdrawn"] },
          taskType: { type: "string" },
          title: { type: "string" },
          createdAt: { type: "string", format: "date-time" },
          examples: { type: "integer" },
          csvSha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
          report: { $ref: "#/components/schemas/ValidationReport" },
          duplicate: { type: "boolean" },
        },
      },
      SubmissionCreated: {
        allOf: [
          { $ref: "#/components/schemas/Submission" },
          { type: "object", required: ["submitterToken"], properties: { submitterToken: { type: "string" } } },
        ],
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
          fields: { type: "array", items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } } },
          report: { $ref: "#/components/schemas/ValidationReport" },
          limitBytes: { type: "integer" },
          problems: { type: "array", items: { type: "object", properties: { file: { type: ["string", "null"] }, message: { type: "string" } } } },
        },
      },
    },
  },
} as const;
