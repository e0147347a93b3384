import { escapeXml } from "../util/escape";
import { htmlDocument } from "../http/html";
import type { SubmissionWindow } from "../competition/settings";
import type { LeaderboardBehaviour, LeaderboardLine } from "../generated/types";
import { lineLabel, type Leaderboard } from "./build";

type Task = Leaderboard["tasks"][number];
type BehaviourMetric = LeaderboardBehaviour["metrics"][number];
type BehaviourLine = BehaviourMetric["families"][number];
type Axis = NonNullable<LeaderboardLine["axis"]>;

/** One line on whether researchers can submit now, with the deadline or the next opening. */
function submissionStatus(window: SubmissionWindow | undefined): string {
  if (!window) return "";
  if (!window.open) return `<p class="status">${escapeXml(window.message)}</p>`;
  if (!window.round)
    return `<p class="status">Submissions are open: <code>POST /v1/submissions</code> or <code>npx isv submit</code>.</p>`;
  return `<p class="status">Submissions for ${escapeXml(window.round.name)} are open until ${escapeXml(window.round.closesAt)}.</p>`;
}

const verdictLabel = (verdict: string): string => verdict.replace("_", "-");
const fixed3 = (value: number): string => value.toFixed(3);

/** A line's slope under its own unit: per decade on a log axis, per 1000 RLHF steps on a linear one. */
function slopeText(
  line: Pick<LeaderboardLine, "slopeCi95"> & ({ slopePerDecade: number } | { slopePer1000Steps: number }),
): string {
  const [value, unit] =
    "slopePerDecade" in line ? [line.slopePerDecade, "per decade"] : [line.slopePer1000Steps, "per 1000 RLHF steps"];
  return `slope ${fixed3(value)} ${unit} (95% CI ${fixed3(line.slopeCi95[0])} to ${fixed3(line.slopeCi95[1])})`;
}

/** Named authors with their affiliations, or Anonymous. */
function authorsText(authors: Task["authors"]): string {
  return authors.length
    ? authors
        .map((author) => escapeXml(author.affiliation ? `${author.name} (${author.affiliation})` : author.name))
        .join(", ")
    : "Anonymous";
}

function taskArticle(task: Task): string {
  const families = task.families
    .map(
      (family) =>
        `<li><span class="verdict verdict-${escapeXml(family.verdict)}">${escapeXml(verdictLabel(family.verdict))}</span> on ${escapeXml(lineLabel(family))}: ${slopeText(family)}</li>`,
    )
    .join("");
  return `<article class="task" id="task-${escapeXml(task.id)}">
  <h2><span class="rank">#${task.rank}</span> ${escapeXml(task.title)}</h2>
  <p class="meta">${authorsText(task.authors)} · ${escapeXml(task.taskType)} · ${task.examples} examples · data licence ${escapeXml(task.dataLicence || "not given")}</p>
  <p>Inverse-scaling strength: ${task.inverseStrength === null ? "no analysis yet" : `${task.inverseStrength.toFixed(3)} robust SD per decade (lower bound of the 97% slope interval; above 0 means reliably worse with scale)`}</p>
  ${task.metric && families ? `<p class="headline">Verdicts on ${escapeXml(task.metric)} (the headline metric)</p>` : ""}
  <ul class="families">${families}</ul>
  ${task.plotUrl ? `<img src="${escapeXml(task.plotUrl)}" alt="${escapeXml(`Plot of ${task.metric ?? "the metric"} against scale for ${task.title}`)}" width="720" height="460" loading="lazy">` : ""}
</article>`;
}

/** What a dataset's matching behaviour means for reading its verdicts. */
const MATCHING_WORDS: Record<LeaderboardBehaviour["matchingBehaviour"], string> = {
  undesired:
    "the matching answers show an undesired behaviour: performance is the probability on the other answers, so lower matching metrics are better",
  desired: "the matching answers show a desired behaviour: higher matching metrics are better",
  neither:
    "the matching behaviour is neither desired nor undesired: verdicts say only which way each metric moves, not whether that is better or worse",
};

/** How the lines along an axis are grouped, in words. */
const ALONG: Record<Axis, string> = {
  rlhf_steps: "Against RLHF steps",
  params: "Against size",
  flops: "Against training FLOPs",
};

function readingOf(metric: BehaviourMetric): string {
  if (metric.orientation === "direction_only") return "direction only";
  return metric.direction === "lower_is_better" ? "lower is better" : "higher is better";
}

/** One line of a behaviour metric: its verdict in words, slope with its unit, and each model's mean. */
function behaviourLineItem(line: BehaviourLine, metric: BehaviourMetric): string {
  const verdictClass =
    metric.orientation === "direction_only" ? "verdict-direction" : `verdict-${escapeXml(line.verdict)}`;
  const means = line.models.map((model) => `${escapeXml(model.id)} ${fixed3(model.mean)}`).join(", ");
  return `<li><span class="verdict ${verdictClass}">${escapeXml(line.verdictWords)}</span> on ${escapeXml(lineLabel(line))}: ${slopeText(line)}; means ${means}</li>`;
}

/** A metric's lines grouped by axis (one line per size along RLHF steps, one per step count along size), and its plots. */
function behaviourMetricSection(behaviour: LeaderboardBehaviour, metric: BehaviourMetric): string {
  const axes = [...new Set(metric.families.map((line) => line.axis))];
  const groups = axes
    .map((axis) => {
      const items = metric.families
        .filter((line) => line.axis === axis)
        .map((line) => behaviourLineItem(line, metric))
        .join("");
      return `<p class="along">${ALONG[axis]}:</p><ul class="families">${items}</ul>`;
    })
    .join("");
  const plots = metric.plots
    .map(
      (plot) =>
        `<img src="${escapeXml(plot.url)}" alt="${escapeXml(`Plot of ${metric.label} ${ALONG[plot.axis].toLowerCase()} for ${behaviour.title}`)}" width="720" height="460" loading="lazy">`,
    )
    .join("");
  return `<section class="metric metric-${escapeXml(metric.name)}">
    <h4>${escapeXml(metric.label)} <code>${escapeXml(metric.name)}</code></h4>
    <p class="reading">${readingOf(metric)}</p>
    ${groups || "<p>No analysis yet.</p>"}
    ${plots}
  </section>`;
}

function behaviourArticle(behaviour: LeaderboardBehaviour): string {
  const disagreements = behaviour.disagreements
    .map((text) => `<p class="disagreement">${escapeXml(text)}</p>`)
    .join("");
  return `<article class="behaviour" id="behaviour-${escapeXml(behaviour.id)}">
  <h3>${escapeXml(behaviour.title)}</h3>
  <p class="meta">${authorsText(behaviour.authors)} · ${behaviour.examples} examples · data licence ${escapeXml(behaviour.dataLicence || "not given")}</p>
  <p>Matching behaviour <strong>${escapeXml(behaviour.matchingBehaviour)}</strong>: ${MATCHING_WORDS[behaviour.matchingBehaviour]}.</p>
  ${disagreements}
  <div class="metrics">
  ${behaviour.metrics.map((metric) => behaviourMetricSection(behaviour, metric)).join("\n  ")}
  </div>
</article>`;
}

/** The behaviour datasets, after the prize tasks; none on a board built before they were listed. */
function behaviourSection(behaviours: LeaderboardBehaviour[]): string {
  if (behaviours.length === 0) return "";
  return `<section id="behaviours">
<h2>Behaviour evaluations</h2>
<p>Model-written evaluations accepted by the organisers, each with both matching metrics side by side (each in its own charts): the mean probability of the matching answer, and the share of examples where the matching answer is the more probable. They are not ranked, against each other or the tasks above: listed in order of acceptance.</p>
${behaviours.map(behaviourArticle).join("\n")}
</section>`;
}

/**
 * The leaderboard as a page: server-rendered HTML with no script, so it works without JavaScript and cannot run
 * a submitter's text. Every user-provided string is escaped; plots are the public SVGs.
 */
export function renderLeaderboardPage(board: Leaderboard, window?: SubmissionWindow): string {
  const tasks = board.tasks.map(taskArticle).join("\n");
  return htmlDocument({
    title: "Inverse Scaling leaderboard",
    style: `  body { max-width: 780px; }
  h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-bottom: 0.2rem; } h3 { font-size: 1.1rem; margin-bottom: 0.2rem; } h4 { margin: 0.3rem 0; }
  .task, .behaviour { border-top: 1px solid #ddd; padding: 1rem 0; } .rank { color: #666; } .meta { color: #555; margin-top: 0; }
  .verdict { display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; background: #eee; font-weight: 600; }
  .verdict-inverse { background: #fde2cf; } .verdict-standard { background: #d8ecf8; } .verdict-u_shaped, .verdict-inverted_u { background: #f3e0ee; }
  .metrics { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; }
  .metric { border: 1px solid #eee; padding: 0.5rem; } .reading, .along { color: #555; margin: 0.2rem 0; }
  .disagreement { background: #fff4d6; padding: 0.4rem 0.6rem; border-radius: 0.3rem; }
  img { max-width: 100%; height: auto; border: 1px solid #eee; }
  .status { background: #f4f4f4; padding: 0.5rem 0.7rem; border-radius: 0.3rem; }
  footer { color: #666; font-size: 0.9rem; border-top: 1px solid #ddd; padding-top: 1rem; }`,
    body: `<header>
<h1>Inverse Scaling leaderboard</h1>
<p>Tasks on which larger language models do worse, accepted by the organisers. ${escapeXml(board.ordering)}</p>
${submissionStatus(window)}
</header>
<main>
${tasks || "<p>No accepted tasks yet.</p>"}
${behaviourSection(board.behaviours ?? [])}
</main>
<footer>
<p>Generated ${escapeXml(board.generatedAt)}. Data: <a href="/v1/leaderboard">JSON</a> · <a href="/v1/leaderboard.csv">CSV</a> (ranked tasks) · API: <a href="/docs">reference</a>, <a href="/openapi.json">OpenAPI document</a></p>
</footer>`,
  });
}
