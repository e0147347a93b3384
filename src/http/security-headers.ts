import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";

/**
 * Content-Security-Policy by what is served. Nothing the service serves runs script or may be framed.
 * - API answers (JSON, CSV, problems): nothing at all.
 * - SVG plots: drawn with presentation attributes only (no <style>, no script, no links), so nothing either.
 * - The web pages (the leaderboard, the API reference, submit, status, review desk): src/pages/layout.tsx's pagePolicy.
 */
const NOTHING = "default-src 'none'; frame-ancestors 'none'";
export const SVG_POLICY = NOTHING;

/** Hono's standard set: nosniff, no framing, no referrer, HSTS, a same-origin opener, and its other defaults. */
export const standardHeaders = secureHeaders({
  xFrameOptions: "DENY",
  // Set by contentPolicy from the answer: public resources are meant to be used from other origins.
  crossOriginResourcePolicy: false,
});

/**
 * Every answer, errors included, gets a CSP: a route that sets its own (the pages) keeps it, SVG gets the SVG
 * policy and everything else the API's. Answers open to any origin by CORS (the leaderboard, public plots) may be
 * embedded from other origins; everything else is same-origin.
 */
export const contentPolicy = createMiddleware(async (c, next) => {
  await next();
  const headers = c.res.headers;
  if (!headers.has("content-security-policy")) {
    const type = headers.get("content-type") ?? "";
    headers.set("content-security-policy", type.startsWith("image/svg+xml") ? SVG_POLICY : NOTHING);
  }
  const shared = headers.get("access-control-allow-origin") === "*";
  headers.set("cross-origin-resource-policy", shared ? "cross-origin" : "same-origin");
});
