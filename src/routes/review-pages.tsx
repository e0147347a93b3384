import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env";
import { summariseEvaluation } from "../evaluate/summary";
import { validateDecisionRequest } from "../generated/validators";
import { checkRole } from "../http/organiser-auth";
import { ProblemError } from "../http/problem";
import {
  endOrganiserSession,
  REVIEW_PATH,
  sessionOrganiser,
  startOrganiserSession,
  taskPath,
} from "../pages/organiser-session";
import { DESK_SETTINGS_PATH, DeskSettingsPage } from "../pages/desk-settings";
import { drivingExamples } from "../pages/review-examples";
import { ReviewListPage, ReviewSignInPage, ReviewTaskPage, type TaskPageProps } from "../pages/review-pages";
import { sessionPlot } from "../pages/session-plot";
import { headlineFirst, metricRole } from "../review/analyses";
import { decideSubmission } from "../review/decide";
import { allowedDecisions } from "../review/decisions";
import { usableFamilies } from "../review/usable-families";
import { latestAnalyses } from "../storage/analyses";
import { listAudit } from "../storage/audit";
import { listEvaluations } from "../storage/evaluations";
import { latestSliceAnalysis } from "../storage/slice-analyses";
import { fileView, listSubmissionFiles } from "../storage/submission-files";
import { listSubmissions } from "../storage/review-queue";
import { settingsInForce } from "../storage/settings";
import type { ApiToken } from "../storage/api-tokens";
import type { SubmissionRecord } from "../storage/submissions";
import { submissionOr404 } from "./lookups";
import { page, renderErrorPage } from "./pages";
import { organiserSlicesFigure } from "./review";
import { decodeCursor, encodeCursor, reviewMetadata, withoutIdentities } from "./review-decisions";

type DeskContext = Context<AppEnv>;

/** One page of the list, as the API's default page. */
const PAGE_SIZE = 50;
/** The task page shows the newest audit entries of the submission. */
const AUDIT_ENTRIES = 50;

/**
 * The organisers' review desk, /review: sign in with an organiser token (a session cookie), the submissions with
 * the API's filters and paging, each task's page, and the decision form. It calls the same storage and services as
 * the organiser API (src/routes/review-decisions.ts) and renders HTML as the submitters' pages do.
 */
export function reviewPageRoutes(): Hono<AppEnv> {
  const desk = new Hono<AppEnv>();
  // Form posts from another site are refused, as on the submitters' pages.
  for (const path of [REVIEW_PATH, `${REVIEW_PATH}/*`]) desk.use(path, csrf());
  desk.get(REVIEW_PATH, showList);
  desk.post(`${REVIEW_PATH}/sign-in`, smallForm, signIn);
  desk.post(`${REVIEW_PATH}/sign-out`, signOut);
  desk.get(DESK_SETTINGS_PATH, signedIn(showSettings));
  desk.get(`${REVIEW_PATH}/submissions/:id`, signedIn(showTask));
  desk.get(`${REVIEW_PATH}/submissions/:id/plot.svg`, signedIn(plot));
  desk.get(`${REVIEW_PATH}/submissions/:id/slices.svg`, signedIn(slicesFigure));
  desk.post(`${REVIEW_PATH}/submissions/:id/decision`, smallForm, signedIn(decide));
  desk.onError(renderErrorPage);
  return desk;
}

const smallForm = bodyLimit({
  maxSize: 16 * 1024,
  onError: () => {
    throw new ProblemError("payload_too_large", "The desk's forms are a token or a decision and its note, no more.");
  },
});

/** The list when signed in; otherwise the sign-in form (a revoked token's session lands here too). */
async function showList(c: DeskContext): Promise<Response> {
  const session = await sessionOrganiser(c);
  if (!session?.ok) return page(c, <ReviewSignInPage />);
  const filters = { state: c.req.query("state") ?? "", taskType: c.req.query("taskType") ?? "" };
  const items = await listSubmissions(
    c.env.DB,
    {
      ...(filters.state ? { state: filters.state } : {}),
      ...(filters.taskType ? { taskType: filters.taskType } : {}),
    },
    decodeCursor(c.req.query("cursor") || undefined),
    PAGE_SIZE,
  );
  const last = items.at(-1);
  const nextCursor = items.length === PAGE_SIZE && last ? encodeCursor(last.createdAt, last.id) : null;
  const isAdmin = session.actor.role === "admin";
  return page(c, <ReviewListPage items={items} filters={filters} nextCursor={nextCursor} isAdmin={isAdmin} />);
}

/** Exchanges the pasted token for a session cookie, then shows the list by a redirect naming no token. */
async function signIn(c: DeskContext): Promise<Response> {
  const form = await c.req.parseBody().catch(() => undefined);
  if (!form) throw new ProblemError("bad_request", "Send the sign-in form as the page does.");
  const { token } = form;
  const pasted = typeof token === "string" ? token.trim() : "";
  const checked = pasted ? await checkRole(c.env.DB, pasted, "organiser") : undefined;
  if (!checked?.ok) {
    const error = "This is not a valid organiser token (unknown or revoked): check that you pasted all of it.";
    return page(c, <ReviewSignInPage error={error} />, 401);
  }
  startOrganiserSession(c, pasted);
  c.header("cache-control", "no-store");
  return c.redirect(REVIEW_PATH, 303);
}

function signOut(c: DeskContext): Response {
  endOrganiserSession(c);
  c.header("cache-control", "no-store");
  return c.redirect(REVIEW_PATH, 303);
}

type DeskHandler = (c: DeskContext, actor: ApiToken) => Promise<Response>;

/** The desk's pages below /review need a live session: its token is checked on every request. */
const signedIn =
  (handler: DeskHandler) =>
  async (c: DeskContext): Promise<Response> => {
    const session = await sessionOrganiser(c);
    if (!session?.ok) return page(c, <ReviewSignInPage />, 401);
    return handler(c, session.actor);
  };

/** Only an admin may reveal the authors, as in the API. */
function revealAsked(c: DeskContext, actor: ApiToken): boolean {
  const reveal = c.req.query("reveal") === "true";
  if (reveal && actor.role !== "admin")
    throw new ProblemError("forbidden", "Only an admin can reveal the authors of a submission under review.");
  return reveal;
}

/** The families evaluations can use and the settings in force: an admin's view, as the API's admin routes are. */
async function showSettings(c: DeskContext, actor: ApiToken): Promise<Response> {
  if (actor.role !== "admin")
    throw new ProblemError("forbidden", "Only an admin sees the families and the competition settings.");
  const [families, settings] = await Promise.all([usableFamilies(c.env), settingsInForce(c.env)]);
  return page(c, <DeskSettingsPage families={families} settings={settings} />);
}

async function showTask(c: DeskContext, actor: ApiToken): Promise<Response> {
  const submission = await submissionOr404(c.env.DB, c.req.param("id") ?? "");
  const decided = c.req.query("decided");
  const notice = decided ? { text: `Decided: the submission is now ${submission.state}.`, bad: false } : undefined;
  return page(
    c,
    <ReviewTaskPage {...(await taskPageProps(c, actor, submission, revealAsked(c, actor)))} notice={notice} />,
  );
}

/** Everything the task page shows, read as the API's review view reads it. */
async function taskPageProps(
  c: DeskContext,
  actor: ApiToken,
  submission: SubmissionRecord,
  reveal: boolean,
): Promise<Omit<TaskPageProps, "notice">> {
  const db = c.env.DB;
  const [evaluations, analyses, drivers, audit, files, slices] = await Promise.all([
    listEvaluations(db, submission.id).then((all) =>
      Promise.all(all.map((evaluation) => summariseEvaluation(db, evaluation, submission))),
    ),
    latestAnalyses(db, submission.id),
    drivingExamples(c.env, submission),
    listAudit(db, submission.id, undefined, AUDIT_ENTRIES),
    listSubmissionFiles(db, submission.id, submission.fileVersion),
    latestSliceAnalysis(db, submission),
  ]);
  return {
    submission,
    metadata: reviewMetadata(submission, reveal),
    revealed: reveal,
    isAdmin: actor.role === "admin",
    evaluations,
    metrics: headlineFirst(submission, analyses).map(({ metric, analysis }) => ({
      metric,
      role: metricRole(submission, metric),
      analysis,
    })),
    drivers,
    files: files.map(fileView),
    // Every family: the desk is the organisers' view, as GET /v1/review/submissions/{id} is.
    slices: slices?.analysis,
    // A submitter's edit records the metadata before and after: anonymised like the record itself.
    audit: reveal ? audit : audit.map((entry) => ({ ...entry, detail: asDetail(withoutIdentities(entry.detail)) })),
    allowed: allowedDecisions(submission.state),
  };
}

/** withoutIdentities keeps an object an object; the audit entry's type says so. */
const asDetail = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};

/** A plot of the task for the desk's session (an <img> on the task page sends the cookie, not a bearer token). */
async function plot(c: DeskContext): Promise<Response> {
  const submission = await submissionOr404(c.env.DB, c.req.param("id") ?? "");
  const query = { metric: c.req.query("metric"), axis: c.req.query("axis") };
  const drawn = await sessionPlot(c.env.DB, submission, query, "organiser");
  if (drawn.kind === "none") throw new ProblemError("analysis_not_found", drawn.message);
  return c.body(drawn.svg, 200, {
    "content-type": "image/svg+xml; charset=utf-8",
    "cache-control": "private, no-store",
  });
}

/** The task beside its controls and variants for the desk's session: the organisers' figure, private families too. */
async function slicesFigure(c: DeskContext): Promise<Response> {
  const submission = await submissionOr404(c.env.DB, c.req.param("id") ?? "");
  return c.body(await organiserSlicesFigure(c.env.DB, submission, c.req.query("figure")), 200, {
    "content-type": "image/svg+xml; charset=utf-8",
    "cache-control": "private, no-store",
  });
}

/**
 * The decision form: checked by the API's schema, decided by the API's service with the state the page showed as
 * the precondition (a stale page is refused), then back to the task page by a redirect (post/redirect/get).
 */
async function decide(c: DeskContext, actor: ApiToken): Promise<Response> {
  const submission = await submissionOr404(c.env.DB, c.req.param("id") ?? "");
  const form = await c.req.parseBody().catch(() => undefined);
  if (!form) throw new ProblemError("bad_request", "Send the decision form as the page does.");
  const request = Object.fromEntries(
    ["decision", "note", "expectedState"].flatMap((name) => {
      const value = form[name];
      return typeof value === "string" ? [[name, name === "note" ? value.trim() : value]] : [];
    }),
  );
  if (!validateDecisionRequest(request))
    return refused(c, actor, submission, "Choose a decision and write a note (at most 5,000 characters).", 400);
  const { decision, note, expectedState } = request;
  const outcome = await decideSubmission(c.env.DB, submission, decision, note, actor.id, {
    ...(expectedState === undefined ? {} : { state: expectedState }),
  });
  switch (outcome.kind) {
    case "decided":
      return c.redirect(`${taskPath(submission.id)}?decided=${decision}`, 303);
    case "not_allowed":
      return refused(c, actor, submission, outcome.message, 409);
    case "needs_results":
      return refused(
        c,
        actor,
        submission,
        "Accepting needs results: evaluate the submission or upload results first.",
        409,
      );
    case "conflict":
    case "stale":
      return refused(
        c,
        actor,
        submission,
        `The submission changed since you read it (it is now ${outcome.kind === "stale" ? outcome.state : "changed"}); nothing was decided. Read it again and decide.`,
        outcome.kind === "stale" ? 412 : 409,
      );
  }
}

/** The task page as it is now, with why the decision was not made. */
async function refused(
  c: DeskContext,
  actor: ApiToken,
  submission: SubmissionRecord,
  text: string,
  status: ContentfulStatusCode,
): Promise<Response> {
  const props = await taskPageProps(c, actor, submission, false);
  return page(c, <ReviewTaskPage {...props} notice={{ text, bad: true }} />, status);
}
