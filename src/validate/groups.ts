import type { IssueCollector } from "./issues";
import { checkControlCharacters, type Where } from "./row-rules";
import { formatCount, quoted } from "./text";

/**
 * Slices: a task file may name the group each example belongs to (a difficulty level, a prompt style), in a CSV's
 * `group` column or an item's `group` field, and the analysis then looks at each group beside the whole file.
 * These limits are fixed rather than per competition: a slice needs enough examples to be analysed, so 50 groups
 * is already more than a 300-example task can support, and a name is a label for a plot line, not a text.
 */
export const GROUP_COLUMN = "group";
/** Most distinct groups a file may have (too_many_groups); also bounds what the tally holds. */
export const MAX_GROUPS = 50;
/** Longest group name, in characters as JavaScript counts them (UTF-16 code units), after trimming. */
export const MAX_GROUP_CHARS = 100;

/** One group as the report's stats list it. */
export interface GroupSummary {
  name: string;
  examples: number;
}

/**
 * Checks the group of each record and counts the file's groups, in first-appearance order, in bounded memory: at
 * most MAX_GROUPS names of at most MAX_GROUP_CHARS characters each, whatever the file holds.
 */
export class GroupTally {
  /** Examples per group, in the order the groups first appear (a Map keeps insertion order). */
  private readonly examples = new Map<string, number>();
  private tooManyReported = false;

  constructor(private readonly issues: IssueCollector) {}

  /**
   * The record's group as the example keeps it: the value with surrounding whitespace removed (spreadsheets pad
   * cells; " easy" and "easy" are one slice), nothing else changed. Undefined when the value is refused (empty or
   * too long), which is reported; a NUL or other control character is reported as in any other cell. The first
   * group past MAX_GROUPS is reported once; it and any later new group are still returned but not counted.
   */
  accept(value: string, where: Where): string | undefined {
    const at = { ...where, column: GROUP_COLUMN };
    const name = value.trim();
    if (name === "") {
      this.issues.add(
        "empty_group",
        'The group is empty; in a file with groups every example needs one. Name its group (e.g. "easy"), or remove the groups from the whole file.',
        at,
      );
      return undefined;
    }
    if (name.length > MAX_GROUP_CHARS) {
      this.issues.add(
        "group_too_long",
        () =>
          `The group starting ${JSON.stringify(name.slice(0, 30))} is ${formatCount(name.length)} characters long; at most ${MAX_GROUP_CHARS} are allowed. A group is a short label such as "easy" or "3-digit".`,
        at,
      );
      return undefined;
    }
    checkControlCharacters(name, "The group", GROUP_COLUMN, where, this.issues);
    if (!this.examples.has(name)) this.addGroup(name, at);
    return name;
  }

  /** Counts an example of a group `accept` returned. */
  countExample(name: string): void {
    const count = this.examples.get(name);
    if (count !== undefined) this.examples.set(name, count + 1);
  }

  /** The groups and their examples, in first-appearance order (at most MAX_GROUPS). */
  summary(): GroupSummary[] {
    return [...this.examples].map(([name, examples]) => ({ name, examples }));
  }

  private addGroup(name: string, at: Where & { column: string }): void {
    if (this.examples.size < MAX_GROUPS) {
      this.examples.set(name, 0);
      return;
    }
    if (this.tooManyReported) return;
    this.tooManyReported = true;
    this.issues.add(
      "too_many_groups",
      `The group ${quoted(name)} is one more than the ${MAX_GROUPS} groups a file may have (each group is analysed on its own, and needs enough examples for that). Merge groups, or split the file; later new groups are not reported.`,
      at,
    );
  }
}
