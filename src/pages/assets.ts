/**
 * The pages' two static files, served by the Worker itself (src/routes/pages.tsx) so that the pages' CSP can
 * allow exactly these paths and nothing inline: the stylesheet, and the one script (the token's copy button).
 */

export const STYLESHEET_PATH = "/assets/pages.css";
export const COPY_SCRIPT_PATH = "/assets/copy-token.js";

/**
 * One column that reads at 320 px and stops growing past a comfortable line length on a large screen; focus is
 * always visible (a thick outline, not the browser's faint default), and colours keep WCAG AA contrast. The
 * leaderboard's rules (its tasks, verdicts and filter) close the sheet.
 */
export const STYLESHEET = `
:root { color-scheme: light; --ink: #111; --muted: #4a4a4a; --line: #c8c8c8; --accent: #0b57d0; --bad: #a4161a;
  --warn: #7a4b00; --good: #1b5e20; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5; color: var(--ink);
  margin: 0 auto; padding: 0 1rem 3rem; max-width: 50rem; overflow-wrap: anywhere; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -100vw; top: 0; background: #fff; padding: 0.5rem 1rem; }
.skip:focus { left: 1rem; }
header.site { border-bottom: 1px solid var(--line); margin-bottom: 1rem; padding: 0.75rem 0; }
header.site nav a { margin-right: 1rem; }
header.site nav a[aria-current=page] { font-weight: 600; text-decoration: none; }
h1 { font-size: 1.6rem; line-height: 1.2; } h2 { font-size: 1.25rem; margin-top: 2rem; } h3 { font-size: 1.05rem; }
fieldset { border: 1px solid var(--line); border-radius: 0.3rem; margin: 1rem 0; padding: 0.5rem 1rem 1rem; }
legend { font-weight: 600; padding: 0 0.3rem; }
.field { margin: 0.9rem 0; }
.field label { display: block; font-weight: 600; }
.field .hint { display: block; color: var(--muted); font-size: 0.92rem; }
.field.check label { display: inline; font-weight: normal; }
input[type=text], input[type=email], input[type=password], input[type=file], select, textarea {
  width: 100%; max-width: 100%; font: inherit; padding: 0.4rem; border: 1px solid #767676; border-radius: 0.2rem; }
textarea { min-height: 5rem; }
.field-error { display: block; color: var(--bad); font-weight: 600; }
.invalid input, .invalid textarea, .invalid select { border: 2px solid var(--bad); }
button { font: inherit; padding: 0.5rem 1.1rem; border-radius: 0.3rem; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.authors .author { border-style: dashed; }
.notice { border-left: 4px solid var(--accent); background: #eef3fc; padding: 0.6rem 0.9rem; margin: 1rem 0; }
.notice.bad { border-color: var(--bad); background: #fcefef; }
.notice.warn { border-color: var(--warn); background: #fff6e0; }
.notice.good { border-color: var(--good); background: #edf7ee; }
.report ol { padding-left: 1.2rem; }
.report .where { font-family: ui-monospace, monospace; font-size: 0.92rem; }
.report .code { font-family: ui-monospace, monospace; }
.token input { font-family: ui-monospace, monospace; }
.token .copy[hidden] { display: none; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
.scroll { overflow-x: auto; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); overflow-wrap: normal; }
td { white-space: nowrap; }
caption { text-align: left; font-weight: 600; }
progress { width: 6rem; }
@media (max-width: 30rem) { progress { width: 3.5rem; } th, td { padding: 0.3rem 0.25rem; } }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
img { max-width: 100%; height: auto; border: 1px solid var(--line); }
footer.site { border-top: 1px solid var(--line); margin-top: 2rem; padding-top: 1rem; color: var(--muted); }
.status { background: #f4f4f4; padding: 0.5rem 0.7rem; border-radius: 0.3rem; }
.filter { border-top: 1px solid var(--line); padding: 0.5rem 0; } .filter p, .filtered { margin: 0.2rem 0; }
.task, .behaviour { border-top: 1px solid var(--line); padding: 1rem 0; }
.task h2, .behaviour h3 { margin: 0 0 0.2rem; } .metric h4 { margin: 0.3rem 0; }
.rank, .meta, .reading, .along { color: var(--muted); } .meta { margin-top: 0; } .reading, .along { margin: 0.2rem 0; }
.verdict { display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; background: #eee; font-weight: 600; }
.verdict-inverse { background: #fde2cf; } .verdict-standard { background: #d8ecf8; }
.verdict-u_shaped, .verdict-inverted_u { background: #f3e0ee; }
.not-inverse { font-size: 0.85rem; font-weight: normal; background: #fff4d6; padding: 0 0.4rem; border-radius: 0.3rem; }
.disagreement { background: #fff4d6; padding: 0.4rem 0.6rem; border-radius: 0.3rem; }
/* Side by side on a large screen, one under the other at 320 px (min() keeps a column from overflowing). */
.metrics { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(300px, 100%), 1fr)); gap: 1rem; }
.metric { border: 1px solid var(--line); padding: 0.5rem; }
`;

/**
 * Copies the token to the clipboard. Without script the button stays hidden and the read-only field, selected on
 * focus by the browser's own means, is how the token is copied; with script the button appears and says whether
 * the copy worked.
 */
export const COPY_SCRIPT = `"use strict";
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copy + "-status");
  if (!field || !status || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Copied to the clipboard.";
    } catch {
      field.select();
      status.textContent = "Could not copy: the token is selected, press Ctrl+C (or Cmd+C).";
    }
  });
}
`;
