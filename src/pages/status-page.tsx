import type { SubmissionRecord } from "../storage/submissions";
import type { submitterResults } from "../submissions/public-results";
import { SignOutButton, TokenSignIn } from "./components";
import { Layout } from "./layout";
import { Report } from "./report";
import { statusPath } from "./submitter-session";

type SubmitterResults = Awaited<ReturnType<typeof submitterResults>>;
type Evaluation = SubmitterResults["evaluations"][number];
type MetricVerdicts = NonNullable<SubmitterResults["results"]>["secondary"][number];

/** How often a status page reloads itself while an evaluation runs. */
export const REFRESH_SECONDS = 10;

/** What each state means for the submitter. */
const STATE_WORDS: Record<SubmissionRecord["state"], string> = {
  valid: "Valid: being evaluated, then reviewed by the organisers",
  changes_requested: "Changes requested: see the organisers' note",
  accepted: "Accepted: on the leaderboard",
  rejected: "Rejected",
  withdrawn: "Withdrawn by its submitter",
};

/** The form that exchanges the token for a session; the same page for an unknown id, so ids cannot be probed. */
export function SignInPage({ id, error }: { id: string; error?: string | undefined }) {
  return (
    <Layout title="Sign in to a submission">
      <p>
        Submission <code>{id}</code>. Paste the submitter token you were given at upload: you stay signed in to this
        submission's page in this browser for 8 hours, or until you sign out.
      </p>
      <TokenSignIn action={`${statusPath(id)}/sign-in`} label="Submitter token" prefix="isv_st_" error={error} />
    </Layout>
  );
}

const running = (evaluation: Evaluation): boolean => evaluation.state === "queued" || evaluation.state === "evaluating";

/** Whether the page should reload itself: only while an evaluation is still running. */
export const isEvaluating = (results: SubmitterResults): boolean => results.evaluations.some(running);

/** The signed-in submitter's view: state, review note, report, progress while evaluating, verdicts and plots. */
export function StatusPage({
  submission,
  results,
  refresh,
}: {
  submission: SubmissionRecord;
  results: SubmitterResults;
  /** Whether the submitter lets the page reload itself (they may stop it: WCAG 2.2.1, timing adjustable). */
  refresh: boolean;
}) {
  const evaluating = isEvaluating(results);
  return (
    <Layout title={submission.title} refreshSeconds={evaluating && refresh ? REFRESH_SECONDS : undefined}>
      {evaluating ? <RefreshNotice id={submission.id} refresh={refresh} /> : null}
      <dl class="facts">
        <dt>Submission</dt>
        <dd>
          <code>{submission.id}</code>
        </dd>
        <dt>State</dt>
        <dd id="state">{STATE_WORDS[submission.state]}</dd>
        <dt>Task type</dt>
        <dd>{submission.taskType}</dd>
        <dt>Judged on</dt>
        <dd>{submission.headlineMetric ?? "not analysed (numeric tasks have no verdict)"}</dd>
        <dt>Examples</dt>
        <dd>{submission.exampleCount}</dd>
        <dt>File version</dt>
        <dd>{submission.fileVersion}</dd>
        <dt>Submitted</dt>
        <dd>{submission.createdAt}</dd>
      </dl>
      {submission.reviewedAt ? (
        <section class="notice" aria-labelledby="review-heading">
          <h2 id="review-heading">The organisers' note</h2>
          <p>
            {submission.reviewNote || "No note."} <small>({submission.reviewedAt})</small>
          </p>
        </section>
      ) : null}
      <Evaluations evaluations={results.evaluations} />
      <Verdicts id={submission.id} results={results.results} />
      <Report report={submission.report} title="Validation report" />
      <SignOutButton action={`${statusPath(submission.id)}/sign-out`} />
    </Layout>
  );
}

/** While evaluating: that the page reloads itself, first on the page, with the means to stop it (or resume). */
function RefreshNotice({ id, refresh }: { id: string; refresh: boolean }) {
  return refresh ? (
    <p class="notice" id="refresh">
      Evaluating: this page reloads itself every {REFRESH_SECONDS} seconds until the evaluation ends.{" "}
      <a href={`${statusPath(id)}?refresh=off`}>Stop reloading</a>
    </p>
  ) : (
    <p class="notice" id="refresh">
      Evaluating. <a href={statusPath(id)}>Reload every {REFRESH_SECONDS} seconds until it ends</a>
    </p>
  );
}

function Evaluations({ evaluations }: { evaluations: Evaluation[] }) {
  return (
    <section aria-labelledby="evaluations-heading">
      <h2 id="evaluations-heading">Evaluation</h2>
      {evaluations.length === 0 ? <p>No evaluation has started yet.</p> : null}
      {evaluations.map((evaluation) => (
        // A region of its own that scrolls sideways on a narrow screen, reachable by keyboard to do so.
        <section class="scroll" aria-label={`Progress on ${evaluation.family}`} tabindex={0}>
          <table>
            <caption>
              {evaluation.family}: {evaluation.state}
              {evaluation.reason ? ` (${evaluation.reason})` : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Progress</th>
                <th scope="col">Mean {evaluation.metric ?? ""}</th>
              </tr>
            </thead>
            <tbody>
              {evaluation.models.map((model) => (
                <tr>
                  <th scope="row">{model.model}</th>
                  <td>
                    <progress max={model.total} value={model.done} aria-label={`${model.model} progress`} />{" "}
                    {model.done} of {model.total}
                  </td>
                  <td>
                    {model.mean === null
                      ? "–"
                      : `${model.mean.toFixed(3)}${model.standardError === null ? "" : ` ± ${model.standardError.toFixed(3)}`}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </section>
  );
}

const fixed3 = (value: number): string => value.toFixed(3);

function slopeText(line: MetricVerdicts["families"][number]): string {
  const [value, unit] =
    "slopePerDecade" in line ? [line.slopePerDecade, "per decade"] : [line.slopePer1000Steps, "per 1000 RLHF steps"];
  return `slope ${fixed3(value)} ${unit} (95% CI ${fixed3(line.slopeCi95[0])} to ${fixed3(line.slopeCi95[1])})`;
}

/** The verdicts, the headline metric's first, each metric with its plots along each axis its lines run along. */
function Verdicts({ id, results }: { id: string; results: SubmitterResults["results"] }) {
  if (!results) return null;
  const metrics = [results, ...results.secondary];
  return (
    <section aria-labelledby="verdicts-heading">
      <h2 id="verdicts-heading">Verdicts</h2>
      {metrics.map((metric) => {
        const axes = [...new Set(metric.families.map((line) => line.axis))];
        return (
          <section aria-labelledby={`metric-${metric.metric}`}>
            <h3 id={`metric-${metric.metric}`}>
              {metric.metric} (
              {metric.role === "headline" ? "the headline metric, which the task is judged on" : "secondary"})
            </h3>
            <ul>
              {metric.families.map((line) => (
                <li>
                  <strong>{line.words}</strong> on {line.family}
                  {line.fixed
                    ? ` (${Object.entries(line.fixed)
                        .map(([key, value]) => `${key} ${value}`)
                        .join(", ")})`
                    : ""}
                  : {slopeText(line)}
                </li>
              ))}
            </ul>
            {axes.map((axis) => (
              <img
                src={`${statusPath(id)}/plot.svg?metric=${encodeURIComponent(metric.metric)}&axis=${encodeURIComponent(axis)}`}
                alt={`Plot of ${metric.metric} against ${axis} for each family`}
                width="720"
                height="460"
                loading="lazy"
              />
            ))}
          </section>
        );
      })}
    </section>
  );
}
