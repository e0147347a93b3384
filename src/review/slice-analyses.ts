/**
 * A submission's slices analysed (schemas/slices-analysis.schema.json): for several files, the task (its parts
 * together), each part, each control and each variant; for examples with groups, each group of the task; then, per
 * control or variant and family line, the task's slope minus theirs. On the headline metric only: the one the task
 * is judged on and compared by.
 */

import { sliceContrasts } from "../analysis/slice-contrasts";
import { chooseBehaviourMetric, matchingBehaviourOf } from "../analysis/behaviour";
import { chooseMetric, type MetricDefinition } from "../analysis/metrics";
import { ANALYSIS_CODE_VERSION } from "../analysis/statistics";
import type { SliceEntry, SlicesAnalysis } from "../analysis/slices-analysis";
import type { StorageBindings } from "../storage/bindings";
import { readExamples } from "../storage/examples";
import { insertSliceAnalysis } from "../storage/slice-analyses";
import { listSubmissionFiles, type SubmissionFile } from "../storage/submission-files";
import type { SubmissionRecord } from "../storage/submissions";
import type { Example } from "../validate/row-rules";
import type { TaskType } from "../validate/task-types";
import {
  analyseScope,
  classCountsOf,
  fileIndices,
  needsExamples,
  sliceFamilies,
  taskIndices,
  type FamilyData,
} from "./analyses";

export type { SlicesAnalysis };

/** A slice to analyse: what it is, and the submission's examples it holds, in order. */
export interface Slice {
  kind: SliceEntry["kind"];
  name: string;
  file?: SubmissionFile;
  group?: string;
  taskType: TaskType;
  indices: number[];
}

/**
 * The slices of a submission: none for one file without groups. The task first (its parts, or the whole file),
 * then each part when there are several, each control and variant, then the groups of the task's examples in the
 * order they first appear.
 */
export function slicesOf(
  taskType: TaskType,
  files: readonly SubmissionFile[],
  examples: readonly Pick<Example, "taskType" | "group">[],
): Slice[] {
  const task = files.length > 0 ? taskIndices(files) : examples.map((_, index) => index);
  const groups = new Map<string, number[]>();
  for (const index of task) {
    const group = examples[index]?.group;
    if (group === undefined) continue;
    const members = groups.get(group);
    if (members) members.push(index);
    else groups.set(group, [index]);
  }
  if (files.length === 0 && groups.size === 0) return [];
  const slices: Slice[] = [{ kind: "task", name: "the task", taskType, indices: task }];
  const parts = files.filter((file) => file.role === "part");
  for (const file of files) {
    if (file.role === "part" && parts.length < 2) continue;
    const indices = fileIndices(file);
    const own = indices.length > 0 ? examples[indices[0] ?? 0]?.taskType : undefined;
    slices.push({
      kind: file.role,
      name: file.role === "variant" && file.label !== null ? file.label : file.name,
      file,
      taskType: own ?? taskType,
      indices,
    });
  }
  for (const [group, indices] of groups) slices.push({ kind: "group", name: group, group, taskType, indices });
  return slices;
}

/**
 * The slices' analyses and the task-minus-other slope differences, or undefined for a submission with no slices.
 * Every slice is analysed exactly as a file of its examples alone would be (sliceResults).
 */
export async function sliceAnalysesFor(
  bindings: StorageBindings,
  submission: SubmissionRecord,
  families: FamilyData[],
): Promise<SlicesAnalysis | undefined> {
  if (submission.headlineMetric === null) return undefined;
  const files = await listSubmissionFiles(bindings.DB, submission.id, submission.fileVersion);
  const examples = (await readExamples(bindings.BLOBS, submission.examplesKey)) ?? [];
  const slices = slicesOf(submission.taskType, files, examples);
  if (slices.length === 0) return undefined;
  const metricName = submission.headlineMetric;
  const analysed = slices.map((slice) => {
    const scope = {
      taskType: slice.taskType,
      ...(needsExamples(slice.taskType) && { classCounts: classCountsOf(examples, slice.indices) }),
    };
    const { analyses, lines } = analyseScope(submission, scope, sliceFamilies(families, slice.indices), true);
    return { slice, analysis: analyses[metricName], lines };
  });
  const [task, ...others] = analysed;
  const metric = contrastMetric(submission);
  const matching = submission.taskType === "behaviour" ? matchingBehaviourOf(submission.metadata) : undefined;
  const compared = ({ slice, lines }: (typeof analysed)[number]) => ({
    kind: slice.kind,
    name: slice.name,
    paired: slice.file?.paired === true,
    lines,
  });
  const { contrasts, uncompared } =
    task && metric
      ? sliceContrasts(compared(task), others.map(compared), metric, matching)
      : { contrasts: [], uncompared: [] };
  return {
    schemaVersion: 1,
    codeVersion: ANALYSIS_CODE_VERSION,
    metric: metricName,
    slices: analysed.map(({ slice, analysis }) => sliceEntry(slice, analysis)),
    contrasts,
    uncompared,
  };
}

function sliceEntry(slice: Slice, analysis: SliceEntry["analysis"] | undefined): SliceEntry {
  return {
    kind: slice.kind,
    name: slice.name,
    ...(slice.file && { file: slice.file.name }),
    ...(slice.file?.label != null && { label: slice.file.label }),
    ...(slice.group !== undefined && { group: slice.group }),
    taskType: slice.taskType,
    examples: slice.indices.length,
    ...(analysis ? { analysis } : { reason: "no family could be analysed on these examples (too few, or no results)" }),
  };
}

/** The headline metric as the task's analysis reads it: a behaviour metric oriented by the submission. */
function contrastMetric(submission: SubmissionRecord): MetricDefinition | undefined {
  if (submission.headlineMetric === null) return undefined;
  const choice =
    submission.taskType === "behaviour"
      ? chooseBehaviourMetric(submission.headlineMetric, matchingBehaviourOf(submission.metadata))
      : chooseMetric(submission.taskType, submission.headlineMetric);
  return choice.ok ? choice.metric : undefined;
}

/** The statement that stores a slices analysis, if there is one, against the submission's file version. */
export function sliceAnalysisStatements(
  db: D1Database,
  submission: { id: string; fileVersion: number },
  analysis: SlicesAnalysis | undefined,
  createdAt: string,
): D1PreparedStatement[] {
  if (!analysis) return [];
  return [
    insertSliceAnalysis(db, { submissionId: submission.id, fileVersion: submission.fileVersion, createdAt, analysis }),
  ];
}
