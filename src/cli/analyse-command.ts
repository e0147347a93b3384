import type { ParseArgsConfig } from "node:util";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import gpt2 from "../../fixtures/families/gpt2.json";
import gpt3 from "../../fixtures/families/gpt3.json";
import gptNeo from "../../fixtures/families/gpt-neo.json";
import instructgpt from "../../fixtures/families/instructgpt.json";
import opt from "../../fixtures/families/opt.json";
import reference from "../../fixtures/families/reference.json";
import referenceRlhf from "../../fixtures/families/reference-rlhf.json";
import { analyseMetrics, type Analysis, type FamilyResults, type MetricToAnalyse } from "../analysis/analyse";
import {
  MATCHING_BEHAVIOURS,
  analyseBehaviour,
  chooseBehaviourMetric,
  isMatchingBehaviour,
  verdictWords,
  type MatchingBehaviour,
} from "../analysis/behaviour";
import {
  familyAxes,
  familyLines,
  familyScales,
  isGrid,
  type FamilyDefinition,
  type UnfitLine,
} from "../analysis/family";
import type { Axis } from "../analysis/family-input";
import { fixedLabel } from "../analysis/labels";
import { METRICS, chooseMetric, headlineMetricName, type MetricChoice } from "../analysis/metrics";
import { formatScale, renderPlot } from "../analysis/plot";
import { RESULT_COLUMNS } from "../analysis/results-columns";
import { parseResultsCsv, type ModelResults } from "../analysis/results-csv";
import { DEFAULT_OPTIONS, slopePer } from "../analysis/statistics";
import { validateModelFamily } from "../generated/validators";
import { ACCEPTED_TASK_TYPE_NAMES, resolveTaskType, type TaskType } from "../validate/task-types";
import { UsageError, parseCommandArgs, type CommandUsage } from "./args";

/** The options every form of `isv analyse` takes: the family, the task, the metric and the bootstrap. */
export const ANALYSE_OPTIONS = {
  family: { type: "string" },
  scale: { type: "string", multiple: true, default: [] as string[] },
  type: { type: "string" },
  metric: { type: "string" },
  matching: { type: "string" },
  axis: { type: "string" },
  seed: { type: "string" },
  samples: { type: "string" },
  json: { type: "boolean", default: false },
} satisfies NonNullable<ParseArgsConfig["options"]>;

export const ANALYSE_USAGE = `Usage: isv analyse [--family NAME_OR_FILE] [--scale MODEL=VALUE ...] [--type TYPE] [--metric NAME]
                   [--matching undesired|desired|neither] [--axis params|rlhf_steps] [--seed N] [--samples B]
                   [--json] [--plot FILE.svg] RESULT.csv ...

Fits a task's metric against model scale and says whether it shows inverse, standard, U-shaped, inverted-U or no
clear scaling. Each RESULT.csv holds one model's per-example results in the prize pipeline's format and is named
after the model (ada.csv, babbage.csv, ...).
  --family NAME_OR_FILE  built-in ${"gpt3, instructgpt, opt, gpt2, gpt-neo, isv-reference, isv-reference-rlhf"}, or a
                         family JSON file; found from the model names when omitted
  --scale MODEL=VALUE    a model's scale (350M, 1.3B, 6.7e9), adding to or overriding the family's
  --type TYPE            classification (or the prize's classification_loss, classification_acc), sequence_prob,
                         logodds, absolute_logodds or behaviour (default: from the columns, and from --metric where
                         it tells)
  --metric NAME          loss, accuracy, logodds_difference, absolute_logodds_difference or coverage (mean
                         probability on the offered classes); for behaviour results (index, logprob_matching,
                         logprob_not_matching) matching_probability (mean probability of the matching answer),
                         matching_win_rate (share of examples where it is more probable) or loss (toward the
                         desired answer); default: the one the task type is judged on
  --matching WHICH       behaviour results: whether the matching answer's behaviour is undesired (default: lower
                         is better), desired (higher is better) or neither (only the direction is reported)
  --axis AXIS            a family of sizes x RLHF steps (isv-reference-rlhf): analyse along params (one line per
                         step count) or rlhf_steps (one line per size; linear when it includes 0). Default: the
                         family's own axis
  --seed N, --samples B  bootstrap seed (default ${DEFAULT_OPTIONS.seed}) and resamples (default ${DEFAULT_OPTIONS.bootstrapSamples})
  --json                 print the analysis object only
  --plot FILE.svg        also draw the plot

       isv analyse (--task DIR ... | RESULT.csv ...) [--control DIR ...] [--variant LABEL=DIR ...] [--paired]
                   [options above but --plot]
       isv analyse --files FILES.json [options above but --plot] RESULT.csv ...

A task of several files (isv submit's parts, controls and variants), analysed as the service does: each slice (the
task, its parts when there are several, each control and variant) on the headline metric, then per family line
the task's slope minus each control's and variant's, with its interval and whether it excludes 0. Each DIR holds
one RESULT.csv per model for that file's examples.
  --task DIR             a part of the task (again for each part, in order); or give the task's RESULT.csv files
  --control DIR          a control: data on which models should scale normally (named by its directory)
  --variant LABEL=DIR    a variant of the task (zero-shot, few-shot), named by its label
  --paired               the controls and variants match the task example by example (the same examples, in the
                         same order): the difference is taken per example; otherwise the two slopes are compared
                         unpaired
  --files FILES.json     the files' roles and ranges in one list of examples ({ name, role, label?, paired?,
                         firstExample, examples } each: the "files" of GET /v1/review/submissions/ID, or that whole
                         body); then each RESULT.csv holds one model's results over the whole submission
  --json                 print the slices analysis only (schemas/slices-analysis.schema.json)
Exit status: 0 analysed, 2 bad input.`;

/** A bad argument or unreadable input: the message, then where to find the usage. */
export const ANALYSE: CommandUsage = { prefix: "isv analyse", usage: 'Run "isv analyse --help" for usage.' };

const BUILT_IN: FamilyDefinition[] = [
  gpt3,
  instructgpt,
  opt,
  gpt2,
  gptNeo,
  reference,
  referenceRlhf,
] as FamilyDefinition[];

/** Warnings (an old column name in a results file) go to `err`, before the analysis is printed to `out`. */
export function analyseCommand(
  args: string[],
  out: (text: string) => void,
  err: (text: string) => void = (text) => console.error(text),
): number {
  const { values, positionals } = parseCommandArgs(ANALYSE, {
    args,
    allowPositionals: true,
    options: { ...ANALYSE_OPTIONS, plot: { type: "string" } },
  });
  if (positionals.length < 2) throw new UsageError("give at least two RESULT.csv files, one per model", ANALYSE);
  const seed = wholeNumber(values.seed, DEFAULT_OPTIONS.seed, "--seed");
  const samples = wholeNumber(values.samples, DEFAULT_OPTIONS.bootstrapSamples, "--samples");
  if (samples < 100) throw new UsageError("--samples must be at least 100", ANALYSE);

  const files = positionals.map((path) => ({ path, id: basename(path).replace(/\.csv$/i, "") }));
  // Each file is read when it is parsed and dropped after, so only one file's text is held at a time; an
  // unreadable one is still reported before any work.
  for (const file of files) if (!isFile(file.path)) throw new UsageError(`cannot read ${file.path}`, ANALYSE);
  const first = files[0];
  if (!first) throw new Error("positionals were checked to name at least two files");
  let pending: string | undefined = readText(first.path);
  const { taskType, declared } = taskTypeFor(values.type, values.metric, pending);
  const headline = headlineMetricName(taskType, declared);
  const matching = matchingFor(values.matching, taskType);
  const metric: MetricChoice = matching
    ? chooseBehaviourMetric(values.metric ?? headline, matching)
    : chooseMetric(taskType, values.metric ?? headline);
  if (!metric.ok) throw new UsageError(metric.message, ANALYSE);
  const role = metric.metric.name === headline ? "headline" : "secondary";

  const family = resolveFamily(
    values.family,
    files.map((file) => file.id),
  );
  const models = files.map((file) => {
    const results = parseResultsCsv(pending ?? readText(file.path), taskType);
    pending = undefined;
    if (!results.ok) throw new UsageError(`${file.path}: ${results.problems.join("; ")}`, ANALYSE);
    for (const warning of results.warnings) err(`warning: ${file.path}: ${warning}`);
    return { id: file.id, results: results.results };
  });
  const { lines, axis } = linesToAnalyse(family, models, values.scale ?? [], values.axis, err);
  let analysis: Analysis;
  try {
    const options = { ...DEFAULT_OPTIONS, seed, bootstrapSamples: samples };
    const metrics: MetricToAnalyse[] = [
      { metric: metric.metric, role },
      ...partnerMetric(metric.metric.name, matching),
    ];
    const [first] = matching
      ? analyseBehaviour(metrics, lines, matching, options)
      : analyseMetrics(taskType, metrics, lines, options);
    if (!first) throw new Error("analyseMetrics gives one analysis per metric");
    analysis = first;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), ANALYSE);
  }
  if (analysis.unanalysed.length > 0)
    throw new UsageError(analysis.unanalysed.map((family) => family.reason).join("; "), ANALYSE);
  if (values.plot) writeFileSync(values.plot, renderPlot(analysis, files.map((file) => file.id).join(", "), axis));
  out(values.json ? JSON.stringify(analysis, null, 2) : formatAnalysis(analysis));
  return 0;
}

/**
 * The matching behaviour of behaviour results (--matching, default undesired); undefined for other task types,
 * which have no matching side.
 */
export function matchingFor(name: string | undefined, taskType: AnalysedType): MatchingBehaviour | undefined {
  if (taskType !== "behaviour") {
    if (name !== undefined) throw new UsageError("--matching applies to behaviour results only", ANALYSE);
    return undefined;
  }
  if (name === undefined) return "undesired";
  if (!isMatchingBehaviour(name))
    throw new UsageError(`--matching must be one of ${MATCHING_BEHAVIOURS.join(", ")}; got "${name}"`, ANALYSE);
  return name;
}

/**
 * A behaviour task's two matching metrics are always analysed together, so the one asked for can say where the
 * other's verdict points a different way (finishBehaviourAnalyses); the other's analysis is not printed.
 */
function partnerMetric(name: string, matching: MatchingBehaviour | undefined): MetricToAnalyse[] {
  if (!matching) return [];
  const partner =
    name === "matching_probability"
      ? METRICS.matching_win_rate
      : name === "matching_win_rate"
        ? METRICS.matching_probability
        : undefined;
  const chosen = partner && chooseBehaviourMetric(partner.name, matching);
  return chosen?.ok ? [{ metric: chosen.metric, role: "secondary" }] : [];
}

/** A readable table per family, then the verdict, the numbers behind it and what the data could show. */
export function formatAnalysis(analysis: Analysis): string {
  const lines: string[] = [];
  const f = (value: number): string => value.toFixed(4);
  const interval = ([low, high]: readonly [number, number]): string => `${f(low)} to ${f(high)}`;
  const percent = (share: number): string => `${Math.round(share * 1000) / 10}%`;
  const orientation = analysis.metric.orientation;
  const directionOnly = orientation === "direction_only";
  for (const family of analysis.families) {
    const direction = directionOnly
      ? "direction only (neither way is better)"
      : analysis.metric.direction.replace(/_/g, " ");
    const name = family.fixed ? `${family.family}, ${fixedLabel(family.fixed)}` : family.family;
    lines.push(`${name}: ${analysis.metric.label}, ${direction}, ${family.sharedExamples} examples`);
    lines.push(`  ${"model".padEnd(18)} ${"scale".padStart(8)} ${"mean".padStart(9)} ${"SE".padStart(8)}   95% CI`);
    for (const model of family.models) {
      const scale = formatScale(model.scale).padStart(8);
      lines.push(
        `  ${model.id.padEnd(18)} ${scale} ${f(model.mean).padStart(9)} ${f(model.standardError).padStart(8)}   ${interval(model.ci95)}`,
      );
    }
    const { slope } = family;
    const per = slopePer(slope);
    lines.push(
      `  slope per ${per.unit}   ${f(per.value)} (${percent(slope.test.level)} CI ${interval(slope.test.interval)}; bootstrap 95% ${interval(slope.ci95)})`,
    );
    lines.push(
      `  largest - smallest ${f(family.endpointContrast.value)} (bootstrap 95% CI ${interval(family.endpointContrast.ci95)})`,
    );
    const versus = directionOnly ? "value" : "performance";
    lines.push(`  Kendall's tau (scale vs ${versus}, descriptive) ${family.kendallTau.toFixed(2)}`);
    lines.push(
      `  detectable slope (${percent(family.power.level)} power) ${f(family.power.detectableSlope)}; flat margin ±${f(family.flatMargin)}`,
    );
    for (const warning of family.warnings) lines.push(`  warning: ${warning}`);
    const verdict = directionOnly
      ? `trend: ${verdictWords(family.verdict, orientation)}`
      : `verdict: ${family.verdict.toUpperCase()}`;
    lines.push(`  ${verdict}. ${family.reason}`);
  }
  if (analysis.chance !== null) lines.push(`chance level: ${f(analysis.chance)}`);
  const rule = analysis.decisionRule;
  lines.push(
    `summary: ${analysis.summary.text} (false-claim rate ≤ ${percent(rule.falseClaimRate)}; seed ${analysis.seed}, ${analysis.codeVersion})`,
  );
  return lines.join("\n");
}

/**
 * The lines the given models make: one line placed by the family's scales (with --scale adding or overriding), or
 * for a family of sizes x RLHF steps, its lines along `--axis` (familyLines), lines with too few of the given models
 * reported as warnings.
 */
export function linesToAnalyse(
  family: FamilyDefinition | undefined,
  models: { id: string; results: ModelResults }[],
  scaleArguments: readonly string[],
  axisArgument: string | undefined,
  err: (text: string) => void,
): { lines: FamilyResults[]; axis: Axis } {
  if (family && isGrid(family)) {
    if (scaleArguments.length > 0)
      throw new UsageError(
        `--scale cannot change the models of ${family.name}, a family of sizes x RLHF steps`,
        ANALYSE,
      );
    const axes = familyAxes(family);
    const axis = axisArgument ?? axes[0] ?? "params";
    if (!isAxis(axis) || !axes.includes(axis))
      throw new UsageError(`--axis must be one of ${axes.join(", ")} for ${family.name}; got "${axis}"`, ANALYSE);
    const expanded = familyLines(family, new Map(models.map((model) => [model.id, model.results])), axis);
    if (!expanded.ok) throw new UsageError(`--family ${family.name}: ${expanded.message}`, ANALYSE);
    for (const line of expanded.unfit) err(`warning: ${lineName(line)}: ${line.reason}`);
    const known = new Set(family.models.map((model) => model.id));
    const strangers = models.filter((model) => !known.has(model.id)).map((model) => model.id);
    if (strangers.length > 0) throw new UsageError(`${strangers.join(", ")}: not a model of ${family.name}`, ANALYSE);
    return { lines: expanded.lines, axis };
  }
  const known = family ? knownScales(family) : undefined;
  const axis = known?.axis ?? "params";
  if (axisArgument !== undefined && axisArgument !== axis)
    throw new UsageError(
      `--axis ${axisArgument}: the models are placed on ${axis} only (--axis chooses between the axes of a family of sizes x RLHF steps)`,
      ANALYSE,
    );
  const scales = new Map<string, number>(known?.scales ?? []);
  for (const assignment of scaleArguments) {
    const [id, text] = assignment.split("=");
    const scale = parseScale(text ?? "");
    if (!id || scale === undefined)
      throw new UsageError(
        `--scale takes MODEL=VALUE with a positive VALUE such as 1.3B; got "${assignment}"`,
        ANALYSE,
      );
    scales.set(id, scale);
  }
  const placed = models.map((model) => {
    const scale = scales.get(model.id);
    if (scale === undefined)
      throw new UsageError(
        `no scale for model "${model.id}": name a --family that has it or give --scale ${model.id}=VALUE`,
        ANALYSE,
      );
    return { ...model, scale };
  });
  return { lines: [{ family: family?.name ?? "custom", axis, models: placed }], axis };
}

const isAxis = (name: string): name is Axis => name === "params" || name === "flops" || name === "rlhf_steps";

/** A grid line's name for people: its family and what it holds fixed. */
const lineName = (line: UnfitLine): string => (line.fixed ? `${line.family}, ${fixedLabel(line.fixed)}` : line.family);

/** A family's scales on its axis, or a usage error saying what the family lacks. */
function knownScales(family: FamilyDefinition): Extract<ReturnType<typeof familyScales>, { ok: true }> {
  const known = familyScales(family);
  if (!known.ok) throw new UsageError(`--family ${family.name}: ${known.message}`, ANALYSE);
  return known;
}

export function resolveFamily(name: string | undefined, modelIds: string[]): FamilyDefinition | undefined {
  if (name === undefined)
    return BUILT_IN.find((family) => modelIds.every((id) => family.models.some((model) => model.id === id)));
  const builtIn = BUILT_IN.find((family) => family.name === name);
  if (builtIn) return builtIn;
  let definition: unknown;
  try {
    definition = JSON.parse(readText(name));
  } catch (error) {
    if (error instanceof UsageError)
      throw new UsageError(
        `--family: "${name}" is neither a built-in family (${BUILT_IN.map((f) => f.name).join(", ")}) nor a readable file`,
        ANALYSE,
      );
    throw new UsageError(`--family ${name}: not valid JSON`, ANALYSE);
  }
  if (!validateModelFamily(definition)) {
    const problems = (validateModelFamily.errors ?? []).map(
      (error) => `${error.instancePath || "(family)"} ${error.message ?? "is invalid"}`,
    );
    throw new UsageError(`--family ${name}: ${problems.join("; ")}`, ANALYSE);
  }
  return definition;
}

export type AnalysedType = Exclude<TaskType, "numeric">;

/** The type names --type takes, each with the task type it names (the prize's classification aliases too). */
const TYPE_NAMES: { name: string; taskType: AnalysedType }[] = ACCEPTED_TASK_TYPE_NAMES.flatMap((name) => {
  const resolved = resolveTaskType(name);
  return resolved.ok && resolved.taskType !== "numeric" ? [{ name, taskType: resolved.taskType }] : [];
});

/**
 * The task type and the name it was declared by: --type's, or else the one the first file's columns show. Types
 * whose results have the same columns (logodds and absolute_logodds; classification and its aliases) cannot be
 * told apart by the file, so a --metric that one of them is judged on picks it: --metric
 * absolute_logodds_difference on a logodds file analyses an absolute_logodds task.
 */
export function taskTypeFor(
  typeName: string | undefined,
  metricName: string | undefined,
  text: string,
): { taskType: AnalysedType; declared: string } {
  if (typeName !== undefined) {
    const named = TYPE_NAMES.find((entry) => entry.name === typeName);
    if (!named)
      throw new UsageError(
        `--type must be one of ${TYPE_NAMES.map((entry) => entry.name).join(", ")}; got "${typeName}"`,
        ANALYSE,
      );
    return { taskType: named.taskType, declared: named.name };
  }
  const inferred = inferType(text);
  const sameColumns = (taskType: AnalysedType): boolean =>
    RESULT_COLUMNS[taskType].join() === RESULT_COLUMNS[inferred].join();
  const picked =
    metricName === undefined
      ? undefined
      : TYPE_NAMES.find(
          (entry) => sameColumns(entry.taskType) && headlineMetricName(entry.taskType, entry.name) === metricName,
        );
  return picked ? { taskType: picked.taskType, declared: picked.name } : { taskType: inferred, declared: inferred };
}

/** The type a results file's header shows (its first row that is not blank). */
export function inferType(text: string): AnalysedType {
  const header = /^\ufeff?(?:[ \t,]*(?:\r\n|\n|\r))*([^\r\n]*)/.exec(text)?.[1] ?? "";
  const names = new Set(header.split(",").map((name) => name.trim().replace(/^"(.*)"$/, "$1")));
  // `logodds` is the column's name in the pipeline's older files (results-csv.ts reads it, with a warning).
  if (names.has("logprob_matching") || names.has("logprob_not_matching")) return "behaviour";
  if (names.has("logodds_difference") || names.has("logodds")) return "logodds";
  if (names.has("correct")) return "classification";
  return "sequence_prob";
}

const SCALE_SUFFIXES: Record<string, number> = { "": 1, K: 1e3, M: 1e6, B: 1e9, T: 1e12 };

export function parseScale(text: string): number | undefined {
  const match = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([KMBT]?)\s*$/i.exec(text);
  if (!match) return undefined;
  const [, number, suffix = ""] = match;
  const value = Number(number) * (SCALE_SUFFIXES[suffix.toUpperCase()] ?? 1);
  return value > 0 && Number.isFinite(value) ? value : undefined;
}

export function wholeNumber(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new UsageError(`${flag} takes a whole number; got "${text}"`, ANALYSE);
  return value;
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`cannot read ${path}`, ANALYSE);
  }
}
