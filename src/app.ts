import { Hono, type ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./app-env";
import { ProblemError, problemBody, problemResponse, type ProblemBody } from "./http/problem";
import { renderLeaderboardPage } from "./leaderboard/page";
import { submissionWindow } from "./competition/settings";
import { settingsInForce } from "./storage/settings";
import { currentLeaderboard, snapshotBoard } from "./leaderboard/snapshot";
import { renderDocsPage } from "./docs-page";
import { openApiDocument } from "./openapi";
import { leaderboardRoutes } from "./routes/leaderboard";
import { reviewRoutes } from "./routes/review";
import { publicSettingsRoutes } from "./routes/settings";
import { submissionRoutes } from "./routes/submissions";
import { bodyLimit } from "hono/body-limit";
import { describeError } from "./log";

/** JSON request bodies (metadata, families, decisions, settings) are small; anything larger is refused unread. */
export const MAX_JSON_BODY_BYTES = 256 * 1024;

/** Builds the HTTP app; shared by the Worker entry and the tests. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  const limitJson = bodyLimit({
    maxSize: MAX_JSON_BODY_BYTES,
    onError: () => {
      throw new ProblemError("payload_too_large", `A JSON body may be at most ${MAX_JSON_BODY_BYTES / 1024} KiB.`, {
        limitBytes: MAX_JSON_BODY_BYTES,
      });
    },
  });
  app.use("/v1/*", (c, next) =>
    (c.req.header("content-type") ?? "").toLowerCase().includes("json") ? limitJson(c, next) : next(),
  );

  app.get("/", async (c) => {
    const [snapshot, settings] = await Promise.all([currentLeaderboard(c.env.DB), settingsInForce(c.env)]);
    return c.html(renderLeaderboardPage(snapshotBoard(snapshot), submissionWindow(settings, new Date())), 200, {
      "content-security-policy":
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
      "cache-control": "public, max-age=60",
    });
  });
  app.get("/openapi.json", (c) => c.json(openApiDocument));
  app.get("/docs", (c) =>
    c.html(renderDocsPage(openApiDocument), 200, {
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    }),
  );
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
    return problemResponse(withRequest(problemBody(error.code, error.detail, error.extensions), id));
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
