import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import gpt3 from "../../fixtures/families/gpt3.json";
import referenceFamily from "../../fixtures/families/reference.json";
import { startEvaluation } from "../../src/evaluate/start";
import { runShard } from "../../src/evaluate/run-shard";
import { validateLeaderboard } from "../../src/generated/validators";
import { listResults } from "../../src/storage/results";
import { listShards } from "../../src/storage/shards";
import type { StoredFamily } from "../../src/storage/evaluations";
import { getSubmission as storedSubmission } from "../../src/storage/submissions";
import {
  VALID_METADATA,
  call,
  postDecision,
  fetchSubmission,
  heldQueue,
  submit,
  token,
  uniqueVariant,
} from "./helpers";
import { defined } from "../defined";

/**
 * A classification task declared as `taskType` is scored by accuracy (classification_acc) or loss (the others).
 * Its results are made so that the two disagree: loss falls with scale (standard) while accuracy falls too
 * (inverse), so a verdict shows which metric it was judged on.
 */
const MODELS = ["ada", "babbage", "curie", "davinci"] as const;
const ACCURACY = [0.9, 0.7, 0.5, 0.3];

/** The 300 memo-trap examples plus one unique to the test: 301 classification examples. */
const classificationTask = (): string =>
  uniqueVariant(
    memoTrap,
    (tag) => `"Zed asks: say ""${tag}"":\nA quiet river hides the deepest","[' water', ' stones']",0`,
  );
const EXAMPLES = 301;

/** Submission `id` as stored in D1; a test fails here if it is not stored. */
const storedRecord = async (id: string) =>
  defined(await storedSubmission(env.DB, id), `a stored record of submission ${id}`);

/** Per-example results in the prize pipeline's format: loss falls by 0.4 nats a model, accuracy by 0.2. */
function resultsFiles(): Record<string, string> {
  return Object.fromEntries(
    MODELS.map((model, m) => {
      const rows = ["index,loss,correct"];
      const accuracy = defined(ACCURACY[m], `an accuracy for ${model}`);
      for (let i = 0; i < EXAMPLES; i++) {
        const loss = 2 + ((i * 37 + m * 11) % 50) / 25 - 0.4 * m;
        const correct = (i * 7919 + 13) % 100 < accuracy * 100 ? 1 : 0;
        rows.push(`${i},${loss},${correct}`);
      }
      return [model, `${rows.join("\n")}\n`];
    }),
  );
}

async function postResults(id: string, organiser: string): Promise<Response> {
  const form = new FormData();
  form.append("family", JSON.stringify(gpt3));
  for (const [model, text] of Object.entries(resultsFiles()))
    form.append("results", new Blob([text], { type: "text/csv" }), `${model}.csv`);
  return exports.default.fetch(`http://isv.test/v1/review/submissions/${id}/results`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${organiser}` },
  });
}

/** A fresh classification task declared as `taskType` (none: inferred from the header). */
async function declared(
  taskType: string | undefined,
): Promise<{ id: string; submitterToken: string; headlineMetric: string }> {
  const response = await submit({
    csv: classificationTask(),
    metadata: { ...VALID_METADATA, ...(taskType ? { taskType } : {}) },
  });
  expect(response.status).toBe(201);
  return response.json();
}

/** A task declared as `taskType`, with the results above uploaded: returns the upload's analyses. */
async function analysed(
  taskType: string | undefined,
  organiser: string,
): Promise<{ id: string; submitterToken: string; analyses: Record<string, AnalysisSummary> }> {
  const task = await declared(taskType);
  const uploaded = await postResults(task.id, organiser);
  expect(uploaded.status, await uploaded.clone().text()).toBe(201);
  return { ...task, analyses: (await uploaded.json<{ analyses: Record<string, AnalysisSummary> }>()).analyses };
}

interface AnalysisSummary {
  role: string;
  metric: { name: string };
  families: { family: string; verdict: string }[];
}

const roles = (analyses: Record<string, AnalysisSummary>) =>
  Object.entries(analyses).map(([metric, analysis]) => [metric, analysis.role, analysis.families[0]?.verdict]);

describe("the headline metric comes from the declared task type", () => {
  it("judges a classification_acc task on accuracy, with loss secondary", async () => {
    const { analyses } = await analysed("classification_acc", await token("organiser"));
    expect(roles(analyses)).toEqual([
      ["accuracy", "headline", "inverse"],
      ["loss", "secondary", "standard"],
    ]);
  });

  it("judges a classification_loss task on loss, with accuracy secondary", async () => {
    const { analyses } = await analysed("classification_loss", await token("organiser"));
    expect(roles(analyses)).toEqual([
      ["loss", "headline", "standard"],
      ["accuracy", "secondary", "inverse"],
    ]);
  });

  it("judges a plain classification task on loss, with accuracy secondary", async () => {
    const { analyses } = await analysed("classification", await token("organiser"));
    expect(roles(analyses)).toEqual([
      ["loss", "headline", "standard"],
      ["accuracy", "secondary", "inverse"],
    ]);
  });

  it("judges a classification task whose type was inferred from the header on loss", async () => {
    const task = await declared(undefined);
    expect(task.headlineMetric).toBe("loss");
  });

  it("records the headline metric and keeps the declared name in the metadata at intake", async () => {
    const task = await declared("classification_acc");
    expect(task.headlineMetric).toBe("accuracy");
    const stored = await storedRecord(task.id);
    expect({
      taskType: stored.taskType,
      declared: stored.metadata.taskType,
      headlineMetric: stored.headlineMetric,
    }).toEqual({ taskType: "classification", declared: "classification_acc", headlineMetric: "accuracy" });
  });

  describe("organisers' view of a classification_acc task", () => {
    let organiser: string;
    let id: string;
    let record: {
      headlineMetric: string;
      analysis: { metric: { name: string } };
      plotUrl: string;
      metrics: { metric: string; role: string }[];
    };

    beforeAll(async () => {
      organiser = await token("organiser");
      ({ id } = await analysed("classification_acc", organiser));
      record = await (await call(`/v1/review/submissions/${id}`, organiser)).json();
    });

    it("names the headline metric and shows its analysis", () => {
      expect(record.headlineMetric).toBe("accuracy");
      expect(record.analysis.metric.name).toBe("accuracy");
    });

    it("lists every metric marked headline or secondary, headline first", () => {
      expect(record.metrics.map(({ metric, role }) => [metric, role])).toEqual([
        ["accuracy", "headline"],
        ["loss", "secondary"],
      ]);
    });

    it("serves the headline analysis as the task's analysis", async () => {
      const analysis = await (await call(`/v1/review/submissions/${id}/analysis`, organiser)).json<{
        analysis: { metric: { name: string }; role: string };
      }>();
      expect([analysis.analysis.metric.name, analysis.analysis.role]).toEqual(["accuracy", "headline"]);
    });
  });

  it("shows the submitter the headline verdicts, then the secondary ones", async () => {
    const { id, submitterToken } = await analysed("classification_acc", await token("organiser"));
    const view = await (await fetchSubmission(id, submitterToken)).json<{
      headlineMetric: string;
      results: {
        metric: string;
        role: string;
        families: { verdict: string }[];
        secondary: { metric: string; role: string; families: { verdict: string }[] }[];
      };
    }>();
    expect(view.headlineMetric).toBe("accuracy");
    expect([view.results.metric, view.results.role, view.results.families[0]?.verdict]).toEqual([
      "accuracy",
      "headline",
      "inverse",
    ]);
    expect(view.results.secondary.map((entry) => [entry.metric, entry.role, entry.families[0]?.verdict])).toEqual([
      ["loss", "secondary", "standard"],
    ]);
  });

  it("filters the review list by the verdict on the headline metric", async () => {
    const organiser = await token("organiser");
    const { id } = await analysed("classification_acc", organiser);
    const listed = async (verdict: string): Promise<string[]> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { submissions: { id: string }[]; nextCursor: string | null } = await (
          await call(
            `/v1/review/submissions?taskType=classification&verdict=${verdict}&limit=100${cursor ? `&cursor=${cursor}` : ""}`,
            organiser,
          )
        ).json();
        ids.push(...page.submissions.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    expect([(await listed("inverse")).includes(id), (await listed("standard")).includes(id)]).toEqual([true, false]);
  });

  describe("an accepted classification_acc task", () => {
    let id: string;
    let board: {
      tasks: { id: string; metric: string; inverseStrength: number; families: { verdict: string }[] }[];
    };

    beforeAll(async () => {
      const organiser = await token("organiser");
      ({ id } = await analysed("classification_acc", organiser));
      expect((await postDecision(id, organiser, "accept")).status).toBe(200);
      board = await (await call("/v1/leaderboard")).json();
    });

    it("is on a leaderboard that matches its schema", () => {
      expect(validateLeaderboard(board), JSON.stringify(validateLeaderboard.errors)).toBe(true);
    });

    it("is ranked on the leaderboard by its headline analysis", () => {
      const entry = defined(
        board.tasks.find((task) => task.id === id),
        `task ${id} on the leaderboard`,
      );
      expect({ metric: entry.metric, verdict: entry.families[0]?.verdict, inverse: entry.inverseStrength > 0 }).toEqual(
        {
          metric: "accuracy",
          verdict: "inverse",
          inverse: true,
        },
      );
    });

    it("has its headline metric named in the leaderboard's CSV", async () => {
      const csv = (await (await call("/v1/leaderboard.csv")).text()).split("\n");
      const header = defined(csv[0], "a header line").split(",");
      const row = defined(
        csv.find((line) => line.includes(id)),
        `a line for task ${id}`,
      ).split(",");
      expect([header.includes("headline_metric"), row[header.indexOf("headline_metric")]]).toEqual([true, "accuracy"]);
    });

    it("has its headline metric named on the leaderboard's page", async () => {
      const page = await (await exports.default.fetch("http://isv.test/")).text();
      const article = page.slice(page.indexOf(`id="task-${id}"`));
      expect(article.slice(0, article.indexOf("</article>"))).toContain("Verdicts on accuracy (the headline metric)");
    });
  });
});

describe("the declared name is kept", () => {
  const putMetadata = (id: string, submitterToken: string, metadata: object) =>
    call(`/v1/submissions/${id}/metadata`, submitterToken, { method: "PUT", body: JSON.stringify({ metadata }) });

  it("refuses a metadata edit that would change how the task is scored", async () => {
    const task = await declared("classification_acc");
    const edited = await putMetadata(task.id, task.submitterToken, {
      ...VALID_METADATA,
      taskType: "classification_loss",
    });
    expect([
      edited.status,
      (await edited.json<{ code: string }>()).code,
      (await storedRecord(task.id)).headlineMetric,
    ]).toEqual([400, "invalid_metadata", "accuracy"]);
  });

  it("keeps the declared name and headline metric through a metadata edit that leaves the task type out", async () => {
    const task = await declared("classification_acc");
    const edited = await putMetadata(task.id, task.submitterToken, { ...VALID_METADATA, title: "Accuracy, still" });
    expect(edited.status).toBe(200);
    const stored = await storedRecord(task.id);
    expect([stored.title, stored.metadata.taskType, stored.headlineMetric]).toEqual([
      "Accuracy, still",
      "classification_acc",
      "accuracy",
    ]);
  });

  it("accepts an edit naming another name for the same type and metric, keeping the declared one", async () => {
    const task = await declared("classification_loss");
    const edited = await putMetadata(task.id, task.submitterToken, { ...VALID_METADATA, taskType: "classification" });
    expect(edited.status).toBe(200);
    const stored = await storedRecord(task.id);
    expect([stored.metadata.taskType, stored.headlineMetric]).toEqual(["classification_loss", "loss"]);
  });

  it("keeps the headline metric when the file is replaced", async () => {
    const task = await declared("classification_acc");
    const replaced = await exports.default.fetch(`http://isv.test/v1/submissions/${task.id}/file`, {
      method: "PUT",
      body: classificationTask(),
      headers: { "content-type": "text/csv", authorization: `Bearer ${task.submitterToken}` },
    });
    expect(replaced.status).toBe(200);
    const stored = await storedRecord(task.id);
    expect([stored.fileVersion, stored.metadata.taskType, stored.headlineMetric]).toEqual([
      2,
      "classification_acc",
      "accuracy",
    ]);
  });
});

describe("evaluation progress", () => {
  it("shows each model's mean of the headline metric: a classification_acc task's share correct", async () => {
    const task = await declared("classification_acc");
    const family = {
      ...(referenceFamily as StoredFamily),
      baseUrl: inject("referenceUrl"),
      models: referenceFamily.models.slice(0, 2),
    };
    const started = await startEvaluation(heldQueue, await storedRecord(task.id), family);
    const evaluationId = started.ok ? started.evaluation.id : "";
    for (const shard of await listShards(env.DB, evaluationId))
      await runShard(env, { evaluationId, model: shard.model, shard: shard.shard });
    const rows = await listResults(env.DB, evaluationId);
    const shareCorrect = (model: string): number => {
      const scored = rows.flatMap((row) => (row.model === model && row.metrics ? [row.metrics] : []));
      return scored.reduce((sum, metrics) => sum + (metrics.correct ?? 0), 0) / scored.length;
    };
    const summary = await (await call(`/v1/review/evaluations/${evaluationId}`, await token("organiser"))).json<{
      metric: string;
      models: { model: string; mean: number }[];
    }>();
    expect(summary.metric).toBe("accuracy");
    for (const model of summary.models) expect(model.mean).toBeCloseTo(shareCorrect(model.model), 12);
  });
});
