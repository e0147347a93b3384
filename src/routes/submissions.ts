import { Hono, type Context } from "hono";
import { renderPlot } from "../analysis/plot";
import { renderSlicesPlot } from "../analysis/slices-plot";
import { slicesFigureOrProblem } from "./review";
import type { AppEnv, SubmitterVariables } from "../app-env";
import { submissionWindow, validationLimits } from "../competition/settings";
import { validateMetadataUpdate } from "../generated/validators";
import { jsonBody } from "../http/json-body";
import { boundaryOf, withMultipart } from "../http/multipart";
import { ProblemError } from "../http/problem";
import { holdsSubmitterToken, requireSubmitter } from "../http/submitter-auth";
import { limitUploads } from "../http/upload-limit";
import { clientKey } from "../intake-limits/client-key";
import type { SubmissionMetadata } from "../generated/types";
import { fileView, listSubmissionFiles, type SubmissionFile } from "../storage/submission-files";
import { isFilesReport, reportLimitBytes, reportsTooLarge, type TaskReport } from "../validate/zip/files-report";
import { fileTooLarge, withUploadParts } from "./upload-parts";
import { settingsInForce } from "../storage/settings";
import { getSubmission, lastReview, type SubmissionRecord } from "../storage/submissions";
import { editMetadata } from "../submissions/edit";
import { editability, type NotEditable } from "../submissions/editable";
import { privateFamilyNames } from "../storage/families";
import { latestSliceAnalysis } from "../storage/slice-analyses";
import { publicPlotAnalysis, submitterResults, withoutFamilies } from "../submissions/public-results";
import { replaceFile } from "../submissions/replace-file";
import { rotateSubmitterToken } from "../submissions/rotate-token";
import { submitTask } from "../submissions/submit";
import { withdrawSubmission } from "../submissions/withdraw";
import type { ValidationLimits } from "../validate/report";
import { formatBytes } from "../validate/validator";

/**
 * Media types a replacement file may be sent with: the content decides its format, which must be the task's. JSON
 * Lines has several names in use (application/jsonl is the one being registered).
 */
const TASK_FILE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "text/csv",
  "application/jsonl",
  "application/x-ndjson",
  "application/x-jsonlines",
  "application/json",
]);

/** Media types of a zip: what replaces the files of a task of several files. */
const ZIP_MEDIA_TYPES: ReadonlySet<string> = new Set(["application/zip", "application/x-zip-compressed"]);

/** Room for the metadata part and multipart framing on top of the file-size limit. */
const ENVELOPE_BYTES = 256 * 1024;

type SubmitterContext = Context<AppEnv & { Variables: SubmitterVariables }>;

/** The submitter's API: upload, then (with the submitter token) status, edits, a new file, withdrawal. */
export function submissionRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  // Uploads and file replacements count against their client's allowance first (src/http/upload-limit.ts).
  routes.post("/", limitUploads, upload);
  routes.get("/:id/plot.svg", publicPlot);
  routes.get("/:id/slices.svg", publicSlicesPlot);
  routes.put(
    "/:id/metadata",
    requireSubmitter,
    jsonBody(validateMetadataUpdate, "invalid_metadata", "metadata", "metadata_duplicate_key"),
    (c) => putMetadata(c, c.req.valid("json").metadata),
  );
  routes.put("/:id/file", limitUploads, requireSubmitter, putFile);
  routes.post("/:id/withdraw", requireSubmitter, withdraw);
  routes.post("/:id/token", requireSubmitter, rotateToken);
  routes.get("/:id", requireSubmitter, status);
  return routes;
}

/**
 * A new task: the metadata and file parts in either order, the file streamed and validated, then queued on the
 * public families. A file sent first is held in staging until the metadata has been read and checked.
 */
async function upload(c: Context<AppEnv>): Promise<Response> {
  const { settings, window, limits, boundary, body } = await checkUploadRequest(c);
  return withMultipart(body, boundary, (reader) =>
    withUploadParts(c.env, reader, limits, async (metadata, files) => {
      const round = window.round?.name ?? null;
      const client = clientKey(c.req.header("cf-connecting-ip"));
      const upload = files.kind === "one" ? files.chunks : files;
      const outcome = await submitTask(c.env, settings, upload, metadata, limits, round, client);
      if (outcome.kind === "invalid_metadata") throw formatChoiceProblem(outcome.fields);
      if (outcome.kind === "invalid")
        throw invalidFileProblem(outcome.report, limits, "nothing was stored. Fix them and submit again.");
      const { submission } = outcome;
      const location = { location: `/v1/submissions/${submission.id}` };
      if (outcome.kind === "created") {
        const files = await listSubmissionFiles(c.env.DB, submission.id, submission.fileVersion);
        const created = { ...publicView(submission, files), submitterToken: outcome.submitterToken };
        return c.json({ ...created, evaluations: outcome.evaluations }, 201, location);
      }
      // Only the submission's own submitter sees its record; anyone else with the same bytes learns its id alone.
      const owner = await holdsSubmitterToken(c.req.header("authorization"), submission);
      const stored = owner ? await listSubmissionFiles(c.env.DB, submission.id, submission.fileVersion) : [];
      const view = owner ? publicView(submission, stored) : { id: submission.id };
      return c.json({ ...view, duplicate: true }, 200, location);
    }),
  );
}

/**
 * An accepted task's plot, public: only its public families are drawn. `?metric=` picks the metric (default the
 * headline), `?axis=` the axis (params, rlhf_steps or flops; default the first line's): one metric along one axis
 * per chart.
 */
async function publicPlot(c: Context<AppEnv, "/:id/plot.svg">): Promise<Response> {
  const query = { metric: c.req.query("metric"), axis: c.req.query("axis") };
  const outcome = await publicPlotAnalysis(c.env.DB, c.req.param("id"), query);
  switch (outcome.kind) {
    case "not_accepted":
      throw new ProblemError("not_found", "Plots are public once a task is accepted.");
    case "invalid_query":
      throw new ProblemError("invalid_query", outcome.message, { parameter: outcome.parameter });
    case "no_public_results":
      throw new ProblemError(
        "analysis_not_found",
        `This task has no public results${outcome.metric === null ? "" : ` on ${outcome.metric}`} to plot.`,
      );
    case "no_lines_along":
      throw new ProblemError("analysis_not_found", outcome.message);
    case "plot":
      return c.body(renderPlot(outcome.analysis, outcome.title, outcome.axis), 200, {
        "content-type": "image/svg+xml; charset=utf-8",
        "cache-control": "public, max-age=300",
        "access-control-allow-origin": "*",
      });
  }
}

/**
 * An accepted task beside its controls and variants, public: the figure of its slices without the private
 * families, as its public plot leaves them out.
 */
async function publicSlicesPlot(c: Context<AppEnv, "/:id/slices.svg">): Promise<Response> {
  const figure = slicesFigureOrProblem(c.req.query("figure"));
  const submission = await getSubmission(c.env.DB, c.req.param("id"));
  if (submission?.state !== "accepted")
    throw new ProblemError("not_found", "Plots are public once a task is accepted.");
  const stored = await latestSliceAnalysis(c.env.DB, submission);
  const slices = stored && withoutFamilies(stored.analysis, await privateFamilyNames(c.env.DB, submission.id));
  const svg = slices && renderSlicesPlot(slices, submission.title, figure);
  if (!svg)
    throw new ProblemError(
      "analysis_not_found",
      `This task has no public ${figure === "groups" ? "group" : "control or variant"} to draw beside it.`,
    );
  return c.body(svg, 200, {
    "content-type": "image/svg+xml; charset=utf-8",
    "cache-control": "public, max-age=300",
    "access-control-allow-origin": "*",
  });
}

/** Changes the metadata while the task is editable; the task type and headline metric stay the upload's. */
async function putMetadata(c: SubmitterContext, metadata: SubmissionMetadata): Promise<Response> {
  const submission = c.get("submission");
  const outcome = await editMetadata(c.env, submission, metadata);
  switch (outcome.kind) {
    case "not_editable":
      throw notEditableProblem(outcome);
    case "task_type_fixed": {
      const scoredBy = submission.headlineMetric === null ? "" : `, judged on ${submission.headlineMetric}`;
      throw new ProblemError(
        "invalid_metadata",
        `The task type is ${outcome.declared}${scoredBy}, fixed at upload; submit a new task to change it.`,
        { fields: [{ field: "taskType", message: "cannot change" }] },
      );
    }
    case "format_fixed":
      throw new ProblemError("invalid_metadata", outcome.message, {
        fields: [{ field: outcome.field, message: "cannot change" }],
      });
    case "conflict":
      throw new ProblemError("not_editable", "The submission was decided while you edited it; nothing was changed.", {
        state: submission.state,
      });
    case "saved":
      return c.json({ ...publicView(outcome.submission), metadata: outcome.metadata });
  }
}

/**
 * Replaces the task file while the task is editable: the body is the new file (a CSV, or a model-written
 * evaluation for a behaviour task), streamed and validated like an upload against the same task type and format.
 * The old file is kept; the new one is evaluated afresh.
 */
async function putFile(c: SubmitterContext): Promise<Response> {
  const submission = c.get("submission");
  const settings = await settingsInForce(c.env);
  // Told before the body is read: a decided task's submitter need not upload in vain.
  const editable = editability(submission, settings, new Date());
  if (editable.kind === "not_editable") throw notEditableProblem(editable);
  const [mediaType = ""] = (c.req.header("content-type") ?? "").split(";");
  const type = mediaType.trim().toLowerCase();
  // A task of several files takes a new zip of them (their roles stay the metadata's); a task of one file, one file.
  if (submission.metadata.files !== undefined && !ZIP_MEDIA_TYPES.has(type))
    throw new ProblemError(
      "unsupported_media_type",
      "This task is several files: send a zip of them as the body (content-type application/zip), named as the metadata's files name them.",
    );
  if (submission.metadata.files === undefined && !TASK_FILE_MEDIA_TYPES.has(type))
    throw new ProblemError(
      "unsupported_media_type",
      "Send the new task file as the body, with content-type text/csv (a CSV) or application/jsonl (a model-written evaluation).",
    );
  const limits = validationLimits(settings);
  if (Number(c.req.header("content-length") ?? NaN) > limits.maxBytes) throw fileTooLarge(limits);
  const body = c.req.raw.body;
  if (!body) throw new ProblemError("bad_request", "The body is empty: send the new task file.");
  // A ReadableStream is async-iterable; leaving the loop early (an invalid file stops validation) cancels it.
  const client = clientKey(c.req.header("cf-connecting-ip"));
  const outcome = await replaceFile(c.env, settings, submission, body, limits, client);
  switch (outcome.kind) {
    case "invalid":
      throw invalidFileProblem(outcome.report, limits, "the submission keeps its current file.");
    case "duplicate":
      throw new ProblemError(
        "duplicate_file",
        "These exact bytes were already submitted as another task; the submission keeps its current file.",
      );
    case "conflict":
      throw new ProblemError(
        "not_editable",
        "The submission was decided or replaced while you uploaded; nothing was changed.",
      );
    case "unchanged":
    case "replaced": {
      const { id, fileVersion } = outcome.submission;
      const view = publicView(outcome.submission, await listSubmissionFiles(c.env.DB, id, fileVersion));
      if (outcome.kind === "unchanged") return c.json({ ...view, unchanged: true });
      return c.json({ ...view, evaluations: outcome.evaluations });
    }
  }
}

/** The submitter takes the task back: it leaves review and the leaderboard, and its record is kept. */
async function withdraw(c: SubmitterContext): Promise<Response> {
  const submission = c.get("submission");
  const outcome = await withdrawSubmission(c.env.DB, submission);
  switch (outcome.kind) {
    case "already_withdrawn":
      throw new ProblemError("invalid_transition", "This submission is already withdrawn.", {
        state: submission.state,
        allowed: [],
      });
    case "conflict":
      throw new ProblemError(
        "invalid_transition",
        "The submission changed state while you withdrew it; reload and try again.",
        { state: submission.state, allowed: [] },
      );
    case "withdrawn":
      return c.json({ id: submission.id, state: "withdrawn" });
  }
}

async function rotateToken(c: SubmitterContext): Promise<Response> {
  const outcome = await rotateSubmitterToken(c.env.DB, c.get("submission"));
  if (outcome.kind === "conflict")
    throw new ProblemError("submission_not_found", "No submission with this id belongs to this token.");
  return c.json({ id: c.get("submission").id, submitterToken: outcome.submitterToken }, 200, {
    "cache-control": "no-store",
  });
}

/** The submitter's view: the record, evaluations on public families, and verdicts once analysed. */
async function status(c: SubmitterContext): Promise<Response> {
  const submission = c.get("submission");
  const files = await listSubmissionFiles(c.env.DB, submission.id, submission.fileVersion);
  return c.json({ ...publicView(submission, files), ...(await submitterResults(c.env.DB, submission)) });
}

/**
 * The problem for metadata whose format, task type and behaviour settings contradict each other (or whose prompt
 * template is not one): like any other metadata problem, refused before the file is read.
 */
function formatChoiceProblem(fields: { field: string; message: string }[]): ProblemError {
  const listed = fields.map((field) => `${field.field} ${field.message}`).join("; ");
  return new ProblemError(
    "invalid_metadata",
    `The metadata has ${fields.length} problem${fields.length === 1 ? "" : "s"}: ${listed}.`,
    { fields },
  );
}

/**
 * The problem for a file (or files) the validator rejected: 413 past the size limit, else 422 with the whole report
 * (for several files, the files report, every issue under its file's name).
 */
function invalidFileProblem(report: TaskReport, limits: ValidationLimits, consequence: string): ProblemError {
  const what = isFilesReport(report) ? "The task files have" : "The task file has";
  if (reportsTooLarge(report)) {
    const limitBytes = reportLimitBytes(report, limits);
    const larger = isFilesReport(report) ? "are larger together than" : "is larger than";
    return new ProblemError(
      "payload_too_large",
      `${isFilesReport(report) ? "The task files" : "The task file"} ${larger} ${formatBytes(limitBytes)}.`,
      { report, limitBytes },
    );
  }
  return new ProblemError(
    "invalid_task_file",
    `${what} ${report.errorCount} error${report.errorCount === 1 ? "" : "s"}; ${consequence}`,
    { report },
  );
}

function notEditableProblem(outcome: NotEditable): ProblemError {
  if (outcome.reason === "round_closed")
    return new ProblemError("not_editable", `Editing closed with ${outcome.round} at ${outcome.closedAt}.`, {
      state: outcome.state,
      closedAt: outcome.closedAt,
    });
  return new ProblemError("not_editable", `A ${outcome.state} submission can no longer be changed.`, {
    state: outcome.state,
  });
}

/** What is checked before an upload's body is read: the window is open, the body is multipart and not too large. */
async function checkUploadRequest(c: Context<AppEnv>) {
  const settings = await settingsInForce(c.env);
  const window = submissionWindow(settings, new Date());
  if (!window.open)
    throw new ProblemError("submissions_closed", window.message, {
      closedAt: window.lastClosedAt,
      nextOpensAt: window.nextOpensAt,
    });
  const limits = validationLimits(settings);
  const boundary = boundaryOf(c.req.header("content-type") ?? null);
  if (!boundary) {
    throw new ProblemError(
      "unsupported_media_type",
      'Send multipart/form-data with a "metadata" part (JSON) and a "file" part (the task CSV, or a model-written evaluation in JSON Lines), in either order.',
    );
  }
  const declaredLength = Number(c.req.header("content-length") ?? NaN);
  if (declaredLength > limits.maxBytes + ENVELOPE_BYTES) throw fileTooLarge(limits);
  const body = c.req.raw.body;
  if (!body) throw new ProblemError("missing_part", 'The body is empty; send a "metadata" part and a "file" part.');
  return { settings, window, limits, boundary, body };
}

/**
 * What the submitter may see: never the token hash or storage keys. A submission of several files lists them, each
 * with its role and the range of the submission's examples it holds.
 */
function publicView(submission: SubmissionRecord, files: readonly SubmissionFile[] = []) {
  return {
    id: submission.id,
    state: submission.state,
    fileVersion: submission.fileVersion,
    review: lastReview(submission),
    taskType: submission.taskType,
    headlineMetric: submission.headlineMetric,
    title: submission.title,
    createdAt: submission.createdAt,
    examples: submission.exampleCount,
    csvSha256: submission.csvSha256,
    report: submission.report,
    ...(files.length > 0 && { files: files.map(fileView) }),
  };
}
