import { base64Url } from "../util/hash";
import { Hono } from "hono";
import type { AppEnv, OrganiserVariables } from "../app-env";
import { isVerdict, VERDICTS } from "../analysis/statistics";
import { summariseEvaluation } from "../evaluate/summary";
import { validateDecisionRequest } from "../generated/validators";
import { jsonBody } from "../http/json-body";
import { ProblemError } from "../http/problem";
import { integerQuery } from "../http/query";
import { headlineFirst, metricRole } from "../review/analyses";
import { decideSubmission } from "../review/decide";
import { allowedDecisions, reviewVersion } from "../review/decisions";
import { latestAnalyses } from "../storage/analyses";
import { latestSliceAnalysis } from "../storage/slice-analyses";
import { fileView, listSubmissionFiles } from "../storage/submission-files";
import { listEvaluations } from "../storage/evaluations";
import { listAudit } from "../storage/audit";
import { listSubmissions } from "../storage/review-queue";
import { lastReview, previousVersions, type SubmissionRecord } from "../storage/submissions";
import { submissionOr404 } from "./lookups";

type ReviewEnv = AppEnv & { Variables: OrganiserVariables };

const MAX_PAGE = 100;

/** The metadata fields that name the submitters; reviewers do not see them unless an admin reveals them. */
const IDENTIFYING_FIELDS = new Set(["authors", "contactEmail"]);

/** Reviewers see submissions anonymised (as the prize's review was) unless an admin asks to reveal the authors. */
export function reviewMetadata(submission: SubmissionRecord, reveal: boolean): Record<string, unknown> {
  return reveal ? { ...submission.metadata } : (withoutIdentities(submission.metadata) as Record<string, unknown>);
}

/** A copy with identifying fields removed at any depth (audit details hold metadata before and after an edit). */
export function withoutIdentities(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIdentities);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !IDENTIFYING_FIELDS.has(key))
      .map(([key, inner]) => [key, withoutIdentities(inner)]),
  );
}

export function decodeCursor(text: string | undefined): { createdAt: string; id: string } | undefined {
  if (!text) return undefined;
  try {
    const decoded: unknown = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/")));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [createdAt, id]: unknown[] = decoded;
      if (typeof createdAt === "string" && typeof id === "string") return { createdAt, id };
    }
  } catch {
    // fall through
  }
  throw new ProblemError("bad_request", "The cursor is not one this API gave out.");
}

export const encodeCursor = (createdAt: string, id: string): string =>
  base64Url(new TextEncoder().encode(JSON.stringify([createdAt, id])));

export function decisionRoutes(): Hono<ReviewEnv> {
  const routes = new Hono<ReviewEnv>();

  routes.get("/submissions", async (c) => {
    const limit = integerQuery(c, "limit", { min: 1, max: MAX_PAGE, fallback: 50 });
    const filters = {
      state: c.req.query("state"),
      taskType: c.req.query("taskType"),
      since: c.req.query("since"),
      until: c.req.query("until"),
      family: c.req.query("family"),
      verdict: c.req.query("verdict"),
    };
    if (filters.verdict && !isVerdict(filters.verdict))
      throw new ProblemError("bad_request", `verdict must be one of ${VERDICTS.join(", ")}.`);
    const items = await listSubmissions(
      c.env.DB,
      Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) as typeof filters,
      decodeCursor(c.req.query("cursor")),
      limit,
    );
    const last = items.at(-1);
    return c.json({
      submissions: items,
      nextCursor: items.length === limit && last ? encodeCursor(last.createdAt, last.id) : null,
    });
  });

  routes.get("/submissions/:id", async (c) => {
    const submission = await submissionOr404(c.env.DB, c.req.param("id"));
    const reveal = c.req.query("reveal") === "true";
    if (reveal && c.get("actor").role !== "admin")
      throw new ProblemError("forbidden", "Only an admin can reveal the authors of a submission under review.");
    const evaluations = await Promise.all(
      (await listEvaluations(c.env.DB, submission.id)).map((evaluation) =>
        summariseEvaluation(c.env.DB, evaluation, submission),
      ),
    );
    const analyses = headlineFirst(submission, await latestAnalyses(c.env.DB, submission.id));
    const analysis = analyses.find((entry) => metricRole(submission, entry.metric) === "headline");
    c.header("etag", reviewVersion(submission));
    return c.json({
      id: submission.id,
      state: submission.state,
      title: submission.title,
      taskType: submission.taskType,
      headlineMetric: submission.headlineMetric,
      examples: submission.exampleCount,
      createdAt: submission.createdAt,
      metadata: reviewMetadata(submission, reveal),
      review: lastReview(submission),
      fileVersion: submission.fileVersion,
      previousVersions: await previousVersions(c.env.DB, submission.id),
      allowedDecisions: allowedDecisions(submission.state),
      report: submission.report,
      evaluations,
      analysis: analysis?.analysis ?? null,
      // A submission of several files, or of grouped examples: each slice and each task-minus-other slope difference.
      slices: (await latestSliceAnalysis(c.env.DB, submission))?.analysis ?? null,
      files: (await listSubmissionFiles(c.env.DB, submission.id, submission.fileVersion)).map(fileView),
      plotUrl: analysis ? `/v1/review/submissions/${submission.id}/plot.svg` : null,
      // Every analysed metric, the headline first (the one the task is judged on), then the secondary ones
      // (accuracy, coverage; loss for a classification_acc task), each with its verdicts and plot.
      metrics: analyses.map(({ metric, createdAt, analysis: { families } }) => ({
        metric,
        role: metricRole(submission, metric),
        createdAt,
        verdicts: families.map((family) => ({ family: family.family, verdict: family.verdict })),
        plotUrl: `/v1/review/submissions/${submission.id}/plot.svg?metric=${encodeURIComponent(metric)}`,
      })),
    });
  });

  routes.post("/submissions/:id/decision", jsonBody(validateDecisionRequest, "bad_request", "decision"), async (c) => {
    const submission = await submissionOr404(c.env.DB, c.req.param("id"));
    const { decision, note, expectedState } = c.req.valid("json");
    const version = c.req.header("if-match");
    const outcome = await decideSubmission(c.env.DB, submission, decision, note, c.get("actor").id, {
      ...(version === undefined ? {} : { version }),
      ...(expectedState === undefined ? {} : { state: expectedState }),
    });
    switch (outcome.kind) {
      case "not_allowed":
        throw new ProblemError("invalid_transition", outcome.message, {
          state: submission.state,
          allowed: outcome.allowed,
        });
      case "needs_results":
        throw new ProblemError(
          "invalid_transition",
          "Accepting needs results: evaluate the submission or upload results first.",
          { state: submission.state, allowed: outcome.allowed },
        );
      case "conflict":
        throw new ProblemError(
          "invalid_transition",
          "The submission changed while you decided (another decision, an edit or a new file); reload and decide again.",
          { state: submission.state, allowed: [] },
        );
      case "stale":
        throw new ProblemError(
          "stale_decision",
          "The submission changed since you read it (another decision, an edit or a new file); reload and decide again.",
          { state: outcome.state, etag: outcome.version },
        );
      case "decided":
        return c.json({
          id: submission.id,
          state: outcome.state,
          reviewedAt: outcome.reviewedAt,
          note: outcome.note,
        });
    }
  });

  routes.get("/audit", async (c) => {
    const limit = integerQuery(c, "limit", { min: 1, max: MAX_PAGE, fallback: 50 });
    const before = integerQuery(c, "before", { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: undefined });
    const reveal = c.req.query("reveal") === "true";
    if (reveal && c.get("actor").role !== "admin")
      throw new ProblemError("forbidden", "Only an admin can reveal the authors in the audit log.");
    const entries = await listAudit(c.env.DB, c.req.query("submission"), before, limit);
    // A submitter's edit records the metadata before and after: reviewers read it anonymised, like the record.
    const shown = reveal ? entries : entries.map((entry) => ({ ...entry, detail: withoutIdentities(entry.detail) }));
    return c.json({ entries: shown, nextBefore: entries.length === limit ? (entries.at(-1)?.id ?? null) : null });
  });

  return routes;
}
