import type { Child } from "hono/jsx";
import type { SubmissionWindow } from "../competition/settings";
import type { LeaderboardBehaviour, LeaderboardLine } from "../generated/types";
import { contrastLine, contrastWords } from "../analysis/slices-plot";
import { isVerdict, VERDICTS, type Verdict } from "../analysis/statistics";
import { Layout, pagePolicy, renderToString } from "../pages/layout";
import { lineLabel, type Leaderboard } from "./build";

type Task = Leaderboard["tasks"][number];
type BehaviourMetric = LeaderboardBehaviour["metrics"][number];
type BehaviourLine = BehaviourMetric["families"][number];
type Axis = NonNullable<LeaderboardLine["axis"]>;

/** The page has no script and no form (its filter is links): its policy allows neither. */
export function leaderboardPagePolicy(origin: string): string {
  return pagePolicy(origin, { script: false, forms: false });
}

/** One line on whether researchers can submit now, with the deadline or the next opening, and where to submit. */
function SubmissionStatus({ window }: { window: SubmissionWindow | undefined }) {
  if (!window) return null;
  if (!window.open) return <p class="status">{window.message}</p>;
  if (!window.round)
    return (
      <p class="status">
        Submissions are open: on the <a href="/submit">submit page</a>, with <code>POST /v1/submissions</code> or{" "}
        <code>npx isv submit</code>.
      </p>
    );
  return (
    <p class="status">
      Submissions for {window.round.name} are open until {window.round.closesAt}. <a href="/submit">Submit a task</a>.
    </p>
  );
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
    ? authors.map((author) => (author.affiliation ? `${author.name} (${author.affiliation})` : author.name)).join(", ")
    : "Anonymous";
}

/** The unit of inverse-scaling strength, as the page writes it. */
const STRENGTH_UNIT = "robust SD per decade";

/** An axis in words, after "along". */
const AXIS_WORDS: Record<Axis, string> = { params: "parameters", flops: "training FLOPs", rlhf_steps: "RLHF steps" };

/** Items with a separator between each two, as children of one element. */
function joined(items: readonly Child[], separator: string): Child[] {
  return items.flatMap((item, index) => (index === 0 ? [item] : [separator, item]));
}

/** Next to a rank: a warning when the line the rank comes from is not inverse scaling, so no one reads it as such. */
function NotInverseNote({ task }: { task: Task }) {
  const verdict = task.rankedBy?.verdict;
  if (verdict === undefined || verdict === "inverse") return null;
  return (
    <>
      {" "}
      <span class="not-inverse">not inverse scaling: its strongest line is {verdictLabel(verdict)}</span>
    </>
  );
}

/** Where the rank comes from: the strength, the line and family it was measured on, and the headline metric. */
function RankSource({ task }: { task: Task }) {
  if (task.inverseStrength === null)
    return task.families.length === 0
      ? "Not ranked by strength: no analysis yet."
      : "Not ranked by strength: no line along model size (or FLOPs) to measure it on.";
  const from = task.rankedBy ? ` on ${lineLabel(task.rankedBy)} (along ${AXIS_WORDS[task.rankedBy.axis]})` : "";
  const metric = task.metric ? `, ${task.metric} (the headline metric)` : "";
  return (
    <>
      Inverse-scaling strength <strong>{task.inverseStrength.toFixed(3)}</strong> {STRENGTH_UNIT}
      {from}
      {metric}.
    </>
  );
}

/** The lines the public plot draws: those along the first line's axis, as the plot route does by default. */
function plotAlt(task: Task): string {
  // The plot is drawn along the ranked line's axis (build.ts), else the first line's.
  const axis = task.rankedBy?.axis ?? task.families[0]?.axis;
  const drawn = task.families.filter((family) => family.axis === axis);
  const verdicts = drawn.map((family) => `${lineLabel(family)}: ${verdictLabel(family.verdict)}`).join("; ");
  return `Plot of ${task.metric ?? "the metric"} against ${axis === "rlhf_steps" ? "RLHF steps" : "scale"} for ${task.title}, one panel per family: ${verdicts}`;
}

/**
 * A task with controls or variants: per public family line, its slope minus each one's with the interval and claim,
 * and the figure of them side by side. Nothing for a task without them.
 */
function TaskContrasts({ task }: { task: Task }) {
  if (!task.contrasts) return null;
  return (
    <>
      <p class="headline">Beside its controls and variants on {task.metric ?? "the headline metric"}</p>
      <ul class="contrasts">
        {task.contrasts.map((contrast) => (
          <li>
            On {contrastLine(contrast)}, {contrastWords(contrast)}.
          </li>
        ))}
      </ul>
      {task.slicesPlotUrl ? (
        <img
          src={task.slicesPlotUrl}
          alt={`${task.title}: the task beside its controls and variants, one panel per family line: ${task.contrasts.map((contrast) => `${contrastLine(contrast)}, ${contrastWords(contrast)}`).join("; ")}`}
          width="720"
          loading="lazy"
        />
      ) : null}
    </>
  );
}

function TaskArticle({ task }: { task: Task }) {
  return (
    <article class="task" id={`task-${task.id}`}>
      <h2>
        <span class="rank">#{task.rank}</span>
        <NotInverseNote task={task} /> {task.title}
      </h2>
      <p class="meta">
        {authorsText(task.authors)} · {task.taskType} · {task.examples} examples · data licence{" "}
        {task.dataLicence || "not given"}
      </p>
      <p class="ranked">
        <RankSource task={task} />
      </p>
      {task.families.length > 0 ? (
        <>
          {task.metric ? <p class="headline">Verdicts on {task.metric} (the headline metric)</p> : null}
          <ul class="families">
            {task.families.map((family) => (
              <li>
                <span class={`verdict verdict-${family.verdict}`}>{verdictLabel(family.verdict)}</span> on{" "}
                {lineLabel(family)}: {slopeText(family)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {task.plotUrl ? <img src={task.plotUrl} alt={plotAlt(task)} width="720" loading="lazy" /> : null}
      <TaskContrasts task={task} />
    </article>
  );
}

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
function choice(label: string, href: string, current: boolean): Child {
  return current ? <strong aria-current="true">{label}</strong> : <a href={href}>{label}</a>;
}

/** What a filter shows, in words: how many of the ranked tasks, and which. */
function FilterStatus({ board, filter, shown }: { board: Leaderboard; filter: Filter; shown: number }) {
  const asked = [
    filter.family === undefined ? "" : `a line on ${filter.family}`,
    filter.verdict === undefined ? "" : `verdict ${verdictLabel(filter.verdict)}`,
  ].filter(Boolean);
  if (asked.length === 0) return null;
  const sameLine = filter.family !== undefined && filter.verdict !== undefined ? " (on the same line)" : "";
  return (
    <p class="filtered">
      Showing {shown} of {board.tasks.length} ranked tasks: those with {asked.join(" and ")}
      {sameLine}. Ranks are those of the whole board.
    </p>
  );
}

/** Links filtering the ranked tasks by family and by verdict, each keeping the other's choice, and what is shown. */
function FilterNav({ board, filter, shown }: { board: Leaderboard; filter: Filter; shown: number }) {
  const families = [...new Set(board.tasks.flatMap((task) => task.families.map((line) => line.family)))].sort();
  const byFamily = [undefined, ...families].map((family) =>
    choice(family ?? "any", filterHref(family, filter.verdict), family === filter.family),
  );
  const byVerdict = [undefined, ...VERDICTS].map((verdict) =>
    choice(verdict ? verdictLabel(verdict) : "any", filterHref(filter.family, verdict), verdict === filter.verdict),
  );
  return (
    <nav class="filter" aria-label="Filter the ranked tasks">
      <p>Family: {joined(byFamily, " · ")}</p>
      <p>Verdict: {joined(byVerdict, " · ")}</p>
      <FilterStatus board={board} filter={filter} shown={shown} />
      {filter.unknownVerdict ? (
        <p class="filtered">There is no verdict "{filter.unknownVerdict}"; tasks are shown whatever their verdict.</p>
      ) : null}
    </nav>
  );
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
function BehaviourLineItem({ line, metric }: { line: BehaviourLine; metric: BehaviourMetric }) {
  const verdictClass = metric.orientation === "direction_only" ? "verdict-direction" : `verdict-${line.verdict}`;
  const means = line.models.map((model) => `${model.id} ${fixed3(model.mean)}`).join(", ");
  return (
    <li>
      <span class={`verdict ${verdictClass}`}>{line.verdictWords}</span> on {lineLabel(line)}: {slopeText(line)}; means{" "}
      {means}
    </li>
  );
}

/** A metric's lines grouped by axis (one line per size along RLHF steps, one per step count along size), and its plots. */
function BehaviourMetricSection({ behaviour, metric }: { behaviour: LeaderboardBehaviour; metric: BehaviourMetric }) {
  const axes = [...new Set(metric.families.map((line) => line.axis))];
  return (
    <section class={`metric metric-${metric.name}`}>
      <h4>
        {metric.label} <code>{metric.name}</code>
      </h4>
      <p class="reading">{readingOf(metric)}</p>
      {axes.length === 0 ? <p>No analysis yet.</p> : null}
      {axes.map((axis) => (
        <>
          <p class="along">{ALONG[axis]}:</p>
          <ul class="families">
            {metric.families
              .filter((line) => line.axis === axis)
              .map((line) => (
                <BehaviourLineItem line={line} metric={metric} />
              ))}
          </ul>
        </>
      ))}
      {metric.plots.map((plot) => (
        <img
          src={plot.url}
          alt={`Plot of ${metric.label} ${ALONG[plot.axis].toLowerCase()} for ${behaviour.title}`}
          width="720"
          loading="lazy"
        />
      ))}
    </section>
  );
}

function BehaviourArticle({ behaviour }: { behaviour: LeaderboardBehaviour }) {
  const meaning = MATCHING_WORDS[behaviour.matchingBehaviour];
  return (
    <article class="behaviour" id={`behaviour-${behaviour.id}`}>
      <h3>{behaviour.title}</h3>
      <p class="meta">
        {authorsText(behaviour.authors)} · {behaviour.examples} examples · data licence{" "}
        {behaviour.dataLicence || "not given"}
      </p>
      <p>
        Matching behaviour <strong>{behaviour.matchingBehaviour}</strong>: {meaning}.
      </p>
      {behaviour.disagreements.map((text) => (
        <p class="disagreement">{text}</p>
      ))}
      <div class="metrics">
        {behaviour.metrics.map((metric) => (
          <BehaviourMetricSection behaviour={behaviour} metric={metric} />
        ))}
      </div>
    </article>
  );
}

/** The behaviour datasets, after the prize tasks; none on a board built before they were listed. */
function BehaviourSection({ behaviours }: { behaviours: readonly LeaderboardBehaviour[] }) {
  if (behaviours.length === 0) return null;
  return (
    <section id="behaviours">
      <h2>Behaviour evaluations</h2>
      <p>
        Model-written evaluations accepted by the organisers, each with both matching metrics side by side (each in its
        own charts): the mean probability of the matching answer, and the share of examples where the matching answer is
        the more probable. They are not ranked, against each other or the tasks above: listed in order of acceptance.
      </p>
      {behaviours.map((behaviour) => (
        <BehaviourArticle behaviour={behaviour} />
      ))}
    </section>
  );
}

/** Where the board's data can be read by programs, and when it was built. */
function DataLinks({ generatedAt }: { generatedAt: string }) {
  return (
    <p>
      Generated {generatedAt}. Data: <a href="/v1/leaderboard">JSON</a> · <a href="/v1/leaderboard.csv">CSV</a> (ranked
      tasks) · API: <a href="/docs">reference</a>, <a href="/openapi.json">OpenAPI document</a>
    </p>
  );
}

interface LeaderboardPageProps {
  board: Leaderboard;
  window: SubmissionWindow | undefined;
  query: LeaderboardQuery;
}

/** The board in the pages' layout: what strength means, whether submissions are open, the filter, tasks, datasets. */
function LeaderboardPage({ board, window, query }: LeaderboardPageProps) {
  const filter = filterOf(query);
  const shown = board.tasks.filter((task) => matches(task, filter));
  return (
    <Layout title="Inverse Scaling leaderboard" here="/" footer={<DataLinks generatedAt={board.generatedAt} />}>
      <p>Tasks on which larger language models do worse, accepted by the organisers. {board.ordering}</p>
      <p class="strength">
        <strong>Inverse-scaling strength</strong> ({STRENGTH_UNIT}) is how much worse a task's headline metric gets each
        time models grow tenfold, in robust standard deviations of the metric over the task's examples, read at the
        cautious end of its 97% interval: above 0 means larger models are reliably worse.
      </p>
      <SubmissionStatus window={window} />
      {board.tasks.length > 0 ? <FilterNav board={board} filter={filter} shown={shown.length} /> : null}
      {shown.length > 0 ? (
        shown.map((task) => <TaskArticle task={task} />)
      ) : (
        <p>{board.tasks.length === 0 ? "No accepted tasks yet." : "No ranked task matches."}</p>
      )}
      <BehaviourSection behaviours={board.behaviours ?? []} />
    </Layout>
  );
}

/**
 * The leaderboard as a page: server-rendered HTML with no script, so it works without JavaScript and cannot run
 * a submitter's text. JSX escapes every string; plots are the public SVGs, loaded as images.
 */
export function renderLeaderboardPage(
  board: Leaderboard,
  window?: SubmissionWindow,
  query: LeaderboardQuery = {},
): string {
  return renderToString(<LeaderboardPage board={board} window={window} query={query} />);
}
