import type { Leaderboard, SubmissionMetadata } from "../generated/types";
import { spreadsheetCsv } from "../util/spreadsheet-csv";
import type { Analysis } from "../analysis/analyse";
import type { FamilyAnalysis } from "../analysis/statistics";

export const LEADERBOARD_SCHEMA_VERSION = 1;

export interface AcceptedTask {
  id: string;
  title: string;
  taskType: string;
  /** The metric the task is judged on; `analysis` is of it. */
  headlineMetric: string | null;
  examples: number;
  acceptedAt: string;
  metadata: Partial<Pick<SubmissionMetadata, "authors" | "dataLicence">>;
  /** The newest analysis of the headline metric: its verdicts are shown and its slopes rank the task. */
  analysis: Analysis | null;
  /** Families an organiser marked private: never on the leaderboard. */
  privateFamilies: ReadonlySet<string>;
}

export const ORDERING =
  "Strongest inverse scaling first: the lower bound of the verdict's 97% slope interval, as how much worse performance gets per decade of scale on the task's headline metric, in robust standard deviations of the metric over examples, for the family where it is largest (tasks without an analysis last); ties by acceptance time, then id.";

/**
 * How firmly a family shows inverse scaling: the lower end of the interval of "worse per decade", standardised by
 * the examples' spread so that tasks with different metrics compare. Positive only when the whole interval says worse.
 */
export function inverseStrength(family: FamilyAnalysis, direction: Analysis["metric"]["direction"]): number {
  const [low, high] = family.slope.test.interval;
  // Worse per decade is +slope when lower is better (loss rises), -slope when higher is better.
  const worseLow = direction === "lower_is_better" ? low : -high;
  return family.spread > 0 ? worseLow / family.spread : worseLow;
}

/** The public leaderboard from accepted tasks: what may be shown, ordered by strength of inverse scaling. */
export function buildLeaderboard(tasks: AcceptedTask[], generatedAt: string): Leaderboard {
  const entries = tasks.map((task) => {
    const families = (task.analysis?.families ?? []).filter((family) => !task.privateFamilies.has(family.family));
    const direction = task.analysis?.metric.direction;
    const strengths = direction ? families.map((family) => inverseStrength(family, direction)) : [];
    return {
      id: task.id,
      title: task.title,
      taskType: task.taskType,
      examples: task.examples,
      authors: (task.metadata.authors ?? [])
        .filter((author) => author.agreesToBeNamed === true)
        .map((author) => ({ name: author.name, ...(author.affiliation ? { affiliation: author.affiliation } : {}) })),
      dataLicence: task.metadata.dataLicence ?? "",
      acceptedAt: task.acceptedAt,
      inverseStrength: strengths.length > 0 ? Math.max(...strengths) : null,
      // The headline metric: the one the task's declared type is scored by; verdicts and rank are on it.
      metric: task.headlineMetric,
      families: families.map((family) => ({
        family: family.family,
        verdict: family.verdict,
        slopePerDecade: family.slope.perDecade,
        slopeCi95: family.slope.ci95,
        models: family.models.map((model) => ({
          id: model.id,
          scale: model.scale,
          mean: model.mean,
          standardError: model.standardError,
        })),
      })),
      plotUrl: families.length > 0 ? `/v1/submissions/${task.id}/plot.svg` : null,
    };
  });
  entries.sort(
    (a, b) =>
      (b.inverseStrength ?? -Infinity) - (a.inverseStrength ?? -Infinity) ||
      a.acceptedAt.localeCompare(b.acceptedAt) ||
      a.id.localeCompare(b.id),
  );
  return {
    schemaVersion: LEADERBOARD_SCHEMA_VERSION,
    generatedAt,
    ordering: ORDERING,
    tasks: entries.map((entry, i) => ({ rank: i + 1, ...entry })),
  };
}

/** The public leaderboard: the type generated from schemas/leaderboard.schema.json. */
export type { Leaderboard };

/** CSV for spreadsheets: text that a spreadsheet would run as a formula is neutralised; numbers stay numbers. */
export function leaderboardCsv(board: Leaderboard): string {
  const header = [
    "rank",
    "title",
    "task_type",
    "examples",
    "authors",
    "inverse_strength",
    "headline_metric",
    "verdicts",
    "data_licence",
    "accepted_at",
    "id",
  ];
  const rows = board.tasks.map((task) => [
    task.rank,
    task.title,
    task.taskType,
    task.examples,
    task.authors.map((author) => author.name).join("; "),
    task.inverseStrength === null ? "" : Number(task.inverseStrength.toFixed(4)),
    task.metric,
    task.families.map((family) => `${family.family}: ${family.verdict}`).join("; "),
    task.dataLicence,
    task.acceptedAt,
    task.id,
  ]);
  return spreadsheetCsv([header, ...rows]);
}
