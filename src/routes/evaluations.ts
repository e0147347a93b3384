import { Hono } from "hono";
import { hasResultsFile } from "../analysis/results-columns";
import { writeResultsCsv } from "../analysis/results-csv";
import type { AppEnv, OrganiserVariables } from "../app-env";
import { registerFamily } from "../evaluate/register-family";
import { startRequestedEvaluations } from "../evaluate/start-requested";
import { summariseEvaluation } from "../evaluate/summary";
import { validateEvaluationRequest, validateModelFamily } from "../generated/validators";
import { jsonBody } from "../http/json-body";
import { requireRole } from "../http/organiser-auth";
import { ProblemError } from "../http/problem";
import { getEvaluation, listEvaluations } from "../storage/evaluations";
import { listFamilies } from "../storage/families";
import { listResults } from "../storage/results";
import { checkRegisteredFamily } from "../review/family-check";
import { getSubmission, type SubmissionRecord } from "../storage/submissions";
import { submissionOr404 } from "./lookups";

type ReviewEnv = AppEnv & { Variables: OrganiserVariables };

/** Organiser routes for model families and evaluations (mounted under /v1/review, behind requireRole). */
export function evaluationRoutes(): Hono<ReviewEnv> {
  const routes = new Hono<ReviewEnv>();

  routes.get("/families", async (c) => c.json({ families: await listFamilies(c.env.DB) }));

  // A family decides where submitters' prompts and a provider key are sent: admins only (organisers read the list
  // and start evaluations on what is registered).
  routes.put(
    "/families/:name",
    requireRole("admin"),
    jsonBody(validateModelFamily, "invalid_family", "family"),
    async (c) => {
      const family = c.req.valid("json");
      if (family.name !== c.req.param("name"))
        throw new ProblemError(
          "invalid_family",
          `The body names family "${family.name}" but the URL says "${c.req.param("name")}".`,
          { fields: [{ field: "name", message: "must match the URL" }] },
        );
      const outcome = await registerFamily(c.env, family, c.get("actor").id);
      switch (outcome.kind) {
        case "built_in":
          throw new ProblemError(
            "family_builtin",
            `"${outcome.name}" is built into the service and cannot be replaced.`,
          );
        case "refused":
          throw new ProblemError(outcome.failure, `${capitalise(outcome.message)}.`);
        case "registered":
          return c.json({ family: outcome.family }, 200);
      }
    },
  );

  // The preflight sends requests that a provider may bill: admins only.
  routes.post("/families/:name/check", requireRole("admin"), async (c) => {
    const outcome = await checkRegisteredFamily(c.env, c.req.param("name"), c.get("actor").id);
    if (outcome.kind === "not_found")
      throw new ProblemError("not_found", `No registered family "${c.req.param("name")}".`);
    if (outcome.kind === "not_checkable") throw new ProblemError("not_checkable", `${outcome.reason}.`);
    return c.json(outcome.check, 200);
  });

  routes.post(
    "/submissions/:id/evaluations",
    jsonBody(validateEvaluationRequest, "bad_request", "evaluation request"),
    async (c) => {
      const submission = await submissionOr404(c.env.DB, c.req.param("id"));
      const request = c.req.valid("json");
      const outcome = await startRequestedEvaluations(
        c.env,
        submission,
        request.families,
        request.tokenBudget ?? null,
        c.get("actor").id,
      );
      switch (outcome.kind) {
        case "unknown_family":
          throw new ProblemError(
            "bad_request",
            `No registered family "${outcome.name}"; register it with PUT /v1/review/families/${outcome.name}.`,
          );
        case "not_startable":
          throw new ProblemError("not_analysable", outcome.reason);
        case "refused":
          // Only the spend ceilings refuse an organiser's start (the daily cap and budget refusal are automatic).
          throw new ProblemError("spend_ceiling_reached", `Family ${outcome.family}: ${outcome.reason}.`, {
            family: outcome.family,
            refused: outcome.refused,
            started: outcome.started,
          });
        case "started":
          return c.json({ evaluations: outcome.evaluations }, 202);
      }
    },
  );

  routes.get("/submissions/:id/evaluations", async (c) => {
    const submission = await submissionOr404(c.env.DB, c.req.param("id"));
    const evaluations = await listEvaluations(c.env.DB, submission.id);
    return c.json({
      evaluations: await Promise.all(
        evaluations.map((evaluation) => summariseEvaluation(c.env.DB, evaluation, submission)),
      ),
    });
  });

  routes.get("/evaluations/:id", async (c) => {
    const evaluation = await getEvaluation(c.env.DB, c.req.param("id"));
    if (!evaluation) throw new ProblemError("not_found", `No evaluation ${c.req.param("id")}.`);
    const submission = await submissionOf(c.env.DB, evaluation);
    return c.json({ submissionId: submission.id, ...(await summariseEvaluation(c.env.DB, evaluation, submission)) });
  });

  /** A model's per-example results in the prize pipeline's output format, ready for `isv analyse`. */
  routes.get("/evaluations/:id/results/:file", async (c) => {
    const evaluation = await getEvaluation(c.env.DB, c.req.param("id"));
    const model = c.req.param("file").replace(/\.csv$/, "");
    if (!evaluation?.familyDefinition.models.some((m) => m.id === model))
      throw new ProblemError("not_found", `No results for model ${model} in this evaluation.`);
    const submission = await submissionOf(c.env.DB, evaluation);
    // Never true for an evaluation: numeric tasks are not evaluated (startEvaluation refuses them).
    if (!hasResultsFile(submission.taskType))
      throw new ProblemError("not_found", `No results for model ${model} in this evaluation.`);
    const rows = (await listResults(c.env.DB, evaluation.id)).flatMap((row) =>
      row.model === model && row.metrics ? [{ index: row.index, metrics: row.metrics }] : [],
    );
    return c.body(writeResultsCsv(submission.taskType, rows), 200, { "content-type": "text/csv; charset=utf-8" });
  });

  return routes;
}

const capitalise = (sentence: string): string => sentence.charAt(0).toUpperCase() + sentence.slice(1);

/** An evaluation's submission: every evaluation references one, and submissions are never deleted. */
async function submissionOf(
  db: D1Database,
  evaluation: { id: string; submissionId: string },
): Promise<SubmissionRecord> {
  const submission = await getSubmission(db, evaluation.submissionId);
  if (!submission) throw new Error(`submission ${evaluation.submissionId} of evaluation ${evaluation.id} is missing`);
  return submission;
}
