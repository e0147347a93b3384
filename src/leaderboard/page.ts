import { escapeXml } from "../util/escape";
import { htmlDocument } from "../http/html";
import type { SubmissionWindow } from "../competition/settings";
import type { LeaderboardBehaviour, LeaderboardLine } from "../generated/types";
import { isVerdict, VERDICTS, type Verdict } from "../analysis/statistics";
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

/** The unit of inverse-scaling strength, as the page writes it. */
const STRENGTH_UNIT = "robust SD per decade";

/** Next to a rank: a warning when the line the rank comes from is not inverse scaling, so no one reads it as such. */
function notInverseNote(task: Task): string {
  const verdict = task.rankedBy?.verdict;
  if (verdict === undefined || verdict === "inverse") return "";
  return ` <span class="not-inverse">not inverse scaling: its strongest line is ${escapeXml(verdictLabel(verdict))}</span>`;
}

/** Where the rank comes from: the strength, the line and family it was measured on, and the headline metric. */
function rankSource(task: Task): string {
  if (task.inverseStrength === null)
    return task.families.length === 0
      ? "Not ranked by strength: no analysis yet."
      : "Not ranked by strength: no line along model size (or FLOPs) to measure it on.";
  const strength = `Inverse-scaling strength <strong>${task.inverseStrength.toFixed(3)}</strong> ${STRENGTH_UNIT}`;
  const from = task.rankedBy
    ? ` on ${escapeXml(lineLabel(task.rankedBy))} (along ${escapeXml(AXIS_WORDS[task.rankedBy.axis])})`
    : "";
  const metric = task.metric ? `, ${escapeXml(task.metric)} (the headline metric)` : "";
  return `${strength}${from}${metric}.`;
}

/** The lines the public plot draws: those along the first line's axis, as the plot route does by default. */
function plotAlt(task: Task): string {
  // The plot is drawn along the ranked line's axis (build.ts), else the first line's.
  const axis = task.rankedBy?.axis ?? task.families[0]?.axis;
  const drawn = task.families.filter((family) => family.axis === axis);
  const verdicts = drawn.map((family) => `${lineLabel(family)}: ${verdictLabel(family.verdict)}`).join("; ");
  return `Plot of ${task.metric ?? "the metric"} against ${axis === "rlhf_steps" ? "RLHF steps" : "scale"} for ${task.title}, one panel per family: ${verdicts}`;
}

function taskArticle(task: Task): string {
  const families = task.families
    .map(
      (family) =>
        `<li><span class="verdict verdict-${escapeXml(family.verdict)}">${escapeXml(verdictLabel(family.verdict))}</span> on ${escapeXml(lineLabel(family))}: ${slopeText(family)}</li>`,
    )
    .join("");
  return `<article class="task" id="task-${escapeXml(task.id)}">
  <h2><span class="rank">#${task.rank}</span>${notInverseNote(task)} ${escapeXml(task.title)}</h2>
  <p class="meta">${authorsText(task.authors)} · ${escapeXml(task.taskType)} · ${task.examples} examples · data licence ${escapeXml(task.dataLicence || "not given")}</p>
  <p class="ranked">${rankSource(task)}</p>
  ${task.metric && families ? `<p class="headline">Verdicts on ${escapeXml(task.metric)} (the headline metric)</p>` : ""}
  <ul class="families">${families}</ul>
  ${task.plotUrl ? `<img src="${escapeXml(task.plotUrl)}" alt="${escapeXml(plotAlt(task))}" width="720" loading="lazy">` : ""}
</article>`;
}

/** An axis in words, after "along". */
const AXIS_WORDS: Record<Axis, string> = { params: "parameters", flops: "training FLOPs", rlhf_steps: "RLHF steps" };

/** What the page's filter asks for: the query parameters `family` and `verdict`, each absent for any. */
export interface LeaderboardQuery {
  family?: string | undefined;
  verdict?: string | undefined;
}

interface Filter {
  family: string | undefined;
  verdict: Verdict | undefined;
  /** A verdict asked for that does not exist: shown, and not applied. */
  unknownVerdict: string | undefined;
}

function filterOf(query: LeaderboardQuery): Filter {
  const verdict = query.verdict || undefined;
  return {
    family: query.family || undefined,
    verdict: verdict !== undefined && isVerdict(verdict) ? verdict : undefined,
    unknownVerdict: verdict !== undefined && !isVerdict(verdict) ? verdict : undefined,
  };
}

/**
 * Whether one of the task's lines is on the family and has the verdict asked for (the same line for both); with
 * neither asked for, every task, those without lines too.
 */
function matches(task: Task, filter: Filter): boolean {
  if (filter.family === undefined && filter.verdict === undefined) return true;
  return task.families.some(
    (line) =>
      (filter.family === undefined || line.family === filter.family) &&
      (filter.verdict === undefined || line.verdict === filter.verdict),
  );
}

/** The page's address with this filter: links, not a form, so it needs no script and no form-action. */
function filterHref(family: string | undefined, verdict: Verdict | undefined): string {
  const query = new URLSearchParams();
  if (family !== undefined) query.set("family", family);
  if (verdict !== undefined) query.set("verdict", verdict);
  const search = query.toString();
  return search ? `/?${search}` : "/";
}

/** One choice of the filter: a link, or the current choice in bold. */
function choice(label: string, href: string, current: boolean): string {
  return current
    ? `<strong aria-current="true">${escapeXml(label)}</strong>`
    : `<a href="${escapeXml(href)}">${escapeXml(label)}</a>`;
}

/** Links filtering the ranked tasks by family and by verdict, each keeping the other's choice, and what is shown. */
function filterNav(board: Leaderboard, filter: Filter, shown: number): string {
  const families = [...new Set(board.tasks.flatMap((task) => task.families.map((line) => line.family)))].sort();
  const byFamily = [undefined, ...families]
    .map((family) => choice(family ?? "any", filterHref(family, filter.verdict), family === filter.family))
    .join(" · ");
  const byVerdict = [undefined, ...VERDICTS]
    .map((verdict) =>
      choice(verdict ? verdictLabel(verdict) : "any", filterHref(filter.family, verdict), verdict === filter.verdict),
    )
    .join(" · ");
  const asked = [
    filter.family === undefined ? "" : `a line on ${escapeXml(filter.family)}`,
    filter.verdict === undefined ? "" : `verdict ${escapeXml(verdictLabel(filter.verdict))}`,
  ].filter(Boolean);
  const status = asked.length
    ? `<p class="filtered">Showing ${shown} of ${board.tasks.length} ranked tasks: those with ${asked.join(" and ")}${filter.family !== undefined && filter.verdict !== undefined ? " (on the same line)" : ""}. Ranks are those of the whole board.</p>`
    : "";
  const unknown = filter.unknownVerdict
    ? `<p class="filtered">There is no verdict "${escapeXml(filter.unknownVerdict)}"; tasks are shown whatever their verdict.</p>`
    : "";
  return `<nav class="filter" aria-label="Filter the ranked tasks">
<p>Family: ${byFamily}</p>
<p>Verdict: ${byVerdict}</p>
${status}${unknown}</nav>`;
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
        `<img src="${escapeXml(plot.url)}" alt="${escapeXml(`Plot of ${metric.label} ${ALONG[plot.axis].toLowerCase()} for ${behaviour.title}`)}" width="720" loading="lazy">`,
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
export function renderLeaderboardPage(
  board: Leaderboard,
  window?: SubmissionWindow,
  query: LeaderboardQuery = {},
): string {
  const filter = filterOf(query);
  const shown = board.tasks.filter((task) => matches(task, filter));
  const tasks = shown.map(taskArticle).join("\n");
  const none = board.tasks.length === 0 ? "<p>No accepted tasks yet.</p>" : "<p>No ranked task matches.</p>";
  return htmlDocument({
    title: "Inverse Scaling leaderboard",
    style: `  body { max-width: 780px; }
  h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-bottom: 0.2rem; } h3 { font-size: 1.1rem; margin-bottom: 0.2rem; } h4 { margin: 0.3rem 0; }
  .task, .behaviour { border-top: 1px solid #ddd; padding: 1rem 0; } .rank { color: #666; } .meta { color: #555; margin-top: 0; }
  .verdict { display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; background: #eee; font-weight: 600; }
  .verdict-inverse { background: #fde2cf; } .verdict-standard { background: #d8ecf8; } .verdict-u_shaped, .verdict-inverted_u { background: #f3e0ee; }
  .not-inverse { font-size: 0.85rem; font-weight: normal; background: #fff4d6; padding: 0 0.4rem; border-radius: 0.3rem; }
  .filter p, .filtered { margin: 0.2rem 0; } .filter { border-top: 1px solid #ddd; padding: 0.5rem 0; } .strength { color: #333; }
  .metrics { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; }
  .metric { border: 1px solid #eee; padding: 0.5rem; } .reading, .along { color: #555; margin: 0.2rem 0; }
  .disagreement { background: #fff4d6; padding: 0.4rem 0.6rem; border-radius: 0.3rem; }
  img { max-width: 100%; height: auto; border: 1px solid #eee; }
  .status { background: #f4f4f4; padding: 0.5rem 0.7rem; border-radius: 0.3rem; }
  footer { color: #666; font-size: 0.9rem; border-top: 1px solid #ddd; padding-top: 1rem; }`,
    body: `<header>
<h1>Inverse Scaling leaderboard</h1>
<p>Tasks on which larger language models do worse, accepted by the organisers. ${escapeXml(board.ordering)}</p>
<p class="strength"><strong>Inverse-scaling strength</strong> (${STRENGTH_UNIT}) is how much worse a task's headline metric gets each time models grow tenfold, in robust standard deviations of the metric over the task's examples, read at the cautious end of its 97% interval: above 0 means larger models are reliably worse.</p>
${submissionStatus(window)}
</header>
<main>
${board.tasks.length > 0 ? filterNav(board, filter, shown.length) : ""}
${tasks || none}
${behaviourSection(board.behaviours ?? [])}
</main>
<footer>
<p>Generated ${escapeXml(board.generatedAt)}. Data: <a href="/v1/leaderboard">JSON</a> · <a href="/v1/leaderboard.csv">CSV</a> (ranked tasks) · API: <a href="/docs">reference</a>, <a href="/openapi.json">OpenAPI document</a></p>
</footer>`,
  });
}
