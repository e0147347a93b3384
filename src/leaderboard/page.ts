import { escapeXml } from "../util/escape";
import { htmlDocument } from "../http/html";
import type { SubmissionWindow } from "../competition/settings";
import type { Leaderboard } from "./build";

/** One line on whether researchers can submit now, with the deadline or the next opening. */
function submissionStatus(window: SubmissionWindow | undefined): string {
  if (!window) return "";
  if (!window.open) return `<p class="status">${escapeXml(window.message)}</p>`;
  if (!window.round)
    return `<p class="status">Submissions are open: <code>POST /v1/submissions</code> or <code>npx isv submit</code>.</p>`;
  return `<p class="status">Submissions for ${escapeXml(window.round.name)} are open until ${escapeXml(window.round.closesAt)}.</p>`;
}

/**
 * The leaderboard as a page: server-rendered HTML with no script, so it works without JavaScript and cannot run
 * a submitter's text. Every user-provided string is escaped; plots are the public SVGs.
 */
export function renderLeaderboardPage(board: Leaderboard, window?: SubmissionWindow): string {
  const verdictLabel = (verdict: string): string => verdict.replace("_", "-");
  const tasks = board.tasks
    .map((task) => {
      const families = task.families
        .map(
          (family) =>
            `<li><span class="verdict verdict-${escapeXml(family.verdict)}">${escapeXml(verdictLabel(family.verdict))}</span> on ${escapeXml(family.family)}: slope ${family.slopePerDecade.toFixed(3)} per decade (95% CI ${family.slopeCi95[0].toFixed(3)} to ${family.slopeCi95[1].toFixed(3)})</li>`,
        )
        .join("");
      const authors = task.authors.length
        ? task.authors
            .map((author) => escapeXml(author.affiliation ? `${author.name} (${author.affiliation})` : author.name))
            .join(", ")
        : "Anonymous";
      return `<article class="task" id="task-${escapeXml(task.id)}">
  <h2><span class="rank">#${task.rank}</span> ${escapeXml(task.title)}</h2>
  <p class="meta">${authors} · ${escapeXml(task.taskType)} · ${task.examples} examples · data licence ${escapeXml(task.dataLicence || "not given")}</p>
  <p>Inverse-scaling strength: ${task.inverseStrength === null ? "no analysis yet" : `${task.inverseStrength.toFixed(3)} robust SD per decade (lower bound of the 97% slope interval; above 0 means reliably worse with scale)`}</p>
  ${task.metric && families ? `<p class="headline">Verdicts on ${escapeXml(task.metric)} (the headline metric)</p>` : ""}
  <ul class="families">${families}</ul>
  ${task.plotUrl ? `<img src="${escapeXml(task.plotUrl)}" alt="${escapeXml(`Plot of ${task.metric ?? "the metric"} against scale for ${task.title}`)}" width="720" height="460" loading="lazy">` : ""}
</article>`;
    })
    .join("\n");
  return htmlDocument({
    title: "Inverse Scaling leaderboard",
    style: `  body { max-width: 780px; }
  h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-bottom: 0.2rem; }
  .task { border-top: 1px solid #ddd; padding: 1rem 0; } .rank { color: #666; } .meta { color: #555; margin-top: 0; }
  .verdict { display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; background: #eee; font-weight: 600; }
  .verdict-inverse { background: #fde2cf; } .verdict-standard { background: #d8ecf8; } .verdict-u_shaped, .verdict-inverted_u { background: #f3e0ee; }
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
</main>
<footer>
<p>Generated ${escapeXml(board.generatedAt)}. Data: <a href="/v1/leaderboard">JSON</a> · <a href="/v1/leaderboard.csv">CSV</a> · API: <a href="/docs">reference</a>, <a href="/openapi.json">OpenAPI document</a></p>
</footer>`,
  });
}
