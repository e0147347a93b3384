import { Hono } from "hono";
import { validateSubmissionMetadata } from "../generated/validators";
import { readJsonPart } from "../http/json-part";
import { boundaryOf, withMultipart, type MultipartReader } from "../http/multipart";
import { ProblemError } from "../http/problem";
import { requireSubmitter } from "../http/submitter-auth";
import { receiveTaskFile, type SubmissionMetadata } from "../intake/receive-task";
import { replaceTaskFile } from "../intake/replace-task";
import { EDITABLE_STATES } from "../submission-states";
import { editableUntil, submissionWindow, validationLimits, type CompetitionSettings } from "../competition/settings";
import { settingsInForce } from "../storage/settings";
import { resolveFamily, startEvaluation } from "../evaluate/start";
import { summariseEvaluation } from "../evaluate/summary";
import { currentEvaluations } from "../storage/evaluations";
import { headlineMetricName } from "../analysis/metrics";
import { validateMetadataUpdate } from "../generated/validators";
import { jsonBody } from "../http/json-body";
import { rebuildLeaderboard } from "../leaderboard/snapshot";
import { resolveTaskType } from "../validate/task-types";
import { renderPlot } from "../analysis/plot";
import { headlineFirst, metricRole } from "../review/analyses";
import { appendAuditIfChanged, latestAnalyses, latestHeadlineAnalysis } from "../storage/analyses";
import { privateFamilyNames } from "../storage/review";
import {
  editMetadataStatement,
  getSubmission,
  lastReview,
  withdrawStatement,
  type SubmissionRecord,
} from "../storage/submissions";
import { formatBytes } from "../validate/validator";
import type { ValidationLimits, ValidationReport } from "../validate/report";
import type { AppEnv } from "../app-env";
import { describeError } from "../log";

/** Room for the metadata part and multipart framing on top of the file-size limit. */
const ENVELOPE_BYTES = 256 * 1024;
const MAX_METADATA_BYTES = 64 * 1024;

export function submissionRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.post("/", async (c) => {
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
        'Send multipart/form-data with a "metadata" part (JSON) followed by a "file" part (the task CSV).',
      );
    }
    const declaredLength = Number(c.req.header("content-length") ?? NaN);
    if (declaredLength > limits.maxBytes + ENVELOPE_BYTES) {
      throw new ProblemError("payload_too_large", `The task file may be at most ${formatBytes(limits.maxBytes)}.`, {
        limitBytes: limits.maxBytes,
      });
    }
    const body = c.req.raw.body;
    if (!body) throw new ProblemError("missing_part", 'The body is empty; send a "metadata" part and a "file" part.');

    return withMultipart(body, boundary, async (reader) => {
      const metadata = await readMetadataPart(reader);
      const filePart = await reader.nextPart();
      if (filePart?.name !== "file") {
        throw new ProblemError("missing_part", 'After "metadata", send the task CSV as a part named "file".');
      }
      const outcome = await receiveTaskFile(c.env, reader.bodyChunks(), metadata, limits, window.round?.name ?? null);
      switch (outcome.kind) {
        case "invalid":
          throw invalidFileProblem(outcome.report, limits, "nothing was stored. Fix them and submit again.");
        case "duplicate":
          return c.json({ ...publicView(outcome.submission), duplicate: true }, 200, {
            location: `/v1/submissions/${outcome.submission.id}`,
          });
        case "created": {
          const evaluations = await startDefaultEvaluations(c.env, settings, outcome.submission);
          return c.json(
            { ...publicView(outcome.submission), submitterToken: outcome.submitterToken, evaluations },
            201,
            {
              location: `/v1/submissions/${outcome.submission.id}`,
            },
          );
        }
      }
    });
  });

  /** An accepted task's plot, public: only its public families are drawn. */
  routes.get("/:id/plot.svg", async (c) => {
    const submission = await getSubmission(c.env.DB, c.req.param("id"));
    if (submission?.state !== "accepted")
      throw new ProblemError("not_found", "Plots are public once a task is accepted.");
    const stored = await latestHeadlineAnalysis(c.env.DB, submission);
    const privateNames = await privateFamilyNames(c.env.DB, submission.id);
    const families = stored?.analysis.families.filter((family) => !privateNames.has(family.family)) ?? [];
    if (!stored || families.length === 0)
      throw new ProblemError("analysis_not_found", "This task has no public results to plot.");
    return c.body(renderPlot({ ...stored.analysis, families }, submission.title), 200, {
      "content-type": "image/svg+xml; charset=utf-8",
      "cache-control": "public, max-age=300",
      "access-control-allow-origin": "*",
    });
  });

  /**
   * Changes the metadata while the task is editable. The task type stays the file's, and the declared name stays
   * the upload's: it fixed the metric the task is judged on, which results must not be able to change. The edit
   * may leave taskType out or give any name for the same type and headline metric.
   */
  routes.put(
    "/:id/metadata",
    requireSubmitter,
    jsonBody<{ metadata: SubmissionMetadata }>(validateMetadataUpdate, "invalid_metadata", "metadata"),
    async (c) => {
      const submission = c.get("submission");
      assertEditable(submission, await settingsInForce(c.env), new Date());
      const { metadata } = c.req.valid("json");
      const declared =
        typeof submission.metadata.taskType === "string" ? submission.metadata.taskType : submission.taskType;
      const requested = metadata.taskType === undefined ? undefined : resolveTaskType(metadata.taskType);
      if (
        requested &&
        (!requested.ok ||
          requested.taskType !== submission.taskType ||
          (headlineMetricName(requested.taskType, metadata.taskType) ?? null) !== submission.headlineMetric)
      ) {
        const scoredBy = submission.headlineMetric === null ? "" : `, judged on ${submission.headlineMetric}`;
        throw new ProblemError(
          "invalid_metadata",
          `The task type is ${declared}${scoredBy}, fixed at upload; submit a new task to change it.`,
          { fields: [{ field: "taskType", message: "cannot change" }] },
        );
      }
      const updated = { ...metadata, taskType: declared };
      const at = new Date().toISOString();
      // An edit answering a request for changes puts the task back in review.
      const [change] = await c.env.DB.batch([
        editMetadataStatement(c.env.DB, submission.id, submission.state, updated, updated.title, at),
        appendAuditIfChanged(c.env.DB, {
          at,
          actor: "submitter",
          action: "submission.edit",
          submissionId: submission.id,
          detail: {
            before: { ...submission.metadata, state: submission.state },
            after: { ...updated, state: "valid" },
          },
        }),
      ]);
      if (change?.meta.changes !== 1)
        throw new ProblemError("not_editable", "The submission was decided while you edited it; nothing was changed.", {
          state: submission.state,
        });
      return c.json({ ...publicView({ ...submission, title: updated.title, state: "valid" }), metadata: updated });
    },
  );

  /**
   * Replaces the task file while the task is editable: the body is the new CSV (text/csv), streamed and
   * validated like an upload against the same task type. The old file is kept; the new one is evaluated afresh.
   */
  routes.put("/:id/file", requireSubmitter, async (c) => {
    const submission = c.get("submission");
    const settings = await settingsInForce(c.env);
    assertEditable(submission, settings, new Date());
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "text/csv")
      throw new ProblemError(
        "unsupported_media_type",
        "Send the new task file as the body, with content-type text/csv.",
      );
    const limits = validationLimits(settings);
    if (Number(c.req.header("content-length") ?? NaN) > limits.maxBytes) {
      throw new ProblemError("payload_too_large", `The task file may be at most ${formatBytes(limits.maxBytes)}.`, {
        limitBytes: limits.maxBytes,
      });
    }
    const body = c.req.raw.body;
    if (!body) throw new ProblemError("bad_request", "The body is empty: send the new task CSV.");
    // A ReadableStream is async-iterable; leaving the loop early (an invalid file stops validation) cancels it.
    const outcome = await replaceTaskFile(c.env, submission, body, limits);
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
        return c.json({ ...publicView(outcome.submission), unchanged: true });
      case "replaced": {
        const evaluations = await startDefaultEvaluations(c.env, settings, outcome.submission);
        return c.json({ ...publicView(outcome.submission), evaluations });
      }
    }
  });

  /** The submitter takes the task back: it leaves review and the leaderboard, and its record is kept. */
  routes.post("/:id/withdraw", requireSubmitter, async (c) => {
    const submission = c.get("submission");
    if (submission.state === "withdrawn")
      throw new ProblemError("invalid_transition", "This submission is already withdrawn.", {
        state: submission.state,
        allowed: [],
      });
    const at = new Date().toISOString();
    const [change] = await c.env.DB.batch([
      withdrawStatement(c.env.DB, submission.id, submission.state, at),
      appendAuditIfChanged(c.env.DB, {
        at,
        actor: "submitter",
        action: "submission.withdraw",
        submissionId: submission.id,
        detail: { before: submission.state, after: "withdrawn" },
      }),
    ]);
    if (change?.meta.changes !== 1)
      throw new ProblemError(
        "invalid_transition",
        "The submission changed state while you withdrew it; reload and try again.",
        { state: submission.state, allowed: [] },
      );
    if (submission.state === "accepted") await rebuildLeaderboard(c.env.DB);
    return c.json({ id: submission.id, state: "withdrawn" });
  });

  routes.get("/:id", requireSubmitter, async (c) => {
    const submission = c.get("submission");
    const privateNames = await privateFamilyNames(c.env.DB, submission.id);
    const evaluations = await Promise.all(
      (await currentEvaluations(c.env.DB, submission))
        .filter((evaluation) => !privateNames.has(evaluation.family))
        .map((evaluation) => summariseEvaluation(c.env.DB, evaluation, submission)),
    );
    // Verdicts on the public families, once analysed (private families are for organisers only): the headline
    // metric's, which the task is judged on, then the secondary metrics'.
    const analyses = headlineFirst(submission, await latestAnalyses(c.env.DB, submission.id));
    const verdicts = ({ metric, analysis }: (typeof analyses)[number]) => ({
      metric,
      role: metricRole(submission, metric),
      families: analysis.families
        .filter((family) => !privateNames.has(family.family))
        .map((family) => ({
          family: family.family,
          verdict: family.verdict,
          slopePerDecade: family.slope.perDecade,
          slopeCi95: family.slope.ci95,
          reason: family.reason,
        })),
    });
    const [headline, ...secondary] = analyses;
    const results =
      headline && metricRole(submission, headline.metric) === "headline"
        ? { ...verdicts(headline), secondary: secondary.map(verdicts) }
        : null;
    return c.json({
      ...publicView(submission),
      evaluations: evaluations.map(
        ({ failedShards: _failed, estimate: _estimate, tokenBudget: _budget, ...visible }) => visible,
      ),
      results,
    });
  });

  return routes;
}

/**
 * Queues a new valid submission (or a replaced file) on the competition's public families, with its token budget.
 * A family that cannot be started is reported in the response, never fails the upload: the submission is stored
 * either way.
 */
async function startDefaultEvaluations(
  env: Env,
  settings: CompetitionSettings,
  submission: SubmissionRecord,
): Promise<{ family: string; id?: string; state?: string; error?: string }[]> {
  const started = [];
  for (const name of settings.publicFamilies) {
    try {
      const family = await resolveFamily(env, name);
      if (!family) {
        started.push({ family: name, error: "not a registered family" });
        continue;
      }
      const outcome = await startEvaluation(env, submission, family, settings.tokenBudget);
      started.push(
        outcome.ok
          ? { family: name, id: outcome.evaluation.id, state: outcome.evaluation.state }
          : { family: name, error: outcome.reason },
      );
    } catch (error) {
      console.error(JSON.stringify({ submission: submission.id, family: name, error: describeError(error) }));
      started.push({ family: name, error: "could not be queued; an organiser can start it" });
    }
  }
  return started;
}

/** The problem for a file the validator rejected: 413 past the size limit, else 422 with the whole report. */
function invalidFileProblem(report: ValidationReport, limits: ValidationLimits, consequence: string): ProblemError {
  if ((report.counts.file_too_large ?? 0) > 0) {
    return new ProblemError("payload_too_large", `The task file is larger than ${formatBytes(limits.maxBytes)}.`, {
      report,
      limitBytes: limits.maxBytes,
    });
  }
  return new ProblemError(
    "invalid_task_file",
    `The task file has ${report.errorCount} error${report.errorCount === 1 ? "" : "s"}; ${consequence}`,
    { report },
  );
}

/**
 * A submitter may change a task before review decides it, until its round closes; when organisers ask for
 * changes, until they decide again (the deadline does not apply: they asked).
 */
function assertEditable(submission: SubmissionRecord, settings: CompetitionSettings, now: Date): void {
  if (!(EDITABLE_STATES as readonly string[]).includes(submission.state)) {
    throw new ProblemError("not_editable", `A ${submission.state} submission can no longer be changed.`, {
      state: submission.state,
    });
  }
  const deadline = editableUntil(settings, submission.round);
  if (submission.state === "valid" && deadline !== null && now.getTime() >= Date.parse(deadline)) {
    throw new ProblemError("not_editable", `Editing closed with ${submission.round} at ${deadline}.`, {
      state: submission.state,
      closedAt: deadline,
    });
  }
}

async function readMetadataPart(reader: MultipartReader): Promise<SubmissionMetadata> {
  const part = await reader.nextPart();
  if (part?.name === "file") {
    throw new ProblemError(
      "missing_part",
      'Send the "metadata" part before the "file" part, so the file can be checked as it streams.',
    );
  }
  if (part?.name !== "metadata") throw new ProblemError("missing_part", 'The first part must be "metadata" (JSON).');
  return readJsonPart<SubmissionMetadata>(
    reader,
    MAX_METADATA_BYTES,
    validateSubmissionMetadata,
    "invalid_metadata",
    "metadata",
  );
}

/** What the submitter may see: never the token hash or storage keys. */
function publicView(submission: SubmissionRecord) {
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
  };
}
