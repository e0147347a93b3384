import { Hono } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../app-env";
import { leaderboardCsv } from "../leaderboard/build";
import { currentLeaderboard, snapshotBoard } from "../leaderboard/snapshot";

/** The public leaderboard: served from the snapshot rebuilt on every decision, cacheable, readable from any site. */
export function leaderboardRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.use(cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"], exposeHeaders: ["ETag"] }));

  routes.get("/leaderboard", async (c) => {
    const snapshot = await currentLeaderboard(c.env.DB);
    const headers = { etag: snapshot.etag, "cache-control": "public, max-age=60", vary: "Accept-Encoding" };
    if (c.req.header("if-none-match") === snapshot.etag) return c.body(null, 304, headers);
    return c.body(snapshot.json, 200, { ...headers, "content-type": "application/json; charset=utf-8" });
  });

  routes.get("/leaderboard.csv", async (c) => {
    const snapshot = await currentLeaderboard(c.env.DB);
    return c.body(leaderboardCsv(snapshotBoard(snapshot)), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": 'attachment; filename="leaderboard.csv"',
      etag: snapshot.etag,
      "cache-control": "public, max-age=60",
    });
  });

  return routes;
}
