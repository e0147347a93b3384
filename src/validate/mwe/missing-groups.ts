import type { IssueCollector } from "../issues";
import type { Where } from "../row-rules";
import { formatCount } from "../text";

/**
 * Finds the items without a `group` field in a file where other items have one (missing_group), in one pass and
 * constant memory. Until the first item with a group, a file without groups cannot be told from one whose first
 * items lack theirs, so the items before it are only counted (the first's line and the last's), and reported as
 * one issue, a range, when the first group appears; each later item without one is reported on its own line.
 */
export class MissingGroups {
  /** Line of the first item with a group field; undefined while none has been seen. */
  private firstGroupedLine: number | undefined;
  /** Items without a group before the first with one. */
  private before: { count: number; first: Where; lastLine: number } | undefined;

  constructor(private readonly issues: IssueCollector) {}

  /** True once an item has had a group field: the file has groups. */
  get fileHasGroups(): boolean {
    return this.firstGroupedLine !== undefined;
  }

  /** An item (an object) without a group field. */
  ungrouped(where: Where): void {
    if (this.firstGroupedLine !== undefined) {
      this.issues.add(
        "missing_group",
        `This item has no "group" field, but the item on line ${this.firstGroupedLine} has one: in a file with groups every item needs one. Add its group, or remove the groups from the whole file.`,
        { ...where, column: "group" },
      );
      return;
    }
    if (this.before) {
      this.before.count++;
      this.before.lastLine = where.line;
    } else {
      this.before = { count: 1, first: where, lastLine: where.line };
    }
  }

  /** An item with a group field (of any value). */
  grouped(where: Where): void {
    if (this.firstGroupedLine !== undefined) return;
    this.firstGroupedLine = where.line;
    const before = this.before;
    if (!before) return;
    const [which, their] =
      before.count === 1
        ? [`The item on line ${before.first.line} has`, "its group"]
        : [
            `The ${formatCount(before.count)} items on lines ${before.first.line} to ${before.lastLine} have`,
            "their groups",
          ];
    this.issues.add(
      "missing_group",
      `${which} no "group" field, but the item on line ${where.line} has one: in a file with groups every item needs one. Add ${their}, or remove the groups from the whole file.`,
      { ...before.first, column: "group" },
    );
  }
}
