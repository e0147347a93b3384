import type { Analysis, MetricRole } from "../analysis/analyse";
import type { SlicesAnalysis } from "../analysis/slices-analysis";
import type { EvaluationSummary } from "../evaluate/summary";
import type { Decision } from "../review/decisions";
import type { StoredAuditEntry } from "../storage/audit";
import type { SubmissionListItem } from "../storage/review-queue";
import type { SubmissionRecord } from "../storage/submissions";
import type { SubmissionState } from "../submission-states";
import type { Example } from "../validate/row-rules";
import { TASK_TYPES } from "../validate/task-types";
import { Field, SignOutButton, TokenSignIn } from "./components";
import { Layout } from "./layout";
import { DESK_SETTINGS_PATH } from "./desk-settings";
import { REVIEW_PATH, taskPath } from "./organiser-session";
import { ReportSummary } from "./report";
import type { FamilyDrivers } from "./review-examples";
import { type FileRow, SlicesSection } from "./review-slices";

/** The form that exchanges an organiser token for a session on the desk. */
export function ReviewSignInPage({ error }: { error?: string | undefined }) {
  return (
    <Layout title="Review desk: sign in">
      <p>
        Paste an organiser or admin token (<code>npx isv token create</code>): you stay signed in to the review desk in
        this browser for 8 hours, until you sign out, or until the token is revoked.
      </p>
      <TokenSignIn action={`${REVIEW_PATH}/sign-in`} label="Organiser token" prefix="isv_ot_" error={error} />
    </Layout>
  );
}

function SignOut() {
  return <SignOutButton action={`${REVIEW_PATH}/sign-out`} />;
}

export interface ListFilters {
  state: string;
  taskType: string;
}

/** The states the list filters on, in the order a review moves through them. */
const STATES: readonly SubmissionState[] = ["valid", "changes_requested", "accepted", "rejected", "withdrawn"];

const optionsOf = (values: readonly string[]) => [
  { value: "", label: "Any" },
  ...values.map((value) => ({ value, label: value })),
];

/** The submissions, newest first, with the API's state and task-type filters as a GET form and a next-page link. */
export function ReviewListPage({
  items,
  filters,
  nextCursor,
  isAdmin,
}: {
  items: SubmissionListItem[];
  filters: ListFilters;
  nextCursor: string | null;
  /** Admins also see the families and the competition settings (their own page). */
  isAdmin: boolean;
}) {
  const next = new URLSearchParams({ ...filters, ...(nextCursor ? { cursor: nextCursor } : {}) });
  return (
    <Layout title="Review desk">
      {isAdmin ? (
        <p>
          <a href={DESK_SETTINGS_PATH}>Families and competition settings</a>
        </p>
      ) : null}
      <form method="get" action={REVIEW_PATH} class="filters">
        <Field kind="select" name="state" label="State" value={filters.state} options={optionsOf(STATES)} />
        <Field
          kind="select"
          name="taskType"
          label="Task type"
          value={filters.taskType}
          options={optionsOf(TASK_TYPES)}
        />
        <p>
          <button type="submit">Filter</button>
        </p>
      </form>
      {items.length === 0 ? (
        <p>No submissions match.</p>
      ) : (
        <section class="scroll" aria-label="Submissions" tabindex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">State</th>
                <th scope="col">Task type</th>
                <th scope="col">Examples</th>
                <th scope="col">Submitted</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr>
                  <th scope="row">
                    <a href={taskPath(item.id)}>{item.title}</a>
                  </th>
                  <td>{item.state}</td>
                  <td>{item.taskType}</td>
                  <td>{item.examples}</td>
                  <td>{item.createdAt}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {nextCursor ? (
        <p>
          <a href={`${REVIEW_PATH}?${next.toString()}`}>Next page</a>
        </p>
      ) : null}
      <SignOut />
    </Layout>
  );
}

export interface AnalysedMetric {
  metric: string;
  role: MetricRole;
  analysis: Analysis;
}

export interface TaskPageProps {
  submission: SubmissionRecord;
  /** Anonymised unless an admin revealed the authors. */
  metadata: Record<string, unknown>;
  revealed: boolean;
  isAdmin: boolean;
  evaluations: EvaluationSummary[];
  metrics: AnalysedMetric[];
  drivers: FamilyDrivers[];
  /** The files of a submission of several (none for one file), as the organisers' API lists them. */
  files: FileRow[];
  /** The newest slices analysis of the current file: files, groups, and the task against its controls and variants. */
  slices: SlicesAnalysis | undefined;
  audit: StoredAuditEntry[];
  allowed: Decision[];
  /** A notice after a decision (post/redirect/get), or why one was refused. */
  notice?: { text: string; bad: boolean } | undefined;
}

/** The task page: what a reviewer reads before deciding, then the decision form. */
export function ReviewTaskPage(props: TaskPageProps) {
  const { submission } = props;
  return (
    <Layout title={submission.title}>
      <p>
        <a href={REVIEW_PATH}>All submissions</a>
      </p>
      {props.notice ? (
        <p class={props.notice.bad ? "notice bad" : "notice"} role="status">
          {props.notice.text}
        </p>
      ) : null}
      <dl class="facts">
        <dt>Submission</dt>
        <dd>
          <code>{submission.id}</code>
        </dd>
        <dt>State</dt>
        <dd id="state">{submission.state}</dd>
        <dt>Task type</dt>
        <dd>{submission.taskType}</dd>
        <dt>Judged on</dt>
        <dd>{submission.headlineMetric ?? "not analysed"}</dd>
        <dt>File version</dt>
        <dd>{submission.fileVersion}</dd>
        <dt>Submitted</dt>
        <dd>{submission.createdAt}</dd>
      </dl>
      <Metadata {...props} />
      <section aria-labelledby="report-heading">
        <h2 id="report-heading">Validation report</h2>
        <ReportSummary report={submission.report} />
      </section>
      <Means evaluations={props.evaluations} />
      <Verdicts id={submission.id} metrics={props.metrics} />
      <SlicesSection figureUrl={`${taskPath(submission.id)}/slices.svg`} files={props.files} slices={props.slices} />
      <Drivers drivers={props.drivers} />
      <AuditTrail entries={props.audit} />
      <DecisionForm submission={submission} allowed={props.allowed} />
      <SignOut />
    </Layout>
  );
}

/** A metadata value as text: strings as they are, anything else (authors, lists) as JSON. */
const asText = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

function Metadata({ submission, metadata, revealed, isAdmin }: TaskPageProps) {
  return (
    <section aria-labelledby="metadata-heading">
      <h2 id="metadata-heading">Metadata</h2>
      <p>
        {revealed ? "Authors revealed (admin)." : "Anonymised: the authors and contact are hidden."}{" "}
        {isAdmin && !revealed ? <a href={`${taskPath(submission.id)}?reveal=true`}>Reveal the authors</a> : null}
      </p>
      <dl class="facts">
        {Object.entries(metadata).map(([name, value]) => (
          <>
            <dt>{name}</dt>
            <dd>{asText(value)}</dd>
          </>
        ))}
      </dl>
    </section>
  );
}

const fixed3 = (value: number | null): string => (value === null ? "–" : value.toFixed(3));

function Means({ evaluations }: { evaluations: EvaluationSummary[] }) {
  return (
    <section aria-labelledby="means-heading">
      <h2 id="means-heading">Per-model means</h2>
      {evaluations.length === 0 ? <p>Not evaluated.</p> : null}
      {evaluations.map((evaluation) => (
        <section class="scroll" aria-label={`Means on ${evaluation.family}`} tabindex={0}>
          <table>
            <caption>
              {evaluation.family} (file version {evaluation.fileVersion}): {evaluation.state}
            </caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Scored</th>
                <th scope="col">Mean {evaluation.metric ?? ""}</th>
                <th scope="col">Standard error</th>
              </tr>
            </thead>
            <tbody>
              {evaluation.models.map((model) => (
                <tr>
                  <th scope="row">{model.model}</th>
                  <td>
                    {model.scored} of {model.total}
                  </td>
                  <td>{fixed3(model.mean)}</td>
                  <td>{fixed3(model.standardError)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </section>
  );
}

/** Each analysed metric, the headline first: its verdict per family and its plot along each axis. */
function Verdicts({ id, metrics }: { id: string; metrics: AnalysedMetric[] }) {
  return (
    <section aria-labelledby="verdicts-heading">
      <h2 id="verdicts-heading">Verdicts</h2>
      {metrics.length === 0 ? <p>No analysis yet.</p> : null}
      {metrics.map(({ metric, role, analysis }) => (
        <section aria-labelledby={`metric-${metric}`}>
          <h3 id={`metric-${metric}`}>
            {metric} ({role})
          </h3>
          <ul>
            {analysis.families.map((family) => (
              <li>
                {family.family}: <strong>{family.verdict}</strong>
              </li>
            ))}
          </ul>
          {[...new Set(analysis.families.map((family) => family.axis))].map((axis) => (
            <img
              src={`${taskPath(id)}/plot.svg?metric=${encodeURIComponent(metric)}&axis=${encodeURIComponent(axis)}`}
              alt={`Plot of ${metric} against ${axis} for each family`}
              width="720"
              height="460"
              loading="lazy"
            />
          ))}
        </section>
      ))}
    </section>
  );
}

/** What the model is asked to choose between or complete, by task type. */
function Continuations({ example }: { example: Example }) {
  switch (example.taskType) {
    case "classification":
    case "logodds":
    case "absolute_logodds":
      return <Classes classes={example.classes} marked={(index) => index === example.answerIndex} mark="answer" />;
    case "behaviour":
      return <Classes classes={example.classes} marked={(index) => index < example.matchingCount} mark="matching" />;
    case "sequence_prob":
      return (
        <p>
          Completion: <code>{example.completion}</code>
        </p>
      );
    case "numeric":
      return (
        <p>
          True answer {example.trueAnswer}, anchor {example.anchor}
        </p>
      );
  }
}

function Classes({ classes, marked, mark }: { classes: string[]; marked: (index: number) => boolean; mark: string }) {
  return (
    <ol start={0}>
      {classes.map((text, index) => (
        <li>
          <code>{text}</code>
          {marked(index) ? ` (${mark})` : ""}
        </li>
      ))}
    </ol>
  );
}

/** Per family, the examples that get worse most from its smallest model to its largest, with their texts. */
function Drivers({ drivers }: { drivers: FamilyDrivers[] }) {
  return (
    <section aria-labelledby="drivers-heading">
      <h2 id="drivers-heading">The examples that drive the verdict</h2>
      {drivers.length === 0 ? <p>No finished evaluation of the current file yet.</p> : null}
      {drivers.map((family) => (
        <section aria-label={`Driving examples on ${family.family}`}>
          <h3>
            {family.family}: {family.metric} from {family.smallestModel} to {family.largestModel}
          </h3>
          <ol class="drivers">
            {family.examples.map((entry) => (
              <li>
                <p>
                  Example {entry.index + 1}
                  {entry.example ? ` (line ${entry.example.line})` : ""}: {fixed3(entry.smallest)} →{" "}
                  {fixed3(entry.largest)} (worse by {fixed3(entry.worsening)})
                </p>
                {entry.example ? (
                  <>
                    <pre>{entry.example.prompt}</pre>
                    {"otherPrompt" in entry.example ? <pre>{entry.example.otherPrompt}</pre> : null}
                    <Continuations example={entry.example} />
                  </>
                ) : (
                  <p>The stored example is missing.</p>
                )}
              </li>
            ))}
          </ol>
        </section>
      ))}
    </section>
  );
}

function AuditTrail({ entries }: { entries: StoredAuditEntry[] }) {
  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit trail</h2>
      {entries.length === 0 ? <p>Nothing recorded.</p> : null}
      <ol class="audit">
        {entries.map((entry) => (
          <li>
            {entry.at} <strong>{entry.action}</strong> by <code>{entry.actor}</code>:{" "}
            <code>{JSON.stringify(entry.detail)}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}

const DECISION_WORDS: Record<Decision, string> = {
  accept: "Accept",
  reject: "Reject",
  request_changes: "Request changes",
};

/**
 * Accept, reject or request changes, with a note. The state the page showed travels in a hidden field, so a
 * decision made on a stale page is refused as the API refuses a stale If-Match.
 */
function DecisionForm({ submission, allowed }: { submission: SubmissionRecord; allowed: Decision[] }) {
  if (allowed.length === 0)
    return (
      <section aria-labelledby="decision-heading">
        <h2 id="decision-heading">Decision</h2>
        <p>No decision is open from the state {submission.state}.</p>
      </section>
    );
  return (
    <section aria-labelledby="decision-heading">
      <h2 id="decision-heading">Decision</h2>
      <form method="post" action={`${taskPath(submission.id)}/decision`}>
        <input type="hidden" name="expectedState" value={submission.state} />
        <fieldset>
          <legend>Decision</legend>
          {allowed.map((decision, index) => (
            <div class="field check">
              <input type="radio" id={`decision-${decision}`} name="decision" value={decision} required={index === 0} />{" "}
              <label for={`decision-${decision}`}>{DECISION_WORDS[decision]}</label>
            </div>
          ))}
        </fieldset>
        <Field kind="textarea" name="note" label="Note to the submitter" required maxLength={5000} />
        <p>
          <button type="submit">Decide</button>
        </p>
      </form>
    </section>
  );
}
