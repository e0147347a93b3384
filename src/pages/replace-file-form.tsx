import type { ValidationReport } from "../generated/types";
import type { SubmissionRecord } from "../storage/submissions";
import { Field } from "./components";
import { Layout } from "./layout";
import { Report } from "./report";
import { statusPath } from "./submitter-session";

/** Where the status page's "Replace the file" form posts. */
export const replaceFilePath = (id: string): string => `${statusPath(id)}/file`;

/** The files a task takes: a behaviour task's stays a model-written evaluation, any other task's a CSV. */
function acceptedFiles(taskType: SubmissionRecord["taskType"]): { accept: string; hint: string } {
  return taskType === "behaviour"
    ? {
        accept: ".jsonl,.json,application/jsonl,application/json",
        hint: "A model-written evaluation in JSON Lines, checked with the task's format and prompt template.",
      }
    : { accept: ".csv,text/csv", hint: `A task CSV of type ${taskType}, checked as an upload is.` };
}

/**
 * The status page's form for a new task file (the API's PUT /v1/submissions/{id}/file): only the file, sent as
 * multipart so that it streams. A plain submit button; cross-site posts are refused by the route (Origin).
 */
export function ReplaceFileForm({ submission }: { submission: SubmissionRecord }) {
  const { accept, hint } = acceptedFiles(submission.taskType);
  return (
    <form method="post" action={replaceFilePath(submission.id)} enctype="multipart/form-data">
      <h3>Replace the file</h3>
      <p>
        The new file is checked at once; a file with errors changes nothing. Once it is in place the task is evaluated
        afresh, and its earlier files are kept.
      </p>
      <Field kind="file" name="file" label="New task file" required accept={accept} hint={hint} />
      <p>
        <button type="submit">Replace the file</button>
      </p>
    </form>
  );
}

/**
 * A replacement that changed nothing: why (the report inline, or a message), the form again when another file
 * may still be sent, and the way back to the status page.
 */
export function ReplaceFilePage({
  submission,
  message,
  report,
  retry,
}: {
  submission: SubmissionRecord;
  message: string;
  /** The rejected file's report. */
  report?: ValidationReport | undefined;
  /** Whether another file may be sent now (not after the task changed state meanwhile). */
  retry: boolean;
}) {
  return (
    <Layout title="Replace the task file">
      <p>
        Submission <code>{submission.id}</code>, <q>{submission.title}</q>: file version {submission.fileVersion} is
        still the task's. <a href={statusPath(submission.id)}>Back to the status page</a>
      </p>
      <p class="notice bad" role="alert">
        {message}
      </p>
      {report ? <Report report={report} title="The new file's report" /> : null}
      {retry ? (
        <section aria-labelledby="retry-heading">
          <h2 id="retry-heading">Try another file</h2>
          <ReplaceFileForm submission={submission} />
        </section>
      ) : null}
    </Layout>
  );
}
