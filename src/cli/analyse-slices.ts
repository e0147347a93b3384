/**
 * `isv analyse` of a submission of several files, offline: each slice (the task, its parts, each control and
 * variant) analysed on the headline metric and the task's slope compared with each control's and variant's, with
 * the code the service runs (src/review/slice-analyses.ts): the same analyses of sliced results (sliceResults) and
 * the same slope difference (slopeDifference, DEFAULT_SLOPE_DIFFERENCE_OPTIONS). Two ways in: a results directory
 * per file (one RESULT.csv per model in each), joined here into the one list the service evaluates; or results
 * over that one list with the files' ranges (--files, the review desk's `files`).
 */
import { sliceContrasts } from "../analysis/slice-contrasts";
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { analyseMetrics, type Analysis, type FamilyResults } from "../analysis/analyse";
import { analyseBehaviour, chooseBehaviourMetric } from "../analysis/behaviour";
import { chooseMetric, headlineMetricName, type MetricDefinition } from "../analysis/metrics";
import { RESULT_COLUMNS } from "../analysis/results-columns";
import { parseResultsCsv, type ModelResults } from "../analysis/results-csv";
import type { SliceEntry, SlicesAnalysis } from "../analysis/slices-analysis";
import { exampleRange, sliceFamilyResults } from "../analysis/slices";
import { ANALYSIS_CODE_VERSION, DEFAULT_OPTIONS } from "../analysis/statistics";
import type { MatchingBehaviour } from "../analysis/behaviour";
import {
  ANALYSE,
  ANALYSE_OPTIONS,
  inferType,
  isFile,
  linesToAnalyse,
  matchingFor,
  readText,
  resolveFamily,
  taskTypeFor,
  wholeNumber,
  type AnalysedType,
} from "./analyse-command";
import { UsageError, parseCommandArgs } from "./args";
import { formatSlices } from "./format-slices";

/** Whether `isv analyse` was asked for slices: by a results directory per file, or a description of the files. */
export const asksForSlices = (args: readonly string[]): boolean =>
  args.some((arg) => /^--(task|control|variant|files)(=|$)/.test(arg));

type FileRole = "part" | "control" | "variant";

/** A file of the submission: its results by model (form 1), or its range in the one list (form 2). */
interface FileSlice {
  role: FileRole;
  /** How the slice is shown: a variant's label, else its file (or directory) name. */
  name: string;
  /** The file (or results directory) it is, as the service's slices name a slice's file. */
  file: string;
  label?: string;
  paired: boolean;
  taskType: AnalysedType;
  indices: number[];
}

/** One model's results over the whole list of examples, files one after another. */
interface ModelRow {
  id: string;
  results: ModelResults;
}

export function analyseSlicesCommand(args: string[], out: (text: string) => void, err: (text: string) => void): number {
  const { values, positionals } = parseCommandArgs(ANALYSE, {
    args,
    allowPositionals: true,
    options: {
      task: { type: "string", multiple: true, default: [] },
      control: { type: "string", multiple: true, default: [] },
      variant: { type: "string", multiple: true, default: [] },
      paired: { type: "boolean", default: false },
      files: { type: "string" },
      ...ANALYSE_OPTIONS,
    },
  });
  const seed = wholeNumber(values.seed, DEFAULT_OPTIONS.seed, "--seed");
  const samples = wholeNumber(values.samples, DEFAULT_OPTIONS.bootstrapSamples, "--samples");
  if (samples < 100) throw new UsageError("--samples must be at least 100", ANALYSE);
  const read =
    values.files === undefined
      ? readDirectories(
          {
            task: values.task ?? [],
            control: values.control ?? [],
            variant: values.variant ?? [],
            positionals,
            paired: values.paired ?? false,
          },
          values,
          err,
        )
      : readWholeList(values.files, positionals, values, err);
  const { taskType, metric, matching, models, files } = read;
  const { lines } = linesToAnalyse(
    resolveFamily(
      values.family,
      models.map((model) => model.id),
    ),
    models,
    values.scale ?? [],
    values.axis,
    err,
  );
  const options = { ...DEFAULT_OPTIONS, seed, bootstrapSamples: samples };
  const analysis = analyseSlices({ taskType, metric, matching, lines, files }, options);
  out(values.json ? JSON.stringify(analysis, null, 2) : formatSlices(analysis));
  return 0;
}

interface SliceOptions {
  type?: string | undefined;
  metric?: string | undefined;
  matching?: string | undefined;
}

/** What both forms read: the task's type and metric, every model's results over the one list, and the files. */
interface ReadSlices {
  taskType: AnalysedType;
  metric: MetricDefinition;
  matching: MatchingBehaviour | undefined;
  models: ModelRow[];
  files: FileSlice[];
}

/** The task's type (--type, or its first results file's columns) and the metric every slice is analysed on. */
function taskMetric(
  options: SliceOptions,
  firstText: string,
): { taskType: AnalysedType; metric: MetricDefinition; matching: MatchingBehaviour | undefined } {
  const { taskType, declared } = taskTypeFor(options.type, options.metric, firstText);
  const matching = matchingFor(options.matching, taskType);
  const name = options.metric ?? headlineMetricName(taskType, declared);
  const chosen = matching ? chooseBehaviourMetric(name, matching) : chooseMetric(taskType, name);
  if (!chosen.ok) throw new UsageError(chosen.message, ANALYSE);
  return { taskType, metric: chosen.metric, matching };
}

/**
 * Form 1: a results directory per file (--task for each part, or the RESULT.csv files of one part; --control;
 * --variant LABEL=DIR), joined in that order into one list of examples per model, as intake joins the files.
 */
function readDirectories(
  given: { task: string[]; control: string[]; variant: string[]; positionals: string[]; paired: boolean },
  options: SliceOptions,
  err: (text: string) => void,
): ReadSlices {
  if (given.task.length > 0 && given.positionals.length > 0)
    throw new UsageError("give the task as --task DIR or as RESULT.csv files, not both", ANALYSE);
  const parts =
    given.task.length > 0
      ? given.task.map((dir) => ({ role: "part" as const, name: basename(dir), paths: resultsIn(dir) }))
      : [{ role: "part" as const, name: "the task", paths: given.positionals }];
  const others = [
    ...given.control.map((dir) => ({ role: "control" as const, name: basename(dir), paths: resultsIn(dir) })),
    ...given.variant.map((assignment) => {
      const [label, dir] = splitAssignment(assignment, "--variant", "LABEL=DIR");
      return { role: "variant" as const, name: label, file: basename(dir), label, paths: resultsIn(dir) };
    }),
  ];
  if (parts.length < 2 && others.length === 0)
    throw new UsageError("give a --control or --variant to compare with, or two --task parts", ANALYSE);
  const declared = [...parts, ...others];
  for (const file of declared) {
    if (file.paths.length < 2) throw new UsageError(`${file.name}: give at least two models' results`, ANALYSE);
    for (const path of file.paths) if (!isFile(path)) throw new UsageError(`cannot read ${path}`, ANALYSE);
  }
  const [firstPath] = declared[0]?.paths ?? [];
  if (firstPath === undefined) throw new Error("every file was checked to have results");
  const task = taskMetric(options, readText(firstPath));
  const read = declared.map((file) => {
    const [first] = file.paths;
    const taskType = file.role === "part" || first === undefined ? task.taskType : otherType(task.taskType, first);
    return { ...file, taskType, models: file.paths.map((path) => parsed(path, taskType, err)) };
  });
  const { models, ranges } = joinFiles(read.map((file) => file.models));
  const files = read.map((file, index) => ({
    role: file.role,
    name: file.name,
    file: "file" in file ? file.file : file.name,
    ...("label" in file && { label: file.label }),
    paired: file.role !== "part" && given.paired,
    taskType: file.taskType,
    indices: ranges[index] ?? [],
  }));
  return { ...task, models, files };
}

/**
 * Form 2: each model's results over the whole submission (the one list intake made), and the files' roles and
 * ranges: a JSON array of { name, role, label?, paired?, firstExample, examples }, or an object with such `files`
 * (GET /v1/review/submissions/{id}).
 */
function readWholeList(
  describedIn: string,
  positionals: string[],
  options: SliceOptions,
  err: (text: string) => void,
): ReadSlices {
  if (positionals.length < 2) throw new UsageError("give at least two RESULT.csv files, one per model", ANALYSE);
  for (const path of positionals) if (!isFile(path)) throw new UsageError(`cannot read ${path}`, ANALYSE);
  const [firstPath = ""] = positionals;
  const task = taskMetric(options, readText(firstPath));
  const described = describedFiles(describedIn);
  const length = Math.max(...described.map((file) => file.firstExample + file.examples));
  const models = positionals.map((path) => {
    const { id, results } = parsed(path, task.taskType, err);
    return { id, results: padded(results, length) };
  });
  const files = described.map((file) => ({
    role: file.role,
    name: file.role === "variant" && file.label !== undefined ? file.label : file.name,
    file: file.name,
    ...(file.label !== undefined && { label: file.label }),
    paired: file.paired,
    taskType: task.taskType,
    indices: exampleRange(file.firstExample, file.examples),
  }));
  return { ...task, models, files };
}

interface DescribedFile {
  name: string;
  role: FileRole;
  label?: string;
  paired: boolean;
  firstExample: number;
  examples: number;
}

function describedFiles(path: string): DescribedFile[] {
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(readText(path));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--files ${path}: not valid JSON`, ANALYSE);
  }
  const list = isRecord(parsedJson) && !Array.isArray(parsedJson) ? parsedJson.files : parsedJson;
  if (!Array.isArray(list) || list.length === 0)
    throw new UsageError(`--files ${path}: give a list of files, or an object with one as "files"`, ANALYSE);
  const files = list.map((entry, index) => describedFile(entry, `--files ${path}: files[${index}]`));
  if (!files.some((file) => file.role === "part"))
    throw new UsageError(`--files ${path}: no file is a part, so there is no task`, ANALYSE);
  return files;
}

function describedFile(entry: unknown, where: string): DescribedFile {
  if (!isRecord(entry)) throw new UsageError(`${where} is not an object`, ANALYSE);
  const { name, role, label, paired, firstExample, examples } = entry;
  const count = (value: unknown): value is number => Number.isSafeInteger(value) && Number(value) >= 0;
  if (typeof name !== "string" || (role !== "part" && role !== "control" && role !== "variant"))
    throw new UsageError(`${where} needs a name and a role (part, control or variant)`, ANALYSE);
  if (!count(firstExample) || !count(examples))
    throw new UsageError(`${where} needs firstExample and examples, whole numbers`, ANALYSE);
  if (label !== undefined && typeof label !== "string") throw new UsageError(`${where}: label is text`, ANALYSE);
  return {
    name,
    role,
    ...(label !== undefined && { label }),
    paired: paired === true,
    firstExample,
    examples,
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object";

/**
 * A control's or variant's results are read as the type their columns show, unless the task's type has the same
 * columns (logodds and absolute_logodds; classification and its aliases): then as the task's.
 */
function otherType(taskType: AnalysedType, path: string): AnalysedType {
  const own = inferType(readText(path));
  return RESULT_COLUMNS[own].join() === RESULT_COLUMNS[taskType].join() ? taskType : own;
}

function resultsIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new UsageError(`cannot read the directory ${dir}`, ANALYSE);
  }
  return names
    .filter((name) => name.toLowerCase().endsWith(".csv"))
    .sort()
    .map((name) => join(dir, name));
}

function splitAssignment(text: string, flag: string, shape: string): [string, string] {
  const at = text.indexOf("=");
  const [name, value] = [text.slice(0, at), text.slice(at + 1)];
  if (at <= 0 || value === "") throw new UsageError(`${flag} takes ${shape}; got "${text}"`, ANALYSE);
  return [name, value];
}

function parsed(path: string, taskType: AnalysedType, err: (text: string) => void): ModelRow {
  const results = parseResultsCsv(readText(path), taskType);
  if (!results.ok) throw new UsageError(`${path}: ${results.problems.join("; ")}`, ANALYSE);
  for (const warning of results.warnings) err(`warning: ${path}: ${warning}`);
  return { id: basename(path).replace(/\.csv$/i, ""), results: results.results };
}

/**
 * The files' results joined per model, one file after another: each file as long as its longest model's results,
 * a model without results in a file (or a column it lacks) NaN there, as a missing example is. Each file's range
 * of indices in the joined list.
 */
function joinFiles(files: readonly (readonly ModelRow[])[]): { models: ModelRow[]; ranges: number[][] } {
  const lengths = files.map((models) => Math.max(0, ...models.map((model) => model.results.rows)));
  const starts = lengths.map((_, index) => lengths.slice(0, index).reduce((sum, length) => sum + length, 0));
  const total = lengths.reduce((sum, length) => sum + length, 0);
  const ids = [...new Set(files.flatMap((models) => models.map((model) => model.id)))];
  const models = ids.map((id) => {
    const columns = new Map<string, Float64Array>();
    let unsigned = false;
    for (const [index, file] of files.entries()) {
      const results = file.find((model) => model.id === id)?.results;
      if (!results) continue;
      unsigned ||= results.unsignedLogodds === true;
      for (const [name, column] of Object.entries(results.columns)) {
        const joined = columns.get(name) ?? new Float64Array(total).fill(Number.NaN);
        joined.set(column.subarray(0, lengths[index]), starts[index]);
        columns.set(name, joined);
      }
    }
    const results: ModelResults = { columns: Object.fromEntries(columns), rows: total };
    return { id, results: unsigned ? { ...results, unsignedLogodds: true as const } : results };
  });
  return { models, ranges: lengths.map((length, index) => exampleRange(starts[index] ?? 0, length)) };
}

/** Results made as long as the files describe (NaN after a model's last row), so every file's range is inside. */
function padded(results: ModelResults, length: number): ModelResults {
  if (results.rows >= length) return results;
  const columns = Object.fromEntries(
    Object.entries(results.columns).map(([name, column]) => {
      const longer = new Float64Array(length).fill(Number.NaN);
      longer.set(column);
      return [name, longer];
    }),
  );
  return { ...results, columns, rows: length };
}

/**
 * The slices and contrasts, as src/review/slice-analyses.ts makes them: the task (its parts together), each part
 * when there are several, each control and variant, analysed on the metric; then per control or variant and line,
 * the task's slope minus theirs (paired when the file is marked so). Groups are not slices here: results files
 * carry no group column.
 */
function analyseSlices(
  input: {
    taskType: AnalysedType;
    metric: MetricDefinition;
    matching: MatchingBehaviour | undefined;
    lines: FamilyResults[];
    files: FileSlice[];
  },
  options: typeof DEFAULT_OPTIONS,
): SlicesAnalysis {
  const { taskType, metric, matching, lines, files } = input;
  const parts = files.filter((file) => file.role === "part");
  const task: FileSlice & { kind: SliceEntry["kind"] } = {
    kind: "task",
    role: "part",
    name: "the task",
    file: "the task",
    paired: false,
    taskType,
    indices: parts.flatMap((file) => file.indices),
  };
  const slices: (FileSlice & { kind: SliceEntry["kind"] })[] = [
    task,
    ...files.filter((file) => file.role !== "part" || parts.length > 1).map((file) => ({ ...file, kind: file.role })),
  ];
  const analysed = slices.map((slice) => {
    const sliced = sliceFamilyResults(lines, slice.indices);
    return { slice, lines: sliced, ...analyseSlice(slice.taskType, metric, matching, sliced, options) };
  });
  const [whole, ...others] = analysed;
  const compared = ({ slice, lines: sliced }: (typeof analysed)[number]) => ({
    kind: slice.kind,
    name: slice.name,
    paired: slice.paired,
    lines: sliced,
  });
  const { contrasts, uncompared } = whole
    ? sliceContrasts(compared(whole), others.map(compared), metric, matching, options)
    : { contrasts: [], uncompared: [] };
  return {
    schemaVersion: 1,
    codeVersion: ANALYSIS_CODE_VERSION,
    metric: metric.name,
    slices: analysed.map(({ slice, analysis, reason }) => ({
      kind: slice.kind,
      name: slice.name,
      ...(slice.kind !== "task" && { file: slice.file }),
      ...(slice.label !== undefined && { label: slice.label }),
      taskType: slice.taskType,
      examples: slice.indices.length,
      ...(analysis ? { analysis } : { reason }),
    })),
    contrasts,
    uncompared,
  };
}

/** One slice's analysis on the metric (as the slice's own type reads it), or why it has none. */
function analyseSlice(
  sliceType: AnalysedType,
  metric: MetricDefinition,
  matching: MatchingBehaviour | undefined,
  lines: FamilyResults[],
  options: typeof DEFAULT_OPTIONS,
): { analysis?: Analysis; reason: string } {
  const chosen = matching ? { ok: true as const, metric } : chooseMetric(sliceType, metric.name);
  if (!chosen.ok) return { reason: `${sliceType} results have no ${metric.name} to compare` };
  const [analysis] = matching
    ? analyseBehaviour([{ metric, role: "headline" }], lines, matching, options)
    : analyseMetrics(sliceType, [{ metric: chosen.metric, role: "headline" }], lines, options);
  if (!analysis || analysis.families.length === 0)
    return {
      reason:
        analysis?.unanalysed.map((line) => line.reason).join("; ") ||
        "no family could be analysed on these examples (too few, or no results)",
    };
  return { analysis, reason: "" };
}
