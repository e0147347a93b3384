import { Hono, type ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./app-env";
import { ProblemError, problemBody, problemResponse, type ProblemBody } from "./http/problem";
import { leaderboardPagePolicy, renderLeaderboardPage } from "./leaderboard/page";
import { submissionWindow } from "./competition/settings";
import { settingsInForce } from "./storage/settings";
import { currentLeaderboard, snapshotBoard } from "./leaderboard/snapshot";
import { docsPagePolicy, renderDocsPage } from "./pages/docs-page";
import { openApiDocument } from "./openapi";
import { leaderboardRoutes } from "./routes/leaderboard";
import { reviewRoutes } from "./routes/review";
import { publicSettingsRoutes } from "./routes/settings";
import { submissionRoutes } from "./routes/submissions";
import { pageRoutes } from "./routes/pages";
import { reviewPageRoutes } from "./routes/review-pages";
import { bodyLimit } from "hono/body-limit";
import { describeError } from "./log";
import { drainRequestBody } from "./http/drain-body";
import { contentPolicy, standardHeaders } from "./http/security-headers";

/** JSON request bodies (metadata, families, decisions, settings) are small; anything larger is refused unread. */
export const MAX_JSON_BODY_BYTES = 256 * 1024;

/** Builds the HTTP app; shared by the Worker entry and the tests. */
/** PUT /v1/submissions/{id}/file: a task file, in any of its formats. */
const TASK_FILE_PATH = /^\/v1\/submissions\/[^/]+\/file$/;

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(standardHeaders, contentPolicy);
  app.use(drainRequestBody);
  const limitJson = bodyLimit({
    maxSize: MAX_JSON_BODY_BYTES,
    onError: () => {
      throw new ProblemError("payload_too_large", `A JSON body may be at most ${MAX_JSON_BODY_BYTES / 1024} KiB.`, {
        limitBytes: MAX_JSON_BODY_BYTES,
      });
    },
  });
  // A replaced task file may be JSON Lines or a JSON array (a model-written evaluation): it is a file, bounded by the
  // competition's file-size limit as it streams, not a JSON request body.
  const isTaskFile = (method: string, path: string): boolean => method === "PUT" && TASK_FILE_PATH.test(path);
  app.use("/v1/*", (c, next) =>
    (c.req.header("content-type") ?? "").toLowerCase().includes("json") && !isTaskFile(c.req.method, c.req.path)
      ? limitJson(c, next)
      : next(),
  );

  app.get("/", async (c) => {
    const [snapshot, settings] = await Promise.all([currentLeaderboard(c.env.DB), settingsInForce(c.env)]);
    // The no-script filter: links to /?family=…&verdict=… (leaderboard/page.tsx).
    const filter = { family: c.req.query("family"), verdict: c.req.query("verdict") };
    const window = submissionWindow(settings, new Date());
    return c.html(renderLeaderboardPage(snapshotBoard(snapshot), window, filter), 200, {
      "content-security-policy": leaderboardPagePolicy(new URL(c.req.url).origin),
      "cache-control": "public, max-age=60",
    });
  });
  // For load balancers and uptime checks; touches no binding, so `npm run load` also uses it as its baseline.
  app.get("/healthz", (c) => c.text("ok", 200, { "cache-control": "no-store" }));
  app.get("/openapi.json", (c) => c.json(openApiDocument));
  app.get("/docs", (c) =>
    c.html(renderDocsPage(openApiDocument), 200, {
      "content-security-policy": docsPagePolicy(new URL(c.req.url).origin),
    }),
  );
  app.route("/", pageRoutes());
  app.route("/", reviewPageRoutes());
  app.route("/v1/submissions", submissionRoutes());
  app.route("/v1/review", reviewRoutes());
  app.route("/v1", leaderboardRoutes());
  app.route("/v1", publicSettingsRoutes());

  app.notFound((c) =>
    problemResponse(
      withRequest(problemBody("not_found", `Nothing at ${c.req.method} ${c.req.path}.`), c.get("requestId")),
    ),
  );

  app.onError(handleError);

  return app;
}

/** Renders every error as problem+json; unexpected ones are logged with the request id and never described. */
export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  const id = c.get("requestId");
  if (error instanceof ProblemError) {
    return problemResponse(withRequest(problemBody(error.code, error.detail, error.extensions), id), error.headers);
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own 4xx (e.g. a malformed request it rejects) carry no internals, but get our shape.
    return problemResponse(withRequest(problemBody("bad_request", "The request could not be read."), id));
  }
  console.error(JSON.stringify({ requestId: id, error: describeError(error) }));
  return problemResponse(
    withRequest(
      problemBody(
        "internal_error",
        "Something went wrong on our side; nothing was stored. Try again, quoting the request id.",
      ),
      id,
    ),
  );
};

function withRequest(body: ProblemBody, requestIdValue: string): ProblemBody {
  return { ...body, requestId: requestIdValue };
}
