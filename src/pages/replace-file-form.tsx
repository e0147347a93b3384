import type { TaskReport } from "../validate/zip/files-report";
import type { SubmissionRecord } from "../storage/submissions";
import { Field } from "./components";
import { Layout } from "./layout";
import { Report } from "./report";
import { statusPath } from "./submitter-session";

/** The replace page (GET) and where its form posts (POST). */
export const replaceFilePath = (id: string): string => `${statusPath(id)}/file`;

/**
 * The files a task takes: a task of several files, a zip of them; a behaviour task's stays a model-written
 * evaluation; any other task's a CSV.
 */
function acceptedFiles({ taskType, metadata }: SubmissionRecord): { accept: string; hint: string } {
  if (metadata.files)
    return {
      accept: ".zip,application/zip",
      hint: `A zip of the files the task names (${metadata.files.map((file) => file.name).join(", ")}), in the same roles.`,
    };
  return taskType === "behaviour"
    ? {
        accept: ".jsonl,.json,application/jsonl,application/json",
        hint: "A model-written evaluation in JSON Lines, checked with the task's format and prompt template.",
      }
    : { accept: ".csv,text/csv", hint: `A task CSV of type ${taskType}, checked as an upload is.` };
}

/**
 * The form for a new task file (the API's PUT /v1/submissions/{id}/file): only the file, sent as multipart so that
 * it streams. A plain submit button; cross-site posts are refused by the route (Origin).
 */
function ReplaceFileForm({ submission }: { submission: SubmissionRecord }) {
  const { accept, hint } = acceptedFiles(submission);
  return (
    <form method="post" action={replaceFilePath(submission.id)} enctype="multipart/form-data">
      <Field kind="file" name="file" label="New task file" required accept={accept} hint={hint} />
      <p>
        <button type="submit">Replace the file</button>
      </p>
    </form>
  );
}

/** Why a replacement changed nothing: a message, the rejected file's report, and whether another may be sent. */
export interface Refusal {
  message: string;
  report?: TaskReport | undefined;
  /** Whether another file may be sent now (not after the task changed state meanwhile). */
  retry: boolean;
}

/**
 * The page of its own where the task file is replaced, linked from the status page while the task is editable: not
 * a form on the status page, which reloads itself while an evaluation runs and would clear the file chosen. A
 * replacement that changed nothing comes back here too, saying why (the report inline), with the form again when
 * another file may still be sent.
 */
export function ReplaceFilePage({ submission, refusal }: { submission: SubmissionRecord; refusal?: Refusal }) {
  return (
    <Layout title="Replace the task file">
      <p>
        Submission <code>{submission.id}</code>, <q>{submission.title}</q>: file version {submission.fileVersion} is
        {refusal ? " still" : ""} the task's. <a href={statusPath(submission.id)}>Back to the status page</a>
      </p>
      {refusal ? <RefusalNotice refusal={refusal} /> : null}
      {refusal === undefined || refusal.retry ? (
        <section aria-labelledby="replace-heading">
          <h2 id="replace-heading">{refusal ? "Try another file" : "The new file"}</h2>
          <p>
            The new file is checked at once; a file with errors changes nothing. Once it is in place the task is
            evaluated afresh, and its earlier files are kept.
          </p>
          <ReplaceFileForm submission={submission} />
        </section>
      ) : null}
    </Layout>
  );
}

function RefusalNotice({ refusal }: { refusal: Refusal }) {
  return (
    <>
      <p class="notice bad" role="alert">
        {refusal.message}
      </p>
      {refusal.report ? <Report report={refusal.report} title="The new file's report" /> : null}
    </>
  );
}
