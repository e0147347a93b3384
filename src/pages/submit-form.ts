import type { SubmissionMetadata } from "../generated/types";
import { validateSubmissionMetadata } from "../generated/validators";
import { schemaErrorsToFields } from "../http/schema-errors";
import { DEFAULT_BEHAVIOUR } from "../validate/task-file";
import type { FieldErrors } from "./components";

/*
 * The submit page's form and the metadata it stands for. Each control is named for its metadata field (authors by
 * row: author_name_0, author_affiliation_0, author_named_0), so the schema's complaints land on the right control.
 */

/** The form as sent: each control's value by name (a checkbox is present only when ticked). */
export type FormValues = ReadonlyMap<string, string>;

/** Author rows shown on a blank form; "More authors" adds one at a time, up to the schema's limit. */
export const MIN_AUTHOR_ROWS = 3;
export const MAX_AUTHOR_ROWS = 50;

/** Rows for the files of a submission of several; "Add a file row" adds one at a time, up to a zip's entries. */
export const MIN_FILE_ROWS = 3;
export const MAX_FILE_ROWS = 32;

/** The roles a file may have, as the form offers them. */
export const FILE_ROLES = ["part", "control", "variant"] as const;

/** The single-line and free-text fields, in the form's order, with how the form labels them. */
export const TEXT_FIELDS = {
  title: "Title",
  contactEmail: "Contact email",
  description: "What the task tests",
  whyItMatters: "Why doing well matters",
  expectedInverseScaling: "Why larger models should do worse",
  correctBehaviour: "What a model should do",
  dataGeneration: "How the examples were made",
  sources: "Sources",
  dataLicence: "Data licence",
} as const satisfies Partial<Record<keyof SubmissionMetadata, string>>;

type TextField = keyof typeof TEXT_FIELDS;

/** Labels of every control an error can name, for the error summary's links. */
export function controlLabels(authorRows: number): Map<string, string> {
  const labels = new Map<string, string>(Object.entries(TEXT_FIELDS));
  labels.set("taskType", "Task type").set("format", "Format").set("file", "Task file");
  labels.set("matchingBehaviour", "Matching behaviour").set("promptTemplate", "Prompt template");
  for (let row = 0; row < authorRows; row++) {
    labels.set(`author_name_${row}`, `Author ${row + 1} name`);
    labels.set(`author_affiliation_${row}`, `Author ${row + 1} affiliation`);
  }
  for (let row = 0; row < MAX_FILE_ROWS; row++) {
    labels.set(`file_name_${row}`, `File ${row + 1} name`);
    labels.set(`file_role_${row}`, `File ${row + 1} role`);
    labels.set(`file_label_${row}`, `File ${row + 1} label`);
  }
  return labels;
}

/** How many file rows to show: every row that was sent, and at least MIN_FILE_ROWS. */
export function fileRowsOf(values: FormValues, extra = 0): number {
  return rowsOf(values, /^file_(?:name|role|label|paired)_(\d+)$/, MIN_FILE_ROWS, MAX_FILE_ROWS, extra);
}

/** How many author rows to show: every row that was sent, and at least MIN_AUTHOR_ROWS. */
export function authorRowsOf(values: FormValues, extra = 0): number {
  return rowsOf(values, /^author_(?:name|affiliation|named)_(\d+)$/, MIN_AUTHOR_ROWS, MAX_AUTHOR_ROWS, extra);
}

/** The rows of a repeated group of controls (`pattern` captures the row) to show, `extra` more, within bounds. */
function rowsOf(values: FormValues, pattern: RegExp, least: number, most: number, extra: number): number {
  let rows = least;
  for (const name of values.keys()) {
    const match = pattern.exec(name);
    if (match) rows = Math.max(rows, Number(match[1]) + 1);
  }
  return Math.min(most, rows + extra);
}

/** Browsers send a textarea's line breaks as CRLF; the metadata keeps the LF the API's clients send. */
const lf = (text: string): string => text.replace(/\r\n?/g, "\n");

/** A control's value with its surrounding space trimmed, or undefined when nothing is left. */
function given(values: FormValues, name: string): string | undefined {
  const value = lf(values.get(name) ?? "").trim();
  return value === "" ? undefined : value;
}

export type FormMetadata = { ok: true; metadata: SubmissionMetadata } | { ok: false; errors: FieldErrors };

/**
 * The metadata the form describes, checked against the metadata schema: or each problem on the control it
 * concerns. Empty author rows are left out; a row with an affiliation but no name is a problem of that row.
 */
export function metadataFromForm(values: FormValues): FormMetadata {
  const errors = new Map<string, string>();
  const authors: SubmissionMetadata["authors"][number][] = [];
  /** The form row each listed author came from, for errors the schema reports by list position. */
  const rowOfAuthor: number[] = [];
  for (let row = 0; row < authorRowsOf(values); row++) {
    const name = given(values, `author_name_${row}`);
    const affiliation = given(values, `author_affiliation_${row}`);
    const named = values.has(`author_named_${row}`);
    if (name === undefined) {
      if (affiliation !== undefined || named)
        errors.set(`author_name_${row}`, "Give this author's name, or clear the row.");
      continue;
    }
    authors.push({ name, ...(affiliation ? { affiliation } : {}), agreesToBeNamed: named });
    rowOfAuthor.push(row);
  }
  const candidate: Record<string, unknown> = { authors };
  for (const field of Object.keys(TEXT_FIELDS) as TextField[]) {
    if (field === "sources") continue;
    const value = given(values, field);
    if (value !== undefined) candidate[field] = value;
  }
  const sources = lf(values.get("sources") ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  if (sources.length > 0) candidate.sources = sources;
  const taskType = given(values, "taskType");
  const format = given(values, "format");
  if (taskType !== undefined) candidate.taskType = taskType;
  if (format !== undefined) candidate.format = format;
  // The behaviour settings apply to a model-written evaluation only: sent with a CSV, they would be refused.
  if (format === "mwe" || taskType === "behaviour") candidate.behaviour = behaviourFrom(values);
  const { files, rowOfFile } = filesFrom(values);
  // A row with a label or a pairing but no name would be dropped with what was typed in it: said on its name.
  for (let row = 0; row < fileRowsOf(values); row++)
    if (
      given(values, `file_name_${row}`) === undefined &&
      (given(values, `file_label_${row}`) || values.has(`file_paired_${row}`))
    )
      errors.set(`file_name_${row}`, "Give this file's name, or clear the row.");
  if (files.length > 0) candidate.files = files;
  if (validateSubmissionMetadata(candidate) && errors.size === 0) return { ok: true, metadata: candidate };
  const problems = schemaErrorsToFields(validateSubmissionMetadata.errors ?? []);
  return { ok: false, errors: new Map([...fieldErrorsOf(problems, { rowOfAuthor, rowOfFile }), ...errors]) };
}

/** The form row each listed author and each listed file came from (rows left empty are not listed). */
export interface ListedRows {
  rowOfAuthor?: readonly number[];
  rowOfFile?: readonly number[];
}

/**
 * Metadata problems (the schema's, or the intake's refusals of a format choice or of the files' roles) on the
 * controls they concern, one each, as sentences. `rows` gives the form row of each listed author and file.
 */
export function fieldErrorsOf(
  problems: readonly { field: string; message: string }[],
  rows: ListedRows = {},
): Map<string, string> {
  const errors = new Map<string, string>();
  for (const problem of problems) {
    const control = controlOf(problem.field, rows);
    if (!errors.has(control)) errors.set(control, sentence(problem.message));
  }
  return errors;
}

/** The files' roles as the form's rows give them, rows without a name left out, and the row of each. */
export function filesFrom(values: FormValues): { files: Record<string, unknown>[]; rowOfFile: number[] } {
  const files: Record<string, unknown>[] = [];
  const rowOfFile: number[] = [];
  for (let row = 0; row < fileRowsOf(values); row++) {
    const name = given(values, `file_name_${row}`);
    if (name === undefined) continue;
    rowOfFile.push(row);
    const label = given(values, `file_label_${row}`);
    files.push({
      name,
      role: values.get(`file_role_${row}`) ?? "part",
      ...(label !== undefined && { label }),
      ...(values.has(`file_paired_${row}`) && { paired: true }),
    });
  }
  return { files, rowOfFile };
}

/** The behaviour settings as the form gives them; the template exactly as typed (its spaces are part of it). */
function behaviourFrom(values: FormValues): NonNullable<SubmissionMetadata["behaviour"]> {
  const template = lf(values.get("promptTemplate") ?? "");
  const matching = values.get("matchingBehaviour");
  return {
    matchingBehaviour:
      matching === "desired" || matching === "neither" || matching === "undesired"
        ? matching
        : DEFAULT_BEHAVIOUR.matchingBehaviour,
    promptTemplate: template.trim() === "" ? DEFAULT_BEHAVIOUR.promptTemplate : template,
  };
}

/**
 * The control a metadata field path names (as schemaErrorsToFields and the intake write them): authors and files
 * by their form row, behaviour settings and sources by their own control, the list of authors as a whole by the first row.
 */
function controlOf(field: string, { rowOfAuthor = [], rowOfFile = [] }: ListedRows): string {
  const author = /^authors\[(\d+)\]\.(name|affiliation|agreesToBeNamed)$/.exec(field);
  if (author) {
    const row = rowOfAuthor[Number(author[1])] ?? Number(author[1]);
    return `author_${author[2] === "affiliation" ? "affiliation" : "name"}_${row}`;
  }
  if (field === "authors" || field.startsWith("authors")) return "author_name_0";
  const file = /^files\[(\d+)\]\.(name|role|label|paired)$/.exec(field);
  if (file) {
    // A paired checkbox shows no error of its own: its row's role says it.
    const row = rowOfFile[Number(file[1])] ?? Number(file[1]);
    return `file_${file[2] === "paired" ? "role" : file[2]}_${row}`;
  }
  if (field.startsWith("files")) return "file_name_0";
  if (field.startsWith("behaviour.")) return field.slice("behaviour.".length);
  if (field === "behaviour") return "format";
  if (field.startsWith("sources")) return "sources";
  return field;
}

/** A schema message ("must NOT have fewer than 3 characters") as a sentence for people. */
function sentence(message: string): string {
  const text = message
    .replace(/^must NOT have fewer than (\d+) characters$/, "must be at least $1 characters long")
    .replace(/^must NOT have more than (\d+) characters$/, "must be at most $1 characters long")
    .replace(/^must NOT have fewer than 1 items$/, "is required: give at least one author");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** The form's values for stored metadata, to prefill the edit form (the inverse of metadataFromForm). */
export function formValuesOf(metadata: SubmissionMetadata): FormValues {
  const values = new Map<string, string>();
  for (const field of Object.keys(TEXT_FIELDS) as TextField[]) {
    if (field === "sources") continue;
    const value = metadata[field];
    if (value !== undefined) values.set(field, value);
  }
  if (metadata.sources && metadata.sources.length > 0) values.set("sources", metadata.sources.join("\n"));
  metadata.authors.forEach((author, row) => {
    values.set(`author_name_${row}`, author.name);
    if (author.affiliation !== undefined) values.set(`author_affiliation_${row}`, author.affiliation);
    if (author.agreesToBeNamed) values.set(`author_named_${row}`, "yes");
  });
  return values;
}
