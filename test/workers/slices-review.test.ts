import { env, exports } from "cloudflare:workers";
import { strToU8, zipSync } from "fflate";
import { beforeAll, describe, expect, inject, it } from "vitest";
import facts from "../../fixtures/tasks/reference/facts-standard.csv?raw";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import referenceFamily from "../../fixtures/families/reference.json";
import type { SlicesAnalysis } from "../../src/analysis/slices-analysis";
import { startEvaluation } from "../../src/evaluate/start";
import type { StoredFamily } from "../../src/storage/evaluations";
import { latestSliceAnalysis } from "../../src/storage/slice-analyses";
import { getSubmission, type SubmissionRecord } from "../../src/storage/submissions";
import { defined } from "../defined";
import { VALID_METADATA, call, drainShards, heldQueue, postDecision, token } from "./helpers";

/**
 * A task in two parts with a control, evaluated on the reference family and on a private copy of it, as the review
 * desk, the organisers' API, the public figure and the leaderboard show it: the files with their roles, each
 * slice's verdicts, the task-minus-control slope difference and the figure of the task beside its control.
 */
const ORIGIN = "http://isv.test";
const HOSTILE_TITLE = `Memo <script>alert("x")</script> & 'q'`;
const publicFamily: StoredFamily = { ...(referenceFamily as StoredFamily), baseUrl: inject("referenceUrl") };
const privateFamily: StoredFamily = { ...publicFamily, name: "isv-reference-private", visibility: "private" };

/** memo-trap split after its 150th example: each example starts a line with a quote and a name that asks. */
function splitMemoTrap(): [string, string] {
  const [header = "", ...rest] = memoTrap.split(/(?=^"\w+ asks:)/m);
  return [header + rest.slice(0, 150).join(""), header + rest.slice(150).join("")];
}

async function submitTaskWithControl(): Promise<SubmissionRecord> {
  const [first, second] = splitMemoTrap();
  const zip = zipSync({ "part-1.csv": strToU8(first), "part-2.csv": strToU8(second), "facts.csv": strToU8(facts) });
  const files = [
    { name: "part-1.csv", role: "part" },
    { name: "part-2.csv", role: "part" },
    { name: "facts.csv", role: "control" },
  ];
  const form = new FormData();
  const metadata = { ...VALID_METADATA, title: HOSTILE_TITLE, taskType: "classification", files };
  form.append("metadata", JSON.stringify(metadata));
  form.append("file", new Blob([zip], { type: "application/zip" }), "task.zip");
  const response = await exports.default.fetch(`${ORIGIN}/v1/submissions`, { method: "POST", body: form });
  const { id } = await response.json<{ id: string }>();
  expect(response.status).toBe(201);
  return defined(await getSubmission(env.DB, id), `submission ${id}`);
}

async function evaluate(submission: SubmissionRecord, family: StoredFamily): Promise<void> {
  const started = await startEvaluation(heldQueue, submission, family);
  if (!started.ok) throw new Error(started.reason);
  await drainShards(started.evaluation.id);
}

/** Signs in on the desk with an organiser token; the Cookie header the browser would send back. */
async function deskCookie(organiser: string): Promise<string> {
  const response = await exports.default.fetch(`${ORIGIN}/review/sign-in`, {
    method: "POST",
    body: new URLSearchParams({ token: organiser }),
    headers: { origin: ORIGIN },
    redirect: "manual",
  });
  expect(response.status).toBe(303);
  return defined(response.headers.get("set-cookie"), "a session cookie").split(";")[0] ?? "";
}

interface Figure {
  status: number;
  headers: Headers;
  svg: string;
}

async function figure(answer: Promise<Response>): Promise<Figure> {
  const response = await answer;
  return { status: response.status, headers: response.headers, svg: await response.text() };
}

const onDesk = (path: string, cookie: string) =>
  exports.default.fetch(`${ORIGIN}${path}`, { headers: { cookie }, redirect: "manual" });

/** Text as hono/jsx escapes it. */
const asHtml = (text: string): string =>
  text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");

describe("a task with a control, on the desk, the organisers' API, the public figure and the leaderboard", () => {
  let id: string;
  let slices: SlicesAnalysis;
  let deskPage: string;
  /** A figure's answer, its body read. */
  let deskFigure: Figure;
  let organiserFigure: Figure;
  let publicBeforeAcceptance: Response;
  let publicFigure: Figure;
  let board: { tasks: { id: string; contrasts?: unknown[]; slicesPlotUrl?: string }[] };
  let boardPage: string;

  beforeAll(async () => {
    const submission = await submitTaskWithControl();
    id = submission.id;
    await evaluate(submission, publicFamily);
    await evaluate(submission, privateFamily);
    slices = defined((await latestSliceAnalysis(env.DB, submission))?.analysis, "the slices analysis");
    const organiser = await token("organiser");
    const cookie = await deskCookie(organiser);
    deskPage = await (await onDesk(`/review/submissions/${id}`, cookie)).text();
    deskFigure = await figure(onDesk(`/review/submissions/${id}/slices.svg`, cookie));
    organiserFigure = await figure(call(`/v1/review/submissions/${id}/slices.svg`, organiser));
    publicBeforeAcceptance = await call(`/v1/submissions/${id}/slices.svg`);
    expect((await postDecision(id, organiser, "accept")).status).toBe(200);
    publicFigure = await figure(call(`/v1/submissions/${id}/slices.svg`));
    board = await (await call("/v1/leaderboard")).json();
    boardPage = await (await exports.default.fetch(`${ORIGIN}/`)).text();
  }, 240_000);

  it("compares the task with its control on both families", () => {
    expect(slices.contrasts.map(({ family, other, claim }) => [family, other.label, claim])).toEqual([
      ["isv-reference", "facts.csv", "excludes_zero"],
      ["isv-reference-private", "facts.csv", "excludes_zero"],
    ]);
  });

  describe("the desk's task page", () => {
    it("lists the files with their roles, pairing and examples", () => {
      const rows = [
        ...deskPage.matchAll(/<tr><th scope="row"><code>([^<]+)<\/code><\/th>((?:<td>[^<]*<\/td>)+)<\/tr>/g),
      ];
      expect(rows.map(([, name, cells]) => [name, cells?.replace(/<\/?td>/g, "|")])).toEqual([
        ["part-1.csv", "|part||–||no||150 (from 1)|"],
        ["part-2.csv", "|part||–||no||150 (from 151)|"],
        ["facts.csv", "|control||–||no||350 (from 301)|"],
      ]);
    });

    it("gives each slice's verdict per family line, with its slope", () => {
      const verdicts = [
        ...deskPage.matchAll(
          /<th scope="row">([^<]+)<\/th><td>\d+<\/td><td>([^<]+)<\/td><td><strong>([^<]+)<\/strong>/g,
        ),
      ];
      expect(verdicts.map(([, slice, line, verdict]) => `${slice} ${line} ${verdict}`)).toEqual([
        "task isv-reference inverse",
        "task isv-reference-private inverse",
        "part &quot;part-1.csv&quot; isv-reference u-shaped",
        "part &quot;part-1.csv&quot; isv-reference-private u-shaped",
        "part &quot;part-2.csv&quot; isv-reference inverse",
        "part &quot;part-2.csv&quot; isv-reference-private inverse",
        "control &quot;facts.csv&quot; isv-reference standard",
        "control &quot;facts.csv&quot; isv-reference-private standard",
      ]);
      expect(deskPage).toMatch(/<td>slope \+[\d.]+ per decade \(95% CI \+[\d.]+ to \+[\d.]+\)<\/td>/);
    });

    it("states each slope difference with its interval, unit, pairing and claim", () => {
      for (const contrast of slices.contrasts) expect(deskPage).toContain(asHtml(contrast.statement));
      expect(deskPage).toMatch(
        /<strong>isv-reference<\/strong>, task − control &quot;facts.csv&quot;: \+[\d.]+ per decade \(95% t interval \+[\d.]+ to \+[\d.]+ per decade\), unpaired; <strong>excludes 0: the task&#39;s trend is worse<\/strong>/,
      );
    });

    it("shows the figure, served to the desk's session with every family", async () => {
      expect(deskPage).toContain(`<img src="/review/submissions/${id}/slices.svg" alt="The task beside its controls`);
      expect([deskFigure.status, deskFigure.headers.get("content-type")]).toEqual([
        200,
        "image/svg+xml; charset=utf-8",
      ]);
      const { svg } = deskFigure;
      expect(svg).toContain('data-family="isv-reference-private"');
      expect(svg).toContain(`<title id="plot-title">${asHtml(HOSTILE_TITLE)}: Loss (nats)`);
    });
  });

  it("gives organisers the same figure through the API", async () => {
    expect([organiserFigure.status, organiserFigure.headers.get("cache-control")]).toEqual([
      200,
      "private, max-age=60",
    ]);
    expect(organiserFigure.svg).toBe(deskFigure.svg);
  });

  it("keeps the public figure private until the task is accepted", () => {
    expect(publicBeforeAcceptance.status).toBe(404);
  });

  it("draws the public figure without the private family once accepted", async () => {
    expect([publicFigure.status, publicFigure.headers.get("access-control-allow-origin")]).toEqual([200, "*"]);
    const { svg } = publicFigure;
    expect(svg).toContain('data-family="isv-reference"');
    expect(svg).not.toContain("isv-reference-private");
  });

  it("lists the public contrast on the leaderboard with the figure's URL", () => {
    const entry = defined(
      board.tasks.find((task) => task.id === id),
      "the task on the board",
    );
    const [contrast] = slices.contrasts;
    expect(entry.contrasts).toEqual([
      {
        family: "isv-reference",
        axis: "params",
        other: { role: "control", label: "facts.csv" },
        pairing: "unpaired",
        per: "decade",
        estimate: contrast?.difference.estimate,
        interval: contrast?.difference.test.interval,
        level: 0.95,
        claim: "excludes_zero",
        taskTrend: "worse",
        side: "above",
        statement: contrast?.statement,
      },
    ]);
    expect(entry.slicesPlotUrl).toBe(`/v1/submissions/${id}/slices.svg`);
  });

  it("shows the contrast and the figure under the task on the leaderboard page", () => {
    expect(boardPage).toMatch(
      /<li>On isv-reference, task − control &quot;facts.csv&quot;: \+[\d.]+ per decade \(95% interval \+[\d.]+ to \+[\d.]+, unpaired\), excludes 0: the task&#39;s trend is worse.<\/li>/,
    );
    expect(boardPage).toContain(`<img src="/v1/submissions/${id}/slices.svg" alt="`);
    expect(boardPage).not.toContain("isv-reference-private");
  });
});
