import { env, exports } from "cloudflare:workers";
import { strToU8, zipSync } from "fflate";
import { beforeAll, describe, expect, inject, it } from "vitest";
import facts from "../../fixtures/tasks/reference/facts-standard.csv?raw";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import grouped from "../../fixtures/tasks/grouped/classification.csv?raw";
import Papa from "papaparse";
import referenceFamily from "../../fixtures/families/reference.json";
import type { Analysis } from "../../src/analysis/analyse";
import type { SlicesAnalysis } from "../../src/analysis/slices-analysis";
import { startEvaluation } from "../../src/evaluate/start";
import { latestAnalysis } from "../../src/storage/analyses";
import type { StoredFamily } from "../../src/storage/evaluations";
import { latestSliceAnalysis } from "../../src/storage/slice-analyses";
import { getSubmission, type SubmissionRecord } from "../../src/storage/submissions";
import { defined } from "../defined";
import { VALID_METADATA, call, drainShards, heldQueue, problemOf, token } from "./helpers";

/**
 * A task in two parts with a control, evaluated on the reference family through the real queue handler (shards
 * delivered by the test), against the same task sent as one file: the task's analysis is the analysis of the
 * parts together, and the control's contrast with it is the quantity a reviewer reads.
 */
const family: StoredFamily = { ...(referenceFamily as StoredFamily), baseUrl: inject("referenceUrl") };

/** memo-trap split after its 150th example: each example starts a line with a quote and a name that asks. */
function splitMemoTrap(): [string, string] {
  const [header = "", ...rest] = memoTrap.split(/(?=^"\w+ asks:)/m);
  return [header + rest.slice(0, 150).join(""), header + rest.slice(150).join("")];
}

async function submitAndEvaluate(form: FormData): Promise<SubmissionRecord> {
  const response = await exports.default.fetch("http://isv.test/v1/submissions", { method: "POST", body: form });
  const body = await response.json<{ id: string }>();
  expect(response.status, JSON.stringify(body).slice(0, 3000)).toBe(201);
  const { id } = body;
  const submission = defined(await getSubmission(env.DB, id), `submission ${id}`);
  const started = await startEvaluation(heldQueue, submission, family);
  if (!started.ok) throw new Error(started.reason);
  await drainShards(started.evaluation.id);
  return submission;
}

/** An analysis without what differs between two runs of it by design: nothing (it has no clock or ids). */
const numbers = (analysis: Analysis | undefined) => analysis?.families;

describe("two parts and a control, evaluated", () => {
  let task: SubmissionRecord;
  let single: SubmissionRecord;
  let slices: SlicesAnalysis;

  beforeAll(async () => {
    const [first, second] = splitMemoTrap();
    const zip = zipSync({
      "part-1.csv": strToU8(first),
      "part-2.csv": strToU8(second),
      "facts.csv": strToU8(facts),
    });
    const form = new FormData();
    const files = [
      { name: "part-1.csv", role: "part" },
      { name: "part-2.csv", role: "part" },
      { name: "facts.csv", role: "control" },
    ];
    form.append("metadata", JSON.stringify({ ...VALID_METADATA, taskType: "classification", files }));
    form.append("file", new Blob([zip], { type: "application/zip" }), "task.zip");
    task = await submitAndEvaluate(form);

    const alone = new FormData();
    alone.append("metadata", JSON.stringify({ ...VALID_METADATA, taskType: "classification" }));
    alone.append("file", new Blob([memoTrap], { type: "text/csv" }), "memo-trap.csv");
    single = await submitAndEvaluate(alone);
    slices = defined((await latestSliceAnalysis(env.DB, task))?.analysis, "the slices analysis");
  }, 120_000);

  it("analyses the task as the parts together: the same numbers as the file they were cut from", async () => {
    const fromParts = (await latestAnalysis(env.DB, task.id, "loss"))?.analysis;
    const fromFile = (await latestAnalysis(env.DB, single.id, "loss"))?.analysis;
    expect(fromParts?.families.length).toBe(1);
    expect(numbers(fromParts)).toEqual(numbers(fromFile));
  });

  it("lists the task, each part and the control as slices, with their examples", () => {
    expect(slices.slices.map(({ kind, name, examples }) => [kind, name, examples])).toEqual([
      ["task", "the task", 300],
      ["part", "part-1.csv", 150],
      ["part", "part-2.csv", 150],
      ["control", "facts.csv", 350],
    ]);
  });

  it("the task's slice is the task's analysis", async () => {
    const fromParts = (await latestAnalysis(env.DB, task.id, "loss"))?.analysis;
    expect(slices.slices[0]?.analysis?.families).toEqual(fromParts?.families);
  });

  it("finds the task inverse and the control standard", () => {
    const verdict = (index: number) => slices.slices[index]?.analysis?.families[0]?.verdict;
    expect([verdict(0), verdict(3)]).toEqual(["inverse", "standard"]);
  });

  it("gives the task-minus-control slope difference, unpaired, excluding 0", () => {
    expect(slices.contrasts.map(({ family, pairing, claim }) => [family, pairing, claim])).toEqual([
      ["isv-reference", "unpaired", "excludes_zero"],
    ]);
    expect(slices.uncompared).toEqual([]);
  });
});

/** The grouped fixture's rows by group, each as a CSV of its own without the group column, in file order. */
function splitByGroup(): Map<string, string> {
  const { data } = Papa.parse<Record<string, string>>(grouped.trim(), { header: true });
  const byGroup = new Map<string, Record<string, string>[]>();
  for (const { group = "", ...row } of data) byGroup.set(group, [...(byGroup.get(group) ?? []), row]);
  return new Map([...byGroup].map(([group, rows]) => [group, `${Papa.unparse(rows)}\n`]));
}

describe("a file with groups, evaluated", () => {
  let fromGroups: SlicesAnalysis;
  let fromFiles: SlicesAnalysis;
  let wholeId: string;

  beforeAll(async () => {
    const form = new FormData();
    form.append("metadata", JSON.stringify({ ...VALID_METADATA, title: "Grouped sums", taskType: "classification" }));
    form.append("file", new Blob([grouped], { type: "text/csv" }), "grouped.csv");
    const whole = await submitAndEvaluate(form);
    wholeId = whole.id;
    fromGroups = defined((await latestSliceAnalysis(env.DB, whole))?.analysis, "the grouped file's slices");

    const split = new FormData();
    const parts = [...splitByGroup()];
    const files = parts.map(([group]) => ({ name: `${group}.csv`, role: "part" }));
    split.append(
      "metadata",
      JSON.stringify({ ...VALID_METADATA, title: "Split sums", taskType: "classification", files }),
    );
    for (const [group, csv] of parts) split.append("file", new Blob([csv], { type: "text/csv" }), `${group}.csv`);
    const separate = await submitAndEvaluate(split);
    fromFiles = defined((await latestSliceAnalysis(env.DB, separate))?.analysis, "the split files' slices");
  }, 120_000);

  it("analyses each group beside the whole, in the order the groups first appear", () => {
    expect(fromGroups.slices.map(({ kind, name, examples }) => [kind, name, examples])).toEqual([
      ["task", "the task", 360],
      ["group", "easy", 120],
      ["group", "medium", 120],
      ["group", "hard", 120],
    ]);
  });

  it("gives each group the analysis of the file of its rows alone", () => {
    const byName = (slices: SlicesAnalysis, kind: string) =>
      Object.fromEntries(
        slices.slices
          .filter((slice) => slice.kind === kind)
          .map((slice) => [slice.name.replace(/\.csv$/, ""), slice.analysis?.families]),
      );
    const groups = byName(fromGroups, "group");
    expect(Object.keys(groups)).toHaveLength(3);
    expect(groups).toEqual(byName(fromFiles, "part"));
  });

  it("draws one line per group beside the task (?figure=groups), each named in the key", async () => {
    const organiser = await token("organiser");
    const response = await call(`/v1/review/submissions/${wholeId}/slices.svg?figure=groups`, organiser);
    const svg = await response.text();
    const named = ["group &quot;easy&quot;", "group &quot;medium&quot;", "group &quot;hard&quot;"];
    expect([response.status, ...named.map((name) => svg.includes(name))]).toEqual([200, true, true, true]);
  });

  it("has no figure of contrasts without a control or variant: 404 analysis_not_found", async () => {
    const response = await call(`/v1/review/submissions/${wholeId}/slices.svg`, await token("organiser"));
    expect((await problemOf(response)).code).toBe("analysis_not_found");
  });

  it("refuses an unknown figure: 400 invalid_query", async () => {
    const response = await call(`/v1/review/submissions/${wholeId}/slices.svg?figure=bars`, await token("organiser"));
    expect((await problemOf(response)).code).toBe("invalid_query");
  });
});
