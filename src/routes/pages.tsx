import { Hono, type Context, type ErrorHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env";
import { submissionWindow, validationLimits } from "../competition/settings";
import { boundaryOf, withMultipart, type MultipartReader, type PartHeaders } from "../http/multipart";
import { PROBLEMS, ProblemError } from "../http/problem";
import { limitUploads } from "../http/upload-limit";
import { clientKey } from "../intake-limits/client-key";
import { describeError } from "../log";
import { COPY_SCRIPT, COPY_SCRIPT_PATH, STYLESHEET, STYLESHEET_PATH } from "../pages/assets";
import { ErrorPage } from "../pages/error-page";
import { pagePolicy } from "../pages/layout";
import { EditPage, SignInPage, StatusPage } from "../pages/status-page";
import {
  authorRowsOf,
  fieldErrorsOf,
  filesFrom,
  fileRowsOf,
  formValuesOf,
  metadataFromForm,
  type FormValues,
} from "../pages/submit-form";
import { DuplicatePage, SubmitPage, SubmittedPage } from "../pages/submit-page";
import { ReplaceFilePage } from "../pages/replace-file-form";
import { sessionPlot } from "../pages/session-plot";
import {
  endSession,
  sessionSubmission,
  startSession,
  statusPath,
  submissionForToken,
} from "../pages/submitter-session";
import { settingsInForce } from "../storage/settings";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";
import { editMetadata } from "../submissions/edit";
import { editability, type NotEditable } from "../submissions/editable";
import { submitterResults } from "../submissions/public-results";
import { replaceFile } from "../submissions/replace-file";
import { submitTask } from "../submissions/submit";
import { withdrawSubmission } from "../submissions/withdraw";
import type { TaskReport } from "../validate/zip/files-report";
import { reportsTooLarge } from "../validate/zip/files-report";
import { uploadedFiles } from "./upload-parts";
import { formatBytes } from "../validate/validator";

/** Room for the form's text fields and the multipart framing on top of the file-size limit. */
const FORM_ENVELOPE_BYTES = 512 * 1024;
/** The metadata's longest fields are 10,000 characters: up to 40,000 bytes of UTF-8, with CRLF line breaks. */
const MAX_FIELD_BYTES = 64 * 1024;
/** More controls than the form has (50 author rows of 3, and the rest) means the request is not the form. */
const MAX_FIELDS = 200;
/** The form sent without its file ("Add an author row"): its text fields, url-encoded. */
const MAX_URLENCODED_BYTES = 1024 * 1024;

type PageContext = Context<AppEnv>;

/**
 * The web pages for submitters: /submit (upload) and /submissions/{id} (sign in, status, plots, sign out). They
 * call the same services as the API, under the same upload limits, and render HTML: server-side, working without
 * script, every submitted text escaped by JSX. Middleware is registered per path: mounted at the root, a
 * catch-all here would apply to the API's routes too.
 */
export function pageRoutes(): Hono<AppEnv> {
  const pages = new Hono<AppEnv>();
  // Form posts from another site are refused: the browser's Origin (or Sec-Fetch-Site) must be this origin.
  for (const path of ["/submit", "/submissions/:id/*"]) pages.use(path, csrf());
  pages.get(STYLESHEET_PATH, (c) => asset(c, STYLESHEET, "text/css; charset=utf-8"));
  pages.get(COPY_SCRIPT_PATH, (c) => asset(c, COPY_SCRIPT, "text/javascript; charset=utf-8"));
  pages.get("/submit", showSubmitForm);
  pages.post("/submit", addFormRow, limitUploads, upload);
  pages.get("/submissions/:id", showStatus);
  pages.post("/submissions/:id/sign-in", smallForm, signIn);
  pages.post("/submissions/:id/sign-out", signOut);
  pages.post("/submissions/:id/withdraw", limitConfirmation, withdraw);
  pages.get("/submissions/:id/edit", showEditForm);
  pages.post("/submissions/:id/edit", limitUrlEncoded, saveEdit);
  // A new file counts against the client's upload allowance first, as PUT /v1/submissions/{id}/file does.
  pages.get("/submissions/:id/file", showReplaceForm);
  pages.post("/submissions/:id/file", limitUploads, replaceFromPage);
  pages.get("/submissions/:id/plot.svg", plot);
  pages.onError(renderErrorPage);
  return pages;
}

/** An HTML page under the pages' CSP; never cached, as most show a submitter's own data or token. */
export async function page(
  c: PageContext,
  content: JSX.Element,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  return await c.html(content, status, {
    "content-security-policy": pagePolicy(new URL(c.req.url).origin),
    "cache-control": "no-store",
  });
}

function asset(c: PageContext, text: string, type: string): Response {
  return c.body(text, 200, { "content-type": type, "cache-control": "public, max-age=3600" });
}

async function showSubmitForm(c: PageContext): Promise<Response> {
  const window = submissionWindow(await settingsInForce(c.env), new Date());
  const values: FormValues = new Map();
  return page(c, <SubmitPage values={values} authorRows={authorRowsOf(values)} errors={new Map()} window={window} />);
}

const limitUrlEncoded = bodyLimit({
  maxSize: MAX_URLENCODED_BYTES,
  onError: () => {
    throw new ProblemError("payload_too_large", "The form is larger than the page ever sends.");
  },
});

/**
 * "Add an author row" or "Add a file row": the form comes back url-encoded (the browser then sends the file's name,
 * never its bytes), with one more row and everything typed kept. Costs no upload. A multipart post goes on to the
 * upload.
 */
const addFormRow = createMiddleware<AppEnv>(async (c, next) => {
  if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded"))
    return next();
  return limitUrlEncoded(c, async () => {
    const values = await textValues(c);
    const window = submissionWindow(await settingsInForce(c.env), new Date());
    const file = (await c.req.parseBody()).action === "more_files";
    c.res = await page(
      c,
      <SubmitPage
        values={values}
        authorRows={authorRowsOf(values, file ? 0 : 1)}
        fileRows={fileRowsOf(values, file ? 1 : 0)}
        errors={new Map()}
        window={window}
        notice={`Added ${file ? "a file" : "an author"} row. Everything you typed is kept; choose the file again before submitting.`}
      />,
    );
  });
});

/** A form's text fields (a file control sends only its file name here, which is dropped). */
async function textValues(c: PageContext): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(await c.req.parseBody()))
    if (typeof value === "string" && name !== "file" && name !== "action") values.set(name, value);
  return values;
}

/**
 * The upload: the form's fields, then its file (browsers send controls in page order, and the file comes last),
 * streamed into the same intake the API uses. Problems come back as the form, refilled, with the report inline.
 */
async function upload(c: PageContext): Promise<Response> {
  const settings = await settingsInForce(c.env);
  const window = submissionWindow(settings, new Date());
  if (!window.open) throw new ProblemError("submissions_closed", window.message);
  const limits = validationLimits(settings);
  const boundary = boundaryOf(c.req.header("content-type") ?? null);
  if (!boundary) throw new ProblemError("unsupported_media_type", "Send the form as the submit page does (multipart).");
  const tooLarge = `The task file may be at most ${formatBytes(limits.maxBytes)}.`;
  if (Number(c.req.header("content-length") ?? Number.NaN) > limits.maxBytes + FORM_ENVELOPE_BYTES)
    throw new ProblemError("payload_too_large", tooLarge);
  const body = c.req.raw.body;
  if (!body) throw new ProblemError("missing_part", "The form arrived empty.");
  return withMultipart(body, boundary, async (reader) => {
    const { values, file } = await readFormFields(reader);
    const form = { values, authorRows: authorRowsOf(values), window };
    const parsed = metadataFromForm(values);
    const errors = new Map(parsed.ok ? [] : parsed.errors);
    if (!file?.filename) errors.set("file", "Choose the task file.");
    if (!parsed.ok || !file || errors.size > 0) return page(c, <SubmitPage {...form} errors={errors} />, 400);
    const client = clientKey(c.req.header("cf-connecting-ip"));
    const round = window.round?.name ?? null;
    // The same reading of the files as the API's: one file, a zip, or (named in the metadata) several.
    const files = await uploadedFiles(parsed.metadata, reader, file, reader.bodyChunks());
    const upload = files.kind === "one" ? files.chunks : files;
    const outcome = await submitTask(c.env, settings, upload, parsed.metadata, limits, round, client).catch(
      (error: unknown) => {
        // Several files chosen without rows naming them, or a zip among other files: the form again, nothing kept.
        if (error instanceof ProblemError && error.code === "unexpected_part")
          return { kind: "unexpected_part" as const, message: error.message };
        throw error;
      },
    );
    switch (outcome.kind) {
      case "unexpected_part":
        return page(c, <SubmitPage {...form} errors={new Map([["file", outcome.message]])} />, 400);
      case "invalid_metadata": {
        const rows = { rowOfFile: filesFrom(values).rowOfFile };
        return page(c, <SubmitPage {...form} errors={fieldErrorsOf(outcome.fields, rows)} />, 400);
      }
      case "invalid": {
        const status = reportsTooLarge(outcome.report) ? 413 : 422;
        return page(c, <SubmitPage {...form} errors={new Map()} report={outcome.report} />, status);
      }
      case "duplicate":
        return page(c, <DuplicatePage id={outcome.submission.id} />);
      case "created": {
        const { submission, submitterToken } = outcome;
        return page(c, <SubmittedPage id={submission.id} title={submission.title} token={submitterToken} />, 201);
      }
    }
  });
}

/** The form's text controls up to its file part, whose headers are returned with the reader left at its body. */
async function readFormFields(reader: MultipartReader): Promise<{ values: FormValues; file?: PartHeaders }> {
  const values = new Map<string, string>();
  // Parts are counted, not names: repeated names, unnamed parts and stray files each cost a part.
  let parts = 0;
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    if (part.name === "file") return { values, file: part };
    if (++parts > MAX_FIELDS) throw new ProblemError("bad_request", "The form has more fields than the page sends.");
    const text = await reader.readBodyText(MAX_FIELD_BYTES);
    if (part.name !== undefined && part.filename === undefined) values.set(part.name, text);
  }
  return { values };
}

/** What each form of the status page did, named by `?done=` on the page its post redirects to. */
const DONE_NOTICES: Readonly<Record<string, string>> = {
  withdrawn: "The task is withdrawn.",
  edited: "The task's details are saved.",
  replaced: "The new file is in place: it is evaluated afresh, and the earlier file is kept.",
  unchanged: "The file you sent is the one the task already has: nothing changed.",
};

/** The status page when the session's token opens this submission; otherwise the sign-in form. */
async function showStatus(c: PageContext): Promise<Response> {
  const id = c.req.param("id") ?? "";
  const submission = await sessionSubmission(c, id);
  if (!submission) return page(c, <SignInPage id={id} />);
  const done = c.req.query("done");
  return renderStatus(c, submission, done === undefined ? undefined : DONE_NOTICES[done]);
}

async function renderStatus(
  c: PageContext,
  submission: SubmissionRecord,
  notice?: string,
  withdrawError?: string,
): Promise<Response> {
  const results = await submitterResults(c.env.DB, submission);
  const refresh = c.req.query("refresh") !== "off";
  const editable = await isEditable(c, submission);
  return page(
    c,
    <StatusPage
      submission={submission}
      results={results}
      refresh={refresh}
      editable={editable.kind === "editable"}
      notice={notice}
      withdrawError={withdrawError}
    />,
    withdrawError ? 400 : 200,
  );
}

/** The API's rule for changing a task, as it stands now. */
async function isEditable(c: PageContext, submission: SubmissionRecord) {
  return editability(submission, await settingsInForce(c.env), new Date());
}

/**
 * The signed-in submission for a form of the status page, or the 401 sign-in page: a post without the session
 * (it expired, or was never started in this browser) changes nothing.
 */
async function signedIn(c: PageContext): Promise<{ submission: SubmissionRecord } | { response: Response }> {
  const id = c.req.param("id") ?? "";
  const submission = await sessionSubmission(c, id);
  if (submission) return { submission };
  return { response: await page(c, <SignInPage id={id} error="Sign in to change this submission." />, 401) };
}

/** The status page's path with what its form did, for post/redirect/get. */
function doneRedirect(c: PageContext, id: string, done: keyof typeof DONE_NOTICES): Response {
  return c.redirect(`${statusPath(id)}?done=${done}`, 303);
}

const limitConfirmation = bodyLimit({
  maxSize: 4 * 1024,
  onError: () => {
    throw new ProblemError("payload_too_large", "A withdrawal form is one ticked box, no more.");
  },
});

/** The withdraw form: the same service as POST /v1/submissions/{id}/withdraw, once its box is ticked. */
async function withdraw(c: PageContext): Promise<Response> {
  const session = await signedIn(c);
  if ("response" in session) return session.response;
  const { submission } = session;
  const form = await c.req.parseBody().catch(() => undefined);
  if (!form) throw new ProblemError("bad_request", "Send the withdrawal form as the page does.");
  if (form.confirm !== "yes")
    return renderStatus(c, submission, undefined, "Tick the box to confirm: nothing was withdrawn.");
  const outcome = await withdrawSubmission(c.env.DB, submission);
  switch (outcome.kind) {
    case "already_withdrawn":
      throw new ProblemError("invalid_transition", "This submission is already withdrawn.");
    case "conflict":
      throw new ProblemError(
        "invalid_transition",
        "The submission changed state while you withdrew it; go back to its page and try again.",
      );
    case "withdrawn":
      return doneRedirect(c, submission.id, "withdrawn");
  }
}

/** Why the task can no longer be changed, in words (the API's not_editable problem, as a page). */
function notEditable(outcome: NotEditable): ProblemError {
  const detail =
    outcome.reason === "round_closed"
      ? `Editing closed with ${outcome.round ?? "the round"} at ${outcome.closedAt}.`
      : `A ${outcome.state} submission can no longer be changed.`;
  return new ProblemError("not_editable", detail);
}

/** The edit form, prefilled with the stored details, while the task is editable. */
async function showEditForm(c: PageContext): Promise<Response> {
  const session = await signedIn(c);
  if ("response" in session) return session.response;
  const { submission } = session;
  const editable = await isEditable(c, submission);
  if (editable.kind === "not_editable") throw notEditable(editable);
  const values = formValuesOf(submission.metadata);
  const form = { id: submission.id, values, authorRows: authorRowsOf(values), errors: new Map() };
  return page(c, <EditPage {...form} />);
}

/** Only the edit form's own controls: the task type, format and behaviour settings stay the upload's. */
const FIXED_CONTROLS: ReadonlySet<string> = new Set(["taskType", "format", "matchingBehaviour", "promptTemplate"]);

/**
 * The edit form: the same service as PUT /v1/submissions/{id}/metadata. Problems come back as the form, as
 * typed, each on its field; "Add an author row" comes back one row longer, saving nothing.
 */
async function saveEdit(c: PageContext): Promise<Response> {
  const session = await signedIn(c);
  if ("response" in session) return session.response;
  const { submission } = session;
  const values = new Map([...(await textValues(c))].filter(([name]) => !FIXED_CONTROLS.has(name)));
  const form = { id: submission.id, values, authorRows: authorRowsOf(values) };
  if ((await c.req.parseBody()).action === "more_authors") {
    const notice = "Added an author row. Nothing is saved until you save the details.";
    return page(c, <EditPage {...form} authorRows={authorRowsOf(values, 1)} errors={new Map()} notice={notice} />);
  }
  const parsed = metadataFromForm(values);
  if (!parsed.ok) return page(c, <EditPage {...form} errors={parsed.errors} />, 400);
  const outcome = await editMetadata(c.env, submission, parsed.metadata);
  switch (outcome.kind) {
    case "not_editable":
      throw notEditable(outcome);
    case "task_type_fixed":
      throw new ProblemError("invalid_metadata", `The task type is ${outcome.declared}, fixed at upload.`);
    case "format_fixed":
      return page(
        c,
        <EditPage {...form} errors={fieldErrorsOf([{ field: outcome.field, message: outcome.message }])} />,
        400,
      );
    case "conflict":
      throw new ProblemError("not_editable", "The submission was decided while you edited it; nothing was changed.");
    case "saved":
      return doneRedirect(c, submission.id, "edited");
  }
}

/** The page that replaces the task file, for the signed-in session while the task is editable. */
async function showReplaceForm(c: PageContext): Promise<Response> {
  const session = await signedIn(c);
  if ("response" in session) return session.response;
  const { submission } = session;
  const editable = await isEditable(c, submission);
  if (editable.kind === "not_editable") throw notEditable(editable);
  return page(c, <ReplaceFilePage submission={submission} />);
}

/**
 * The replace page's form: the same service as PUT /v1/submissions/{id}/file, its file part streamed into it.
 * A file that changes nothing comes back as a page saying why (the report inline for an invalid one); a new file,
 * or the same one again, redirects to the status page (post/redirect/get).
 */
async function replaceFromPage(c: PageContext): Promise<Response> {
  const session = await signedIn(c);
  if ("response" in session) return session.response;
  const { submission } = session;
  const settings = await settingsInForce(c.env);
  // Told before the body is read: a decided task's submitter need not upload in vain.
  const editable = editability(submission, settings, new Date());
  if (editable.kind === "not_editable") throw notEditable(editable);
  const limits = validationLimits(settings);
  const boundary = boundaryOf(c.req.header("content-type") ?? null);
  if (!boundary) throw new ProblemError("unsupported_media_type", "Send the form as the status page does (multipart).");
  if (Number(c.req.header("content-length") ?? Number.NaN) > limits.maxBytes + FORM_ENVELOPE_BYTES)
    throw new ProblemError("payload_too_large", `The task file may be at most ${formatBytes(limits.maxBytes)}.`);
  const body = c.req.raw.body;
  if (!body) throw new ProblemError("missing_part", "The form arrived empty.");
  return withMultipart(body, boundary, async (reader) => {
    const { file } = await readFormFields(reader);
    const refused = (message: string, status: ContentfulStatusCode, report?: TaskReport) =>
      page(c, <ReplaceFilePage submission={submission} refusal={{ message, report, retry: true }} />, status);
    if (!file?.filename) return refused("Choose the new task file.", 400);
    const client = clientKey(c.req.header("cf-connecting-ip"));
    const outcome = await replaceFile(c.env, settings, submission, reader.bodyChunks(), limits, client);
    switch (outcome.kind) {
      case "invalid": {
        const { report } = outcome;
        const tooLarge = reportsTooLarge(report);
        const errors = `${report.errorCount} error${report.errorCount === 1 ? "" : "s"}`;
        const message = tooLarge
          ? `The new file is larger than ${formatBytes(limits.maxBytes)}: the task keeps its current file.`
          : `The new file has ${errors}: the task keeps its current file. Fix what the report lists and send it again.`;
        return refused(message, tooLarge ? 413 : 422, report);
      }
      case "duplicate":
        return refused(
          "These exact bytes were already submitted as another task: the task keeps its current file.",
          409,
        );
      case "conflict": {
        // The page names the file version: the one in place now, whoever changed it meanwhile.
        const now = (await getSubmission(c.env.DB, submission.id)) ?? submission;
        const message = "The submission was decided or replaced while you uploaded: nothing was changed.";
        return page(c, <ReplaceFilePage submission={now} refusal={{ message, retry: false }} />, 409);
      }
      case "unchanged":
        return doneRedirect(c, submission.id, "unchanged");
      case "replaced":
        return doneRedirect(c, submission.id, "replaced");
    }
  });
}

const smallForm = bodyLimit({
  maxSize: 4 * 1024,
  onError: () => {
    throw new ProblemError("payload_too_large", "A sign-in form is a token, no more.");
  },
});

/** Exchanges the pasted token for a session cookie, then shows the status page by a redirect naming no token. */
async function signIn(c: PageContext): Promise<Response> {
  const id = c.req.param("id") ?? "";
  // A body that is not a form (a malformed multipart one throws in parseBody) is a 400 page, not a 500.
  const form = await c.req.parseBody().catch(() => undefined);
  if (!form) throw new ProblemError("bad_request", "Send the sign-in form as the page does.");
  const { token } = form;
  const pasted = typeof token === "string" ? token.trim() : "";
  const submission = pasted ? await submissionForToken(c.env.DB, id, pasted) : undefined;
  if (!submission) {
    const error = "This token does not open this submission: check that you pasted all of it, for this submission.";
    return page(c, <SignInPage id={id} error={error} />, 401);
  }
  startSession(c, submission.id, pasted);
  // The answer that sets the cookie holding the token is never kept by a cache.
  c.header("cache-control", "no-store");
  return c.redirect(statusPath(submission.id), 303);
}

function signOut(c: PageContext): Response {
  const id = c.req.param("id") ?? "";
  endSession(c, id);
  c.header("cache-control", "no-store");
  return c.redirect(statusPath(id), 303);
}

/** A plot of the signed-in submitter's own task (an <img> on the status page sends the session cookie). */
async function plot(c: PageContext): Promise<Response> {
  const submission = await sessionSubmission(c, c.req.param("id") ?? "");
  if (!submission) throw new ProblemError("not_found", "Sign in on the submission's page to see its plots.");
  const query = { metric: c.req.query("metric"), axis: c.req.query("axis") };
  const drawn = await sessionPlot(c.env.DB, submission, query, "submitter");
  if (drawn.kind === "none") throw new ProblemError("analysis_not_found", drawn.message);
  return c.body(drawn.svg, 200, {
    "content-type": "image/svg+xml; charset=utf-8",
    "cache-control": "private, no-store",
  });
}

/**
 * Errors on the pages are pages too: an expected problem in words with its status (and headers, e.g.
 * Retry-After), a cross-site post refused, and anything else logged with the request id and never described.
 */
export const renderErrorPage: ErrorHandler<AppEnv> = async (error, c) => {
  const requestId = c.get("requestId");
  if (error instanceof ProblemError) {
    const response = await page(
      c,
      <ErrorPage title={PROBLEMS[error.code].title} message={error.detail} />,
      PROBLEMS[error.code].status,
    );
    for (const [name, value] of Object.entries(error.headers)) response.headers.set(name, value);
    return response;
  }
  if (error instanceof HTTPException && error.status === 403)
    return page(
      c,
      <ErrorPage
        title="Refused"
        message="This form was sent from another site, so it was not acted on. Use the form on this site's own page."
      />,
      403,
    );
  if (error instanceof HTTPException && error.status < 500)
    return page(c, <ErrorPage title="The request could not be read" message="Go back and send the form again." />, 400);
  console.error(JSON.stringify({ requestId, error: describeError(error) }));
  const message = "Something went wrong on our side; nothing was stored. Try again, quoting the request id.";
  return page(c, <ErrorPage title="Internal error" message={message} requestId={requestId} />, 500);
};
