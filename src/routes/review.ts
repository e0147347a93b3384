import { Hono } from "hono";
import type { AppEnv, OrganiserVariables } from "../app-env";
import type { FamilyDefinition } from "../analysis/family";
import { renderPlot } from "../analysis/plot";
import { renderSlicesPlot, SLICES_FIGURES, slicesFigureOf, type SlicesFigure } from "../analysis/slices-plot";
import { validateModelFamily } from "../generated/validators";
import { readJsonPart } from "../http/json-part";
import { boundaryOf, withMultipart, type MultipartReader } from "../http/multipart";
import { requireRole } from "../http/organiser-auth";
import { settingsAdminRoutes } from "./settings";
import { ProblemError } from "../http/problem";
import { receiveExternalResults, type UploadedFile } from "../review/external-results";
import { evaluationRoutes } from "./evaluations";
import { decisionRoutes } from "./review-decisions";
import { submissionOr404 } from "./lookups";
import { latestAnalysis } from "../storage/analyses";
import { latestSliceAnalysis } from "../storage/slice-analyses";
import type { SubmissionRecord } from "../storage/submissions";
import { choosePlot, plotAxis } from "../submissions/public-results";

const MAX_FAMILY_BYTES = 64 * 1024;
const MAX_RESULTS_FILE_BYTES = 32 * 1024 * 1024;

type ReviewEnv = AppEnv & { Variables: OrganiserVariables };

/** The organiser API: authenticated with organiser (or admin) tokens. */
export function reviewRoutes(): Hono<ReviewEnv> {
  const routes = new Hono<ReviewEnv>();
  routes.use(requireRole("organiser"));
  routes.route("/", evaluationRoutes());
  routes.route("/", decisionRoutes());
  routes.route("/", settingsAdminRoutes());

  routes.post("/submissions/:id/results", async (c) => {
    const submission = await submissionOr404(c.env.DB, c.req.param("id"));
    if (submission.taskType === "numeric") {
      throw new ProblemError(
        "not_analysable",
        "numeric tasks are out of scope for analysis: their metric needs sampled generations.",
      );
    }
    const boundary = boundaryOf(c.req.header("content-type") ?? null);
    const body = c.req.raw.body;
    if (!boundary || !body) {
      throw new ProblemError(
        "unsupported_media_type",
        'Send multipart/form-data: a "family" part (JSON), then one "results" part per model, named MODEL.csv.',
      );
    }
    return withMultipart(body, boundary, async (reader) => {
      const family = await readFamily(reader);
      const files: UploadedFile[] = [];
      for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
        if (part.name !== "results" || !part.filename) {
          throw new ProblemError(
            "missing_part",
            `Unexpected part "${part.name ?? ""}": after "family", send only "results" parts, each with a filename MODEL.csv.`,
          );
        }
        files.push({ filename: part.filename, text: await reader.readBodyText(MAX_RESULTS_FILE_BYTES) });
      }
      const outcome = await receiveExternalResults(c.env, submission, family, files, c.get("actor"));
      if (!outcome.ok) {
        throw new ProblemError(
          "invalid_results",
          `The results have ${outcome.problems.length} problem${outcome.problems.length === 1 ? "" : "s"}; nothing was stored.`,
          {
            problems: outcome.problems,
          },
        );
      }
      return c.json(
        { submissionId: submission.id, family: outcome.family, models: outcome.models, analyses: outcome.analyses },
        201,
      );
    });
  });

  routes.get("/submissions/:id/analysis", async (c) => {
    const submission = await submissionOr404(c.env.DB, c.req.param("id"));
    const stored = await analysisOr404(c.env.DB, submission, c.req.query("metric"));
    return c.json({ id: stored.id, createdAt: stored.createdAt, analysis: stored.analysis });
  });

  // One metric (default the headline) along one axis (default the first line's) per chart, private families too.
  routes.get("/submissions/:id/plot.svg", async (c) => {
    const submission = await submissionOr404(c.env.DB, c.req.param("id"));
    const choice = choosePlot(submission, { metric: c.req.query("metric"), axis: c.req.query("axis") });
    if (!choice.ok) throw new ProblemError("invalid_query", choice.message, { parameter: choice.parameter });
    const stored = await analysisOr404(c.env.DB, submission, choice.metric ?? undefined);
    const along = plotAxis(stored.analysis, choice.axis);
    if (!along.ok) throw new ProblemError("analysis_not_found", along.message);
    return c.body(renderPlot(stored.analysis, submission.title, along.axis), 200, {
      "content-type": "image/svg+xml; charset=utf-8",
      "cache-control": "private, max-age=60",
    });
  });

  // The task beside its controls and variants, private families too.
  routes.get("/submissions/:id/slices.svg", async (c) => {
    const submission = await submissionOr404(c.env.DB, c.req.param("id"));
    return c.body(await organiserSlicesFigure(c.env.DB, submission, c.req.query("figure")), 200, {
      "content-type": "image/svg+xml; charset=utf-8",
      "cache-control": "private, max-age=60",
    });
  });

  return routes;
}

/**
 * A figure of the task's slices (`?figure=`: contrasts, the default, or groups), with every family (organisers'),
 * from the newest slices analysis of the current file; analysis_not_found when there is none or nothing to draw.
 */
export async function organiserSlicesFigure(
  db: D1Database,
  submission: SubmissionRecord,
  query: string | undefined,
): Promise<string> {
  const figure = slicesFigureOrProblem(query);
  const stored = await latestSliceAnalysis(db, submission);
  const svg = stored && renderSlicesPlot(stored.analysis, submission.title, figure);
  if (!svg)
    throw new ProblemError(
      "analysis_not_found",
      stored
        ? `This task has no analysed ${figure === "groups" ? "group" : "control or variant"} to draw beside it.`
        : "No slices analysis: the task has no controls, variants or groups, or is not analysed yet.",
    );
  return svg;
}

/** The figure a `?figure=` query names, or invalid_query. */
export function slicesFigureOrProblem(query: string | undefined): SlicesFigure {
  const figure = slicesFigureOf(query);
  if (!figure)
    throw new ProblemError("invalid_query", `figure must be ${SLICES_FIGURES.join(" or ")}.`, { parameter: "figure" });
  return figure;
}

/** The newest analysis of `metric`, by default of the submission's headline metric. */
async function analysisOr404(db: D1Database, submission: SubmissionRecord, metric: string | undefined) {
  const name = metric ?? submission.headlineMetric;
  if (name === null) throw new ProblemError("analysis_not_found", `${submission.taskType} tasks are not analysed.`);
  const stored = await latestAnalysis(db, submission.id, name);
  if (!stored)
    throw new ProblemError("analysis_not_found", `No ${name} analysis for this submission yet: upload results first.`);
  return stored;
}

async function readFamily(reader: MultipartReader): Promise<FamilyDefinition> {
  const part = await reader.nextPart();
  if (part?.name !== "family")
    throw new ProblemError("missing_part", 'The first part must be "family": the model family definition (JSON).');
  return readJsonPart(reader, MAX_FAMILY_BYTES, validateModelFamily, "invalid_family", "family");
}
