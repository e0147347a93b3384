import type { SubmissionRecord } from "../storage/submissions";
import type { submitterResults } from "../submissions/public-results";
import { ErrorSummary, Field, SignOutButton, TokenSignIn, type FieldErrors } from "./components";
import { Layout } from "./layout";
import { Report } from "./report";
import { replaceFilePath } from "./replace-file-form";
import { controlLabels, TEXT_FIELDS, type FormValues } from "./submit-form";
import { AuthorRows } from "./submit-page";
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
  editable,
  notice,
  withdrawError,
}: {
  submission: SubmissionRecord;
  results: SubmitterResults;
  /** Whether the submitter lets the page reload itself (they may stop it: WCAG 2.2.1, timing adjustable). */
  refresh: boolean;
  /** Whether the API's rules let the submitter change the task now (src/submissions/editable.ts). */
  editable: boolean;
  /** What the last form did, shown after its redirect. */
  notice?: string | undefined;
  /** Why the withdrawal was not done (its confirmation was not ticked). */
  withdrawError?: string | undefined;
}) {
  const evaluating = isEvaluating(results);
  return (
    <Layout title={submission.title} refreshSeconds={evaluating && refresh ? REFRESH_SECONDS : undefined}>
      {notice ? (
        <p class="notice good" role="status">
          {notice}
        </p>
      ) : null}
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
      <ChangeTask submission={submission} editable={editable} withdrawError={withdrawError} />
      <SignOutButton action={`${statusPath(submission.id)}/sign-out`} />
    </Layout>
  );
}

/** What the submitter may still do: edit the details and replace the file while editable, and withdraw until withdrawn. */
function ChangeTask({
  submission,
  editable,
  withdrawError,
}: {
  submission: SubmissionRecord;
  editable: boolean;
  withdrawError: string | undefined;
}) {
  if (submission.state === "withdrawn") return null;
  const path = statusPath(submission.id);
  return (
    <section aria-labelledby="change-heading">
      <h2 id="change-heading">Change the task</h2>
      {editable ? (
        // Links, not forms: a file chosen here would be cleared when the page reloads itself during an evaluation.
        <ul>
          <li>
            <a href={`${path}/edit`}>Edit the task's details</a> (title, descriptions, authors, contact, licence).
          </li>
          <li>
            <a href={replaceFilePath(submission.id)}>Replace the task file</a> (checked at once; a valid one is
            evaluated afresh).
          </li>
        </ul>
      ) : (
        <p>Its details and file can no longer be changed.</p>
      )}
      <form method="post" action={`${path}/withdraw`} class={withdrawError ? "field invalid" : undefined}>
        <h3>Withdraw</h3>
        <p>A withdrawn task leaves review and the leaderboard for good; its record is kept. This cannot be undone.</p>
        {withdrawError ? (
          <p class="field-error" id="confirm-error" role="alert">
            {withdrawError}
          </p>
        ) : null}
        {/* A box to tick is the confirmation: it needs no script, and an untouched form withdraws nothing. */}
        <div class="field check">
          <input
            type="checkbox"
            id="confirm"
            name="confirm"
            value="yes"
            required
            aria-invalid={withdrawError ? "true" : undefined}
            aria-describedby={withdrawError ? "confirm-error" : undefined}
          />{" "}
          <label for="confirm">I understand this cannot be undone</label>
        </div>
        <p>
          <button type="submit">Withdraw the task</button>
        </p>
      </form>
    </section>
  );
}

/** The form that edits the task's details, prefilled; the task type, format and file are the upload's. */
export function EditPage({
  id,
  values,
  authorRows,
  errors,
  notice,
}: {
  id: string;
  values: FormValues;
  authorRows: number;
  errors: FieldErrors;
  notice?: string | undefined;
}) {
  const text = (name: keyof typeof TEXT_FIELDS) => ({
    name,
    label: TEXT_FIELDS[name],
    value: values.get(name),
    error: errors.get(name),
  });
  const action = `${statusPath(id)}/edit`;
  return (
    <Layout title="Edit the task's details">
      <p>
        Submission <code>{id}</code>. The task type and its file stay as uploaded. Saving an edit made at the
        organisers' request puts the task back in review. <a href={statusPath(id)}>Back to the status page</a>
      </p>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorSummary errors={errors} labels={controlLabels(authorRows)} />
      <form method="post" action={action}>
        <fieldset>
          <legend>The task</legend>
          <Field kind="text" {...text("title")} required maxLength={200} hint="3 to 200 characters." />
          <Field kind="textarea" {...text("description")} required maxLength={10000} />
          <Field kind="textarea" {...text("whyItMatters")} required maxLength={10000} />
          <Field kind="textarea" {...text("expectedInverseScaling")} required maxLength={10000} />
          <Field kind="textarea" {...text("correctBehaviour")} required maxLength={10000} />
          <Field kind="textarea" {...text("dataGeneration")} required maxLength={10000} />
          <Field kind="textarea" {...text("sources")} hint="Datasets, papers or URLs, one a line." />
          <Field kind="text" {...text("dataLicence")} required maxLength={200} />
        </fieldset>
        <AuthorRows values={values} rows={authorRows} errors={errors} action={action} />
        <fieldset>
          <legend>Contact</legend>
          <Field kind="email" {...text("contactEmail")} required maxLength={320} autocomplete="email" />
        </fieldset>
        <p>
          <button type="submit">Save the details</button>
        </p>
      </form>
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
