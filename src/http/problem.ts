import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The closed set of HTTP problem codes (RFC 9457 problem+json). Codes are a public contract: add, never rename.
 * Every error leaves the service through one of these; internal detail never reaches the wire.
 */
export const PROBLEMS = {
  bad_request: { status: 400, title: "The request is malformed" },
  invalid_metadata: { status: 400, title: "The submission metadata is invalid" },
  invalid_multipart: { status: 400, title: "The multipart body cannot be read" },
  missing_part: { status: 400, title: "A required form part is missing" },
  unexpected_part: { status: 400, title: "A form part that does not belong" },
  metadata_duplicate_key: { status: 400, title: "The metadata JSON gives a key more than once" },
  invalid_query: { status: 400, title: "A query parameter is invalid" },
  unauthorized: { status: 401, title: "A valid bearer token is required" },
  forbidden: { status: 403, title: "The token's role does not allow this" },
  not_found: { status: 404, title: "No such resource" },
  submission_not_found: { status: 404, title: "No such submission for this token" },
  analysis_not_found: { status: 404, title: "No analysis yet" },
  invalid_family: { status: 400, title: "The model family definition is invalid" },
  invalid_results: { status: 422, title: "The results files do not fit the task" },
  not_analysable: { status: 422, title: "This task cannot be analysed" },
  not_checkable: { status: 422, title: "This family cannot be checked" },
  family_builtin: { status: 409, title: "This family is built in and cannot be replaced" },
  host_refused: { status: 422, title: "The family's base URL may not be called" },
  secret_not_allowed: { status: 422, title: "The family's API key secret may not be sent to its host" },
  invalid_transition: { status: 409, title: "That decision is not possible from the submission's state" },
  stale_decision: { status: 412, title: "The submission changed since it was read" },
  not_editable: { status: 409, title: "The submission can no longer be changed" },
  duplicate_file: { status: 409, title: "This file is already another submission" },
  submissions_closed: { status: 403, title: "Submissions are closed" },
  rate_limited: { status: 429, title: "Too many uploads from this client" },
  spend_ceiling_reached: { status: 409, title: "The evaluation would pass the competition's spend ceiling" },
  invalid_settings: { status: 400, title: "The competition settings are invalid" },
  payload_too_large: { status: 413, title: "The upload is larger than allowed" },
  unsupported_media_type: { status: 415, title: "Unsupported content type" },
  invalid_task_file: { status: 422, title: "The task file has errors" },
  internal_error: { status: 500, title: "Internal error" },
  configuration_invalid: { status: 500, title: "The service's configuration cannot be read" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** Thrown by routes for expected failures; rendered by the app's error handler (with `headers`, e.g. Retry-After). */
export class ProblemError extends HTTPException {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(PROBLEMS[code].status, { message: detail });
  }
}

export function problemBody(code: ProblemCode, detail: string, extensions: Record<string, unknown> = {}): ProblemBody {
  const { status, title } = PROBLEMS[code];
  return { type: `/problems/${code}`, title, status, code, detail, ...extensions };
}

export function problemResponse(body: ProblemBody, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}
