import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import gpt3 from "../../fixtures/families/gpt3.json";
import valid from "../../fixtures/tasks/behaviour/valid.jsonl?raw";
import { validateLeaderboard } from "../../src/generated/validators";
import type { Leaderboard } from "../../src/leaderboard/build";
import { VALID_METADATA, call, postDecision, problemOf, token } from "./helpers";
import { defined } from "../defined";

/** The 300 valid items plus one tagged for this file, so the upload is new bytes: 301 examples. */
const ITEMS = `${valid}${JSON.stringify({
  question: `Is ${crypto.randomUUID()} a fine name for a dataset?\n\nChoices:\n (A) Yes\n (B) No\n\nAnswer:`,
  answer_matching_behavior: " (A)",
  answer_not_matching_behavior: " (B)",
})}\n`;
const EXAMPLES = 301;

const METADATA = {
  ...VALID_METADATA,
  title: "Sycophancy <img src=x onerror=alert(1)>",
  behaviour: { matchingBehaviour: "neither" },
};

/** A grid family: 2 sizes × RLHF steps 0, 500 and 1000, along RLHF steps (its own axis). */
const grid = (name: string) => ({
  ...gpt3,
  name,
  axis: "rlhf_steps",
  models: [1e8, 1e9].flatMap((parameters) =>
    [0, 500, 1000].map((rlhfSteps) => ({ id: `${name}-${parameters}-${rlhfSteps}`, parameters, rlhfSteps })),
  ),
});

/**
 * A model's behaviour results at RLHF step index k (0, 1, 2): fewer examples favour the matching answer (80%, 60%,
 * 40%) while those that do grow surer, so along the steps the mean matching probability rises and the win rate falls.
 */
function behaviourResults(k: number): string {
  const winners = Math.round(EXAMPLES * (0.8 - 0.2 * k));
  const rows = Array.from({ length: EXAMPLES }, (_, i) => {
    const p = i < winners ? 0.51 + 0.2 * k : 0.01 + 0.2 * k;
    return `${i},${Math.log(p)},${Math.log(1 - p)}`;
  });
  return `index,logprob_matching,logprob_not_matching\n${rows.join("\n")}\n`;
}

async function postBehaviourResults(id: string, organiser: string, family: ReturnType<typeof grid>): Promise<void> {
  const form = new FormData();
  form.append("family", JSON.stringify(family));
  for (const model of family.models)
    form.append("results", new Blob([behaviourResults(model.rlhfSteps / 500)]), `${model.id}.csv`);
  const uploaded = await exports.default.fetch(`http://isv.test/v1/review/submissions/${id}/results`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${organiser}` },
  });
  expect(uploaded.status, await uploaded.clone().text()).toBe(201);
}

const plot = (id: string, query: string, bearer?: string) =>
  call(`${bearer ? "/v1/review" : "/v1"}/submissions/${id}/plot.svg${query}`, bearer);

describe("an accepted behaviour dataset (matching behaviour neither) on a grid family", () => {
  let organiser: string;
  let id: string;
  let board: Leaderboard;
  let page: string;
  let etagBefore: string;
  let etagAfter: string;

  beforeAll(async () => {
    organiser = await token("organiser");
    const form = new FormData();
    form.append("metadata", JSON.stringify(METADATA));
    form.append("file", new Blob([ITEMS], { type: "application/jsonl" }), "task.jsonl");
    const created = await exports.default.fetch("http://isv.test/v1/submissions", { method: "POST", body: form });
    expect(created.status).toBe(201);
    ({ id } = await created.json<{ id: string }>());
    await postBehaviourResults(id, organiser, grid("grid-b"));
    expect((await postDecision(id, organiser, "accept")).status).toBe(200);
    const response = await call("/v1/leaderboard");
    etagBefore = defined(response.headers.get("etag"), "an ETag");
    board = await response.json();
    page = await (await call("/")).text();
  });

  const entry = () =>
    defined(
      board.behaviours?.find((behaviour) => behaviour.id === id),
      "the dataset",
    );

  it("is on the leaderboard, in its schema, under behaviours and not among the ranked tasks", () => {
    expect(validateLeaderboard(board), JSON.stringify(validateLeaderboard.errors)).toBe(true);
    expect([entry().id, board.tasks.some((task) => task.id === id)]).toEqual([id, false]);
  });

  it("shows both matching metrics, direction only, with the matching behaviour from the metadata", () => {
    expect([
      entry().matchingBehaviour,
      entry().metrics.map((metric) => [metric.name, metric.orientation, metric.families.length]),
    ]).toEqual([
      "neither",
      [
        ["matching_probability", "direction_only", 5],
        ["matching_win_rate", "direction_only", 5],
      ],
    ]);
  });

  it("words the lines along RLHF steps as directions: the probability rises, the win rate falls", () => {
    expect(entry().metrics.map((metric) => metric.families[0]?.verdictWords)).toEqual([
      "rises with RLHF steps",
      "falls with RLHF steps",
    ]);
  });

  it("states the disagreement on each size", () => {
    expect(entry().disagreements).toHaveLength(2);
  });

  it("shows the dataset on the page in its own section, after the tasks, its title escaped", () => {
    const section = page.slice(page.indexOf('<section id="behaviours">'));
    expect(section).toContain("<h2>Behaviour evaluations</h2>");
    expect(section).toContain("Sycophancy &lt;img src=x onerror=alert(1)&gt;");
    expect(page).not.toContain("<img src=x");
  });

  it("draws the public plot of the headline along the first line's axis by default", async () => {
    const svg = await (await plot(id, "")).text();
    expect(svg).toContain(": Mean probability of the matching answer against RLHF steps</title>");
    expect(svg).toContain(">RLHF steps (linear scale)</text>");
  });

  it("draws the win rate along size when asked, one line per step count, without a better side", async () => {
    const response = await plot(id, "?metric=matching_win_rate&axis=params");
    const svg = await response.text();
    expect([response.status, response.headers.get("content-type")]).toEqual([200, "image/svg+xml; charset=utf-8"]);
    expect([...svg.matchAll(/data-fixed="([^"]+)"/g)].map((match) => match[1])).toEqual([
      "0 RLHF steps",
      "500 RLHF steps",
      "1K RLHF steps",
    ]);
    expect(svg).toContain("Share of examples where the matching answer is more probable (direction only)</text>");
    expect(svg).not.toMatch(/higher is better|lower is better/);
  });

  it("refuses an unknown axis (400 invalid_query, naming the parameter)", async () => {
    expect(await problemOf(await plot(id, "?axis=sideways"))).toMatchObject({
      status: 400,
      code: "invalid_query",
      parameter: "axis",
    });
  });

  it("refuses an unknown metric (400 invalid_query, naming the parameter)", async () => {
    expect(await problemOf(await plot(id, "?metric=bogus"))).toMatchObject({
      status: 400,
      code: "invalid_query",
      parameter: "metric",
    });
  });

  it("refuses the loss when neither side is desired (400 invalid_query)", async () => {
    expect(await problemOf(await plot(id, "?metric=loss"))).toMatchObject({
      code: "invalid_query",
      parameter: "metric",
    });
  });

  it("answers 404 for an axis no line runs along", async () => {
    expect(await problemOf(await plot(id, "?axis=flops"))).toMatchObject({ status: 404, code: "analysis_not_found" });
  });

  it("draws the organisers' plot of a metric along an axis", async () => {
    const svg = await (await plot(id, "?metric=matching_win_rate&axis=rlhf_steps", organiser)).text();
    expect(svg).toContain(": Share of examples where the matching answer is more probable against RLHF steps</title>");
  });

  it("refuses an unknown axis on the organisers' plot (400 invalid_query)", async () => {
    expect(await problemOf(await plot(id, "?axis=sideways", organiser))).toMatchObject({
      code: "invalid_query",
      parameter: "axis",
    });
  });

  it("refuses an unknown metric on the organisers' plot (400 invalid_query)", async () => {
    expect(await problemOf(await plot(id, "?metric=bogus", organiser))).toMatchObject({
      code: "invalid_query",
      parameter: "metric",
    });
  });

  describe("once results on another family come in", () => {
    beforeAll(async () => {
      await postBehaviourResults(id, organiser, grid("grid-c"));
      etagAfter = defined((await call("/v1/leaderboard")).headers.get("etag"), "an ETag");
    });

    it("changes the leaderboard's ETag, though no ranked task changed", () => {
      expect(etagAfter).not.toBe(etagBefore);
    });
  });
});
