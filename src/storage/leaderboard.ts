/** What the leaderboard is built from (accepted submissions) and the snapshots it is served from. */
import type { SubmissionMetadata } from "../generated/types";
import type { Analysis } from "../analysis/analyse";
import { MATCHING_METRICS, type AcceptedTask } from "../leaderboard/build";
import { latestAnalysis } from "./analyses";
import { privateFamilyNames } from "./families";
import { latestSliceAnalysis } from "./slice-analyses";
import { readStoredJson } from "./stored-json";
import { storedMetricName } from "./submissions";

/**
 * Accepted submissions with the newest analyses the leaderboard shows (a prize task's headline metric, a behaviour
 * dataset's two matching metrics) and the families marked private.
 */
export async function acceptedSubmissions(db: D1Database): Promise<AcceptedTask[]> {
  const { results } = await db
    .prepare(
      "SELECT id, title, task_type, headline_metric, example_count, reviewed_at, metadata_json, file_version FROM submissions WHERE state = 'accepted' ORDER BY reviewed_at, id",
    )
    .all<{
      id: string;
      title: string;
      task_type: string;
      headline_metric: string | null;
      example_count: number;
      reviewed_at: string;
      metadata_json: string;
      file_version: number;
    }>();
  const rows: AcceptedTask[] = [];
  for (const row of results) {
    const headlineMetric = storedMetricName(row.headline_metric);
    const analyses: Record<string, Analysis> = {};
    for (const metric of shownMetrics(row.task_type, headlineMetric)) {
      const latest = await latestAnalysis(db, row.id, metric);
      if (latest) analyses[metric] = latest.analysis;
    }
    const privateFamilies = await privateFamilyNames(db, row.id);
    // A task with controls or variants: its contrasts are listed beside its verdicts.
    const slices = await latestSliceAnalysis(db, { id: row.id, fileVersion: row.file_version });
    rows.push({
      id: row.id,
      title: row.title,
      taskType: row.task_type,
      headlineMetric,
      examples: row.example_count,
      acceptedAt: row.reviewed_at,
      metadata: readStoredJson<SubmissionMetadata>(row.metadata_json),
      analyses,
      privateFamilies,
      ...(slices && { slices: slices.analysis }),
    });
  }
  return rows;
}

/** The metrics whose analyses the leaderboard shows: both matching metrics of a behaviour dataset, else the headline. */
function shownMetrics(taskType: string, headlineMetric: string | null): readonly string[] {
  if (taskType === "behaviour") return MATCHING_METRICS;
  return headlineMetric === null ? [] : [headlineMetric];
}

export async function latestSnapshot(db: D1Database): Promise<{ etag: string; json: string } | undefined> {
  return (
    (await db
      .prepare("SELECT etag, json FROM leaderboard_snapshots ORDER BY id DESC LIMIT 1")
      .first<{ etag: string; json: string }>()) ?? undefined
  );
}

export async function insertSnapshot(db: D1Database, json: string, etag: string, at: string): Promise<void> {
  await db
    .prepare("INSERT INTO leaderboard_snapshots (created_at, etag, json) VALUES (?1, ?2, ?3)")
    .bind(at, etag, json)
    .run();
}
