/** How values from the file appear in messages: a report must stay small whatever the file holds. */

/** Longest value, in characters, that a message shows whole. */
const SHOWN_CHARS = 60;

/**
 * A value from the file as a message shows it: JSON-quoted (so spaces, quotes and line breaks are visible), and
 * cut to its first characters when long, with its length. A listed issue echoes at most this much of a cell, so a
 * file of megabyte cells cannot make a report of megabytes (reports are stored, and sent back on errors).
 */
export function quoted(value: string): string {
  if (value.length <= SHOWN_CHARS) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, SHOWN_CHARS - 10))}… (${formatCount(value.length)} characters)`;
}

/** A name from the file as an issue's `column` gives it: whole when short, else its start and an ellipsis. */
export function shortName(name: string): string {
  return name.length <= SHOWN_CHARS ? name : `${name.slice(0, SHOWN_CHARS - 1)}…`;
}

/** 1234567 as "1,234,567", the same in every runtime (no locale data needed). */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
