import { openAsBlob, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { fixedLabel } from "../analysis/labels";
import type { SlicesAnalysis } from "../generated/types";
import { declaredFileProblems, type DeclaredFile } from "../intake/file-roles";
import type { PromptTemplate } from "../validate/mwe/template";
import type { ValidationReport } from "../validate/report";
import {
  readFormatChoice,
  validateTaskStream,
  type FormatChoice,
  type TaskFileFormat,
  type TaskFileKind,
} from "../validate/task-file";
import { isFilesReport, type TaskReport } from "../validate/zip/files-report";
import { UsageError, parseCommandArgs, type CommandUsage } from "./args";
import { fileStream } from "./file-stream";
import { formatFilesReport, formatReport } from "./format-report";
import { formatSlices } from "./format-slices";
import { checkTaskFiles, declaredFiles, formatSubmittedFiles, isZip, type SubmittedFile } from "./submit-files";

export const SUBMIT_USAGE = `Usage: isv submit FILE... --url URL --meta METADATA.json [--role NAME=ROLE[:LABEL] ...] [--paired NAME ...]
                  [--format csv|mwe] [--type TYPE] [--title TEXT] [--no-wait]
       isv status ID --url URL --token TOKEN

submit checks FILE locally (as isv validate does), uploads it with its metadata, prints the submission's id and
submitter token (keep it: it is shown once), then shows each model's progress until evaluation ends and prints
the verdicts. FILE is a task CSV or a model-written evaluation (JSON Lines), told apart by its first bytes unless
--format (or the metadata's "format") says which; a model-written evaluation's prompt template and which way
its behaviour is good go in the metadata's "behaviour". status prints a submission's state, progress and verdicts
once, and for a submission of several files each slice's verdicts and the task − control differences.

Several files (a task in parts, a control, variants) go as one zip (FILE.zip, alone) or as several FILEs, each
sent under its base name. The metadata's "files" gives each its role (name, role part|control|variant, label,
paired); --role and --paired add to it or override it. Every file must have a role: a zip's or FILE's files are
checked with their roles as the service will check them, and nothing is sent while any has errors.
  --role NAME=ROLE[:LABEL]  NAME (a FILE as given, or a path inside the zip) is a part, a control or a variant
                            (a variant needs its LABEL: --role few.csv=variant:few-shot)
  --paired NAME             NAME's examples match the task's one to one, in order: its contrast is paired
Exit status: 0 done, 1 the files or the service refused them, 2 usage error or unreadable file.`;

const SUBMIT: CommandUsage = { prefix: "isv", usage: SUBMIT_USAGE };

interface SubmissionView {
  id: string;
  state: string;
  title: string;
  review?: { at: string; note: string } | null;
  submitterToken?: string;
  duplicate?: boolean;
  evaluations: {
    family: string;
    state: string;
    reason: string | null;
    models: {
      model: string;
      done: number;
      total: number;
      mean: number | null;
      standardError: number | null;
      flagged: Record<string, number>;
    }[];
  }[];
  /** The headline metric's verdicts (the one the task is judged on), then the secondary metrics'. */
  results: (MetricVerdicts & { secondary?: MetricVerdicts[] }) | null;
  /** A submission of several files: each file's role and range of examples. */
  files?: SubmittedFile[];
  /** Each slice's analysis and the task − control differences, once analysed (null before; absent for one file). */
  slices?: SlicesAnalysis | null;
}

interface MetricVerdicts {
  metric: string;
  /** direction_only: a behaviour task whose matching behaviour is neither desired nor undesired. */
  orientation?: "performance" | "direction_only";
  families: {
    family: string;
    /** What a line of a family of sizes x RLHF steps holds fixed. */
    fixed?: { parameters?: number; rlhfSteps?: number };
    verdict: string;
    /** The verdict in words: performance terms, or the direction only (matching behaviour "neither"). */
    words: string;
    /** One of the two: per decade on a log axis, per 1000 RLHF steps on a linear one. */
    slopePerDecade?: number;
    slopePer1000Steps?: number;
    slopeCi95: [number, number];
  }[];
}

const TERMINAL = ["evaluated", "partially_evaluated", "failed"];

const MEDIA_TYPES: Record<TaskFileKind, string> = {
  csv: "text/csv",
  jsonl: "application/jsonl",
  json_array: "application/json",
};

/** --format's value, checked: csv, mwe, or absent (the file decides). */
export function parseFormat(value: string | undefined, usage: CommandUsage): TaskFileFormat | undefined {
  if (value === undefined || value === "csv" || value === "mwe") return value;
  throw new UsageError(`--format takes csv or mwe, not ${JSON.stringify(value)}`, usage);
}

/**
 * The metadata's format, task type and behaviour settings, where they have the shapes the schema gives them (the
 * service checks the rest of the metadata; a wrongly shaped one of these is left for it to name).
 */
function formatFields(metadata: Record<string, unknown>): Parameters<typeof readFormatChoice>[0] {
  const { format, taskType, behaviour } = metadata;
  const fields: Parameters<typeof readFormatChoice>[0] = {};
  if (format === "csv" || format === "mwe") fields.format = format;
  if (typeof taskType === "string") fields.taskType = taskType;
  if (behaviour !== null && typeof behaviour === "object" && !Array.isArray(behaviour)) {
    const settings: Record<string, unknown> = { ...behaviour };
    const { matchingBehaviour, promptTemplate } = settings;
    fields.behaviour = {
      ...(matchingBehaviour === "undesired" || matchingBehaviour === "desired" || matchingBehaviour === "neither"
        ? { matchingBehaviour }
        : {}),
      ...(typeof promptTemplate === "string" ? { promptTemplate } : {}),
    };
  }
  return fields;
}

export async function submitCommand(
  args: string[],
  out: (text: string) => void,
  err: (text: string) => void,
  interactive: boolean,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(SUBMIT, {
    args,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      meta: { type: "string" },
      type: { type: "string" },
      format: { type: "string" },
      title: { type: "string" },
      role: { type: "string", multiple: true, default: [] },
      paired: { type: "string", multiple: true, default: [] },
      "no-wait": { type: "boolean", default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError("give a FILE", SUBMIT);
  if (positionals.length > 1 && positionals.some(isZip))
    throw new UsageError("a zip is sent alone: put every task file in it", SUBMIT);
  if (!values.url || !values.meta) throw new UsageError("--url and --meta are required", SUBMIT);
  const metadata = readMetadata(values.meta);
  if (values.type) metadata.taskType = values.type;
  if (values.title) metadata.title = values.title;
  const format = parseFormat(values.format, SUBMIT);
  if (format) metadata.format = format;
  const roles = values.role ?? [];
  const paired = values.paired ?? [];
  const [first] = positionals;
  const several =
    positionals.length > 1 ||
    (first !== undefined && isZip(first)) ||
    metadata.files !== undefined ||
    roles.length > 0 ||
    paired.length > 0;
  const files = several ? declaredFiles(metadata.files, { roles, paired, paths: positionals }, SUBMIT) : undefined;
  if (files) {
    metadata.files = files;
    const problems = declaredFileProblems(files);
    if (problems.length > 0) {
      err(
        `isv submit: the metadata's files have problems: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`,
      );
      return 1;
    }
  }

  // The same checks the service runs, before anything is sent: the metadata's format choices, then the files.
  const choice = readFormatChoice(formatFields(metadata));
  if (!choice.ok) {
    err(`isv submit: the metadata has problems: ${choice.fields.map((f) => `${f.field} ${f.message}`).join("; ")}`);
    return 1;
  }
  const checked = files
    ? await checkSeveral(positionals, files, metadata, choice.choice.template, out, err)
    : await checkOne(positionals[0] ?? "", metadata, choice.choice, out, err);
  if (!checked) return 1;

  const form = new FormData();
  form.append("metadata", JSON.stringify(metadata));
  for (const { path, type } of checked) form.append("file", await openAsBlob(path, { type }), basename(path));
  const response = await fetch(`${values.url.replace(/\/$/, "")}/v1/submissions`, { method: "POST", body: form });
  const body = (await response.json()) as SubmissionView & Refusal;
  if (!response.ok) {
    refused(body, response.status, first !== undefined && isZip(first) ? first : undefined, out, err);
    return 1;
  }
  if (body.duplicate) {
    // The service shows another submission's record only to its token's holder: the id is all there is here.
    out(`These exact bytes were submitted before, as ${body.id}; use the token you were given then.`);
    return 0;
  }
  out(`submission ${body.id}\nsubmitter token ${body.submitterToken} (shown only now: keep it)`);
  if (body.files) out(formatSubmittedFiles(body.files));
  if (values["no-wait"] || body.evaluations.length === 0) return 0;
  if (body.submitterToken === undefined) {
    err("isv submit: the service's answer has no submitter token, so the submission cannot be watched");
    return 1;
  }
  const final = await watch(values.url, body.id, body.submitterToken, out, interactive);
  out(describe(final));
  return 0;
}

/** The metadata file: a JSON object (the service checks every field; here the flags only have to add to it). */
function readMetadata(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new UsageError(`cannot read ${path} as JSON`, SUBMIT);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new UsageError(`${path} must hold a JSON object`, SUBMIT);
  return { ...parsed };
}

/** A file to send, checked: its path and media type. */
interface Checked {
  path: string;
  type: string;
}

/** One task file checked alone, as before several files existed; its report printed when it has errors. */
async function checkOne(
  file: string,
  metadata: Record<string, unknown>,
  choice: FormatChoice,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<Checked[] | undefined> {
  let report: ValidationReport;
  let kind: TaskFileKind;
  try {
    ({ report, kind } = await validateTaskStream(fileStream(file), {
      ...(typeof metadata.taskType === "string" ? { taskType: metadata.taskType } : {}),
      choice,
    }));
  } catch {
    throw new UsageError(`cannot read ${file}`, SUBMIT);
  }
  if (!report.valid) {
    out(formatReport(file, report));
    err("isv submit: the file has errors, so nothing was sent.");
    return undefined;
  }
  err(`isv: ${file} is valid (${report.stats.examples} examples); uploading...`);
  return [{ path: file, type: MEDIA_TYPES[kind] }];
}

/** A zip, or several files, checked with their roles; the files report printed when it has errors. */
async function checkSeveral(
  paths: readonly string[],
  files: readonly DeclaredFile[],
  metadata: Record<string, unknown>,
  template: PromptTemplate,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<Checked[] | undefined> {
  for (const path of paths) if (!isFile(path)) throw new UsageError(`cannot read ${path}`, SUBMIT);
  const [first] = paths;
  const zip = paths.length === 1 && first !== undefined && isZip(first) ? first : undefined;
  const report = await checkTaskFiles(
    paths,
    files,
    typeof metadata.taskType === "string" ? { taskType: metadata.taskType } : {},
    template,
    SUBMIT,
  );
  if (!report.valid) {
    out(formatFilesReport(zip, report));
    err("isv submit: the files have errors, so nothing was sent.");
    return undefined;
  }
  const examples = report.files.reduce((sum, file) => sum + file.report.stats.examples, 0);
  err(`isv: ${report.files.length} task files are valid (${examples} examples); uploading...`);
  if (zip) return [{ path: zip, type: "application/zip" }];
  return paths.map((path, index) => ({ path, type: MEDIA_TYPES[report.files[index]?.kind ?? "csv"] }));
}

/** What a refusal carries besides its title: the problem's code and detail, and the report or the fields. */
interface Refusal {
  code?: string;
  detail?: string;
  report?: TaskReport;
  fields?: { field: string; message: string }[];
}

/** The service's refusal: its code and detail, then the report it gives (per file for several) or the fields. */
function refused(
  body: Refusal,
  status: number,
  zip: string | undefined,
  out: (text: string) => void,
  err: (text: string) => void,
): void {
  if (body.report)
    out(isFilesReport(body.report) ? formatFilesReport(zip, body.report) : formatReport("file", body.report));
  for (const field of body.fields ?? []) out(`  ${field.field}: ${field.message}`);
  err(`isv submit: the service refused the submission (${status} ${body.code ?? ""}): ${body.detail ?? ""}`);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function statusCommand(args: string[], out: (text: string) => void): Promise<number> {
  const parsed = parseCommandArgs(SUBMIT, {
    args,
    allowPositionals: true,
    options: { url: { type: "string" }, token: { type: "string" } },
  });
  const [id] = parsed.positionals;
  if (!id || !parsed.values.url || !parsed.values.token) throw new UsageError("give ID, --url and --token", SUBMIT);
  const response = await fetch(`${parsed.values.url.replace(/\/$/, "")}/v1/submissions/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${parsed.values.token}` },
  });
  const body = (await response.json()) as SubmissionView & { detail?: string };
  if (!response.ok) {
    out(`isv status: ${response.status}: ${body.detail ?? ""}`);
    return 1;
  }
  out(`${progressLines(body).join("\n")}\n${describe(body)}`);
  return 0;
}

/** Polls until every evaluation has ended, redrawing one progress bar per model. */
async function watch(
  url: string,
  id: string,
  token: string,
  out: (text: string) => void,
  interactive: boolean,
): Promise<SubmissionView> {
  let drawn = 0;
  let last = "";
  let endedAt: number | undefined;
  for (;;) {
    const view = (await (
      await fetch(`${url.replace(/\/$/, "")}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as SubmissionView;
    const lines = progressLines(view);
    const text = lines.join("\n");
    if (interactive) {
      if (drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
      process.stdout.write(`${text}\n`);
      drawn = lines.length;
    } else if (text !== last) {
      out(text);
    }
    last = text;
    const ended = view.evaluations.every((evaluation) => TERMINAL.includes(evaluation.state));
    const scored = view.evaluations.some(
      (evaluation) => evaluation.state !== "failed" && evaluation.models.some((model) => model.mean !== null),
    );
    // An ended evaluation is already analysed; the short grace covers a service older than that guarantee.
    if (ended) {
      endedAt ??= Date.now();
      if (view.results !== null || !scored || Date.now() - endedAt > 30_000) return view;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function progressLines(view: SubmissionView): string[] {
  const lines: string[] = [];
  for (const evaluation of view.evaluations) {
    lines.push(`${evaluation.family}: ${evaluation.state}${evaluation.reason ? ` (${evaluation.reason})` : ""}`);
    for (const model of evaluation.models) {
      const width = 30;
      const filled = model.total === 0 ? width : Math.round((model.done / model.total) * width);
      const mean =
        model.mean === null
          ? ""
          : `  mean ${model.mean.toFixed(3)}${model.standardError === null ? "" : ` ± ${model.standardError.toFixed(3)}`}`;
      const flagged = Object.entries(model.flagged ?? {})
        .map(([flag, count]) => `${flag} ${count}`)
        .join(", ");
      lines.push(
        `  ${model.model.padEnd(16)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(model.done).padStart(5)}/${model.total}${mean}${flagged ? `  (excluded: ${flagged})` : ""}`,
      );
    }
  }
  return lines;
}

function describe(view: SubmissionView): string {
  const lines = (results: MetricVerdicts): string[] =>
    results.families.map(
      (family) =>
        `  ${family.fixed ? `${family.family}, ${fixedLabel(family.fixed)}` : family.family}: ${results.orientation === "direction_only" ? family.words : family.verdict.replace("_", "-")} (slope ${slopeText(family)}, 95% CI ${family.slopeCi95[0].toFixed(3)} to ${family.slopeCi95[1].toFixed(3)})`,
    );
  const verdicts = view.results ? lines(view.results) : [];
  const secondary = (view.results?.secondary ?? [])
    .filter((results) => results.families.length > 0)
    .map((results) => `secondary, on ${results.metric}:\n${lines(results).join("\n")}`);
  return [
    `state: ${view.state}`,
    ...(view.review
      ? [
          `review (${view.review.at}): ${view.review.note}${view.state === "changes_requested" ? "\n  edit the metadata or replace the file (PUT /v1/submissions/ID/file) to send it back to review" : ""}`,
        ]
      : []),
    view.results && verdicts.length
      ? `verdicts on ${view.results.metric} (the headline metric):\n${verdicts.join("\n")}`
      : view.evaluations.length > 0 && view.evaluations.every((evaluation) => TERMINAL.includes(evaluation.state))
        ? "no verdict: too few examples were scored to fit a trend (see the exclusions above)"
        : "no verdict yet",
    ...(verdicts.length ? secondary : []),
    ...(view.slices ? [formatSlices(view.slices)] : []),
    `plot: /v1/submissions/${view.id}/plot.svg (public once the task is accepted)`,
  ].join("\n");
}

function slopeText(family: MetricVerdicts["families"][number]): string {
  if (family.slopePer1000Steps !== undefined) return `${family.slopePer1000Steps.toFixed(3)} per 1000 RLHF steps`;
  return `${(family.slopePerDecade ?? Number.NaN).toFixed(3)} per decade`;
}
