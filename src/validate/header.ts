import type { IssueCollector } from "./issues";
import { quoted, shortName } from "./text";
import {
  KNOWN_COLUMNS,
  LEGACY_COLUMNS,
  OPTIONAL_COLUMNS,
  REQUIRED_COLUMNS,
  inferTaskType,
  legacyColumn,
  type ColumnName,
  type CsvTaskType,
} from "./task-types";

export interface HeaderLayout {
  /** Header cells as written. */
  names: string[];
  /** Field index of each required column, and of each optional one the header has. */
  index: Partial<Record<ColumnName, number>>;
  /** A leading unnamed column, as pandas writes its index. */
  hasIndexColumn: boolean;
}

export type HeaderAnalysis =
  | { ok: true; layout: HeaderLayout; taskType: CsvTaskType; taskTypeSource: "given" | "inferred" }
  | { ok: false; names: string[]; hasIndexColumn: boolean; taskType: CsvTaskType | undefined };

/**
 * Reads the header row: finds the required columns for the task type (given, or inferred when the columns make it
 * unambiguous) and reports every problem with the column set at once.
 */
export function analyseHeader(
  names: string[],
  givenType: CsvTaskType | undefined,
  issues: IssueCollector,
): HeaderAnalysis {
  const at = { line: 1, row: 0 };
  const [first] = names;
  const hasIndexColumn = first !== undefined && isPandasIndexName(first);
  const positions = new Map<string, number>();
  names.forEach((raw, field) => {
    if (field === 0 && hasIndexColumn) return;
    const name = raw.trim();
    if (name !== raw) {
      issues.add(
        "column_name_whitespace",
        `Column name ${quoted(raw)} has spaces around it; it is read as ${quoted(name)}. Remove the spaces.`,
        { ...at, column: shortName(name) },
      );
    }
    if (positions.has(name)) {
      issues.add(
        "duplicate_column",
        `Column ${quoted(name)} appears more than once; keep one and rename or delete the others.`,
        { ...at, column: shortName(name) },
      );
      return;
    }
    positions.set(name, field);
  });

  const present = new Set(positions.keys());
  for (const name of present) {
    const current = legacyColumn(name);
    if (current) {
      issues.add(
        "legacy_column",
        `Column "${name}" is from an early version of the format; did you mean "${current}"? Rename the column.`,
        { ...at, column: name },
      );
    }
  }

  let taskType = givenType;
  let taskTypeSource: "given" | "inferred" = "given";
  if (!taskType) {
    const inferred = inferTaskType(withLegacyRenamed(present));
    if (inferred === "ambiguous") {
      issues.add(
        "task_type_ambiguous",
        'Columns prompt, other_prompt, classes and answer_index fit both "logodds" and "absolute_logodds"; say which one as the task type.',
        at,
      );
    } else if (inferred === undefined) {
      issues.add(
        "task_type_undetermined",
        "The task type cannot be told from the columns; give it (classification, sequence_prob, logodds, absolute_logodds or numeric) and use the columns that type needs.",
        at,
      );
    } else {
      taskType = inferred;
      taskTypeSource = "inferred";
    }
  }

  const required = taskType ? REQUIRED_COLUMNS[taskType] : [];
  const index: Partial<Record<ColumnName, number>> = {};
  let missing = false;
  for (const column of required) {
    const position = positions.get(column);
    if (position !== undefined) {
      index[column] = position;
      continue;
    }
    missing = true;
    const legacy = Object.entries(LEGACY_COLUMNS).find(([old, current]) => current === column && present.has(old));
    if (legacy) continue; // already reported as legacy_column, with the rename to make
    const near = closestName(
      column,
      [...present].filter((name) => !KNOWN_COLUMNS.has(name)),
    );
    const hint = near ? ` Did you mean "${near}"? Rename it to "${column}".` : ` Add a "${column}" column.`;
    issues.add("missing_column", `A ${taskType} task needs a "${column}" column.${hint}`, { ...at, column });
  }

  for (const column of OPTIONAL_COLUMNS) {
    const position = positions.get(column);
    if (position !== undefined) index[column] = position;
  }

  for (const name of present) {
    if (KNOWN_COLUMNS.has(name) || legacyColumn(name)) continue;
    const near = closestName(name, [...required, ...OPTIONAL_COLUMNS]);
    issues.add(
      "unknown_column",
      near && !present.has(near)
        ? `Column ${quoted(name)} is not part of the format and will be ignored; did you mean "${near}"?`
        : `Column ${quoted(name)} is not part of the format and will be ignored.`,
      { ...at, column: shortName(name) },
    );
  }

  if (!taskType || missing || issues.counts.duplicate_column) return { ok: false, names, hasIndexColumn, taskType };
  return { ok: true, layout: { names, index, hasIndexColumn }, taskType, taskTypeSource };
}

function isPandasIndexName(name: string): boolean {
  return name === "" || /^Unnamed: 0$/.test(name);
}

function withLegacyRenamed(names: Set<string>): Set<string> {
  return new Set([...names].map((name) => legacyColumn(name) ?? name));
}

/** The candidate within edit distance 2, or equal ignoring case and separators. */
function closestName(name: string, candidates: readonly string[]): string | undefined {
  const squash = (text: string): string => text.toLowerCase().replace(/[\s_-]/g, "");
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    // Names whose lengths differ by more than 2 are further apart than that: skip the edit distance, whose cost is
    // the product of the lengths (a header cell may be a megabyte long).
    const distance =
      squash(candidate) === squash(name)
        ? 0
        : Math.abs(candidate.length - name.length) > 2
          ? Number.POSITIVE_INFINITY
          : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance over UTF-16 units, computed one row (a prefix of `a`) at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let distance = b.length;
  for (let i = 1; i <= a.length; i++) {
    // `left` walks along row i; `diagonal` and `above` are row i - 1's values one column back and in this column.
    let diagonal = i - 1;
    let left = i;
    const current = [left];
    for (const [j, above] of previous.slice(1).entries()) {
      left = Math.min(above + 1, left + 1, diagonal + (a[i - 1] === b[j] ? 0 : 1));
      current.push(left);
      diagonal = above;
    }
    previous = current;
    distance = left;
  }
  return distance;
}
