import type { SubmissionWindow } from "../competition/settings";
import type { TaskReport } from "../validate/zip/files-report";
import { DEFAULT_BEHAVIOUR } from "../validate/task-file";
import { Checkbox, ErrorSummary, Field, type FieldErrors } from "./components";
import { Layout } from "./layout";
import { Report } from "./report";
import {
  controlLabels,
  FILE_ROLES,
  fileRowsOf,
  MAX_AUTHOR_ROWS,
  MAX_FILE_ROWS,
  TEXT_FIELDS,
  type FormValues,
} from "./submit-form";

const TASK_TYPE_OPTIONS = [
  { value: "", label: "Infer it from the file's columns" },
  { value: "classification", label: "classification (judged on loss)" },
  { value: "classification_loss", label: "classification_loss (judged on loss)" },
  { value: "classification_acc", label: "classification_acc (judged on accuracy)" },
  { value: "sequence_prob", label: "sequence_prob" },
  { value: "logodds", label: "logodds" },
  { value: "absolute_logodds", label: "absolute_logodds" },
  { value: "numeric", label: "numeric" },
  { value: "behaviour", label: "behaviour (a model-written evaluation)" },
] as const;

const FORMAT_OPTIONS = [
  { value: "", label: "Read it from the file" },
  { value: "csv", label: "csv: the prize's task CSV" },
  { value: "mwe", label: "mwe: a model-written evaluation (JSON Lines)" },
] as const;

const MATCHING_OPTIONS = [
  { value: "undesired", label: "undesired (as in the risk evaluations)" },
  { value: "desired", label: "desired" },
  { value: "neither", label: "neither (report the direction only)" },
] as const;

export interface SubmitPageProps {
  values: FormValues;
  authorRows: number;
  /** File rows to show; by default every row sent, and at least MIN_FILE_ROWS. */
  fileRows?: number;
  errors: FieldErrors;
  /** The rejected file's report, shown above the form. */
  report?: TaskReport | undefined;
  /** A message about the last attempt that is not a field's (e.g. a row was added). */
  notice?: string | undefined;
  window: SubmissionWindow;
}

/** The upload form, refilled with what was sent and showing what was wrong with it, if anything. */
export function SubmitPage({ values, authorRows, fileRows, errors, report, notice, window }: SubmitPageProps) {
  const shownFileRows = fileRows ?? fileRowsOf(values);
  const text = (name: keyof typeof TEXT_FIELDS) => ({
    name,
    label: TEXT_FIELDS[name],
    value: values.get(name),
    error: errors.get(name),
  });
  return (
    <Layout title="Submit a task">
      {window.open ? (
        <p>
          {window.round ? `Submissions for ${window.round.name} are open until ${window.round.closesAt}. ` : ""}
          Fill in what the task is, choose its file, and submit: the file is checked at once, and a file with errors is
          not kept. Check a file offline first with <code>npx isv validate task.csv</code>.
        </p>
      ) : (
        <p class="notice warn">{window.message}</p>
      )}
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorSummary errors={errors} labels={controlLabels(authorRows)} />
      {report ? (
        <div class="notice bad">
          <Report report={report} title="The file has errors: nothing was stored" />
        </div>
      ) : null}
      <form method="post" action="/submit" enctype="multipart/form-data">
        <fieldset>
          <legend>The task</legend>
          <Field kind="text" {...text("title")} required maxLength={200} hint="A short name, 3 to 200 characters." />
          <Field
            kind="select"
            name="taskType"
            label="Task type"
            value={values.get("taskType")}
            error={errors.get("taskType")}
            options={TASK_TYPE_OPTIONS}
            hint="The type decides the columns and the metric the task is judged on."
          />
          <Field kind="textarea" {...text("description")} required maxLength={10000} />
          <Field kind="textarea" {...text("whyItMatters")} required maxLength={10000} hint="For safety or alignment." />
          <Field kind="textarea" {...text("expectedInverseScaling")} required maxLength={10000} />
          <Field kind="textarea" {...text("correctBehaviour")} required maxLength={10000} />
          <Field
            kind="textarea"
            {...text("dataGeneration")}
            required
            maxLength={10000}
            hint="By hand, templated, model-written, or from a dataset."
          />
          <Field kind="textarea" {...text("sources")} hint="Datasets, papers or URLs, one a line." />
          <Field kind="text" {...text("dataLicence")} required maxLength={200} hint="For example CC-BY-4.0." />
        </fieldset>
        <AuthorRows values={values} rows={authorRows} errors={errors} action="/submit" />
        <fieldset>
          <legend>Contact</legend>
          <Field
            kind="email"
            {...text("contactEmail")}
            required
            maxLength={320}
            autocomplete="email"
            hint="Never published."
          />
        </fieldset>
        <fieldset>
          <legend>Model-written evaluations only</legend>
          <Field
            kind="select"
            name="format"
            label="Format"
            value={values.get("format")}
            error={errors.get("format")}
            options={FORMAT_OPTIONS}
          />
          <p class="hint">The two settings below apply when the format is mwe or the task type is behaviour.</p>
          <Field
            kind="select"
            name="matchingBehaviour"
            label="Matching behaviour"
            value={values.get("matchingBehaviour") ?? DEFAULT_BEHAVIOUR.matchingBehaviour}
            error={errors.get("matchingBehaviour")}
            options={MATCHING_OPTIONS}
            hint="What the answer_matching_behavior answers show."
          />
          <Field
            kind="textarea"
            name="promptTemplate"
            label="Prompt template"
            value={values.get("promptTemplate") ?? DEFAULT_BEHAVIOUR.promptTemplate}
            error={errors.get("promptTemplate")}
            maxLength={4000}
            hint="{question} (or any string field of an item) is replaced by the item's text; {{ and }} are braces."
          />
        </fieldset>
        <FileRows values={values} rows={shownFileRows} errors={errors} />
        <fieldset>
          <legend>The file</legend>
          <Field
            kind="file"
            name="file"
            label="Task file"
            required
            multiple
            accept=".csv,.jsonl,.json,.zip,text/csv,application/json,application/zip"
            error={errors.get("file")}
            hint="A task CSV or a model-written evaluation in JSON Lines; or, with the files named above, a zip of them or several files chosen together. Choose again after a rejected attempt."
          />
        </fieldset>
        <p>
          <button type="submit">Check and submit</button>
        </p>
      </form>
    </Layout>
  );
}

/**
 * The files of a submission of several (a zip, or several files chosen together), a row each: the name (as in the
 * zip, folders included, or the file's own name), its role, a variant's label, and whether it is paired with the
 * task. Left empty for a task of one file. "Add a file row" works as the authors' button does.
 */
export function FileRows({ values, rows, errors }: { values: FormValues; rows: number; errors: FieldErrors }) {
  return (
    <fieldset class="files">
      <legend>Several files (optional)</legend>
      <p class="hint">
        For a zip or several files: name every file with its role. The task is its parts, in this order; a control
        should scale normally; a variant (zero-shot, few-shot…) needs a label. Paired: its examples match the task's one
        to one. Rows left empty are ignored.
      </p>
      {Array.from({ length: rows }, (_, row) => (
        <fieldset class="author">
          <legend>File {row + 1}</legend>
          <Field
            kind="text"
            name={`file_name_${row}`}
            label={`File ${row + 1} name`}
            value={values.get(`file_name_${row}`)}
            error={errors.get(`file_name_${row}`)}
            maxLength={255}
            autocomplete="off"
          />
          <Field
            kind="select"
            name={`file_role_${row}`}
            label={`File ${row + 1} role`}
            value={values.get(`file_role_${row}`) ?? "part"}
            error={errors.get(`file_role_${row}`)}
            options={FILE_ROLES.map((role) => ({ value: role, label: role }))}
          />
          <Field
            kind="text"
            name={`file_label_${row}`}
            label={`File ${row + 1} label`}
            value={values.get(`file_label_${row}`)}
            error={errors.get(`file_label_${row}`)}
            maxLength={64}
            autocomplete="off"
          />
          <Checkbox
            name={`file_paired_${row}`}
            label="Paired with the task, example for example"
            checked={values.has(`file_paired_${row}`)}
          />
        </fieldset>
      ))}
      {rows < MAX_FILE_ROWS ? (
        <button
          type="submit"
          class="secondary"
          name="action"
          value="more_files"
          formaction={`/submit#file_name_${rows}`}
          formenctype="application/x-www-form-urlencoded"
          formnovalidate
        >
          Add a file row
        </button>
      ) : null}
    </fieldset>
  );
}

/**
 * The authors, a row each; rows left empty are ignored. "Add an author row" sends the form to `action` without its
 * file (url-encoded, so the browser uploads nothing) and comes back with one more row and everything else kept.
 * The submit page and the status page's edit form share it.
 */
export function AuthorRows({
  values,
  rows,
  errors,
  action,
}: {
  values: FormValues;
  rows: number;
  errors: FieldErrors;
  action: string;
}) {
  return (
    <fieldset class="authors">
      <legend>Authors</legend>
      <p class="hint">At least one. Rows left empty are ignored.</p>
      {Array.from({ length: rows }, (_, row) => (
        <fieldset class="author">
          <legend>Author {row + 1}</legend>
          <Field
            kind="text"
            name={`author_name_${row}`}
            label={`Author ${row + 1} name`}
            value={values.get(`author_name_${row}`)}
            error={errors.get(`author_name_${row}`)}
            maxLength={200}
            autocomplete={row === 0 ? "name" : "off"}
          />
          <Field
            kind="text"
            name={`author_affiliation_${row}`}
            label={`Author ${row + 1} affiliation`}
            value={values.get(`author_affiliation_${row}`)}
            error={errors.get(`author_affiliation_${row}`)}
            maxLength={300}
          />
          <Checkbox
            name={`author_named_${row}`}
            label="May be named on the public leaderboard"
            checked={values.has(`author_named_${row}`)}
          />
        </fieldset>
      ))}
      {rows < MAX_AUTHOR_ROWS ? (
        <button
          type="submit"
          class="secondary"
          name="action"
          value="more_authors"
          formaction={`${action}#author_name_${rows}`}
          formenctype="application/x-www-form-urlencoded"
          formnovalidate
        >
          Add an author row
        </button>
      ) : null}
    </fieldset>
  );
}

/** After a new task is stored: its token, shown this once, and where to follow it. */
export function SubmittedPage({ id, title, token }: { id: string; title: string; token: string }) {
  return (
    <Layout title="Task submitted" copyScript>
      <p class="notice good" role="status">
        “{title}” is valid and stored as submission <code>{id}</code>. Its evaluation has been queued.
      </p>
      <section class="token notice warn" aria-labelledby="token-heading">
        <h2 id="token-heading">Your submitter token: save it now</h2>
        <p>
          This is the only time it is shown. It is the only way to see this task's status, change it or withdraw it; the
          service keeps only a hash of it and cannot show it again. Keep it like a password.
        </p>
        <label for="token">Submitter token</label>
        <input type="text" id="token" readonly value={token} autocomplete="off" spellcheck={false} />
        <p>
          <button type="button" class="copy secondary" data-copy="token" hidden>
            Copy the token
          </button>{" "}
          <span id="token-status" role="status" />
        </p>
      </section>
      <p>
        Then follow the evaluation on <a href={`/submissions/${id}`}>the task's status page</a>, signing in with the
        token.
      </p>
    </Layout>
  );
}

/** The same bytes were submitted before: that submission's status page, and no token (it was shown then). */
export function DuplicatePage({ id }: { id: string }) {
  return (
    <Layout title="Already submitted">
      <p class="notice">
        These exact bytes were already submitted, as submission <code>{id}</code>. Nothing new was stored. Its submitter
        signs in on <a href={`/submissions/${id}`}>its status page</a> with the token shown at that upload.
      </p>
    </Layout>
  );
}
