import type { Example } from "../validate/row-rules";

/** One example as a line of a task's stored examples (JSON Lines, one example a line, in the task's order). */
export const exampleLine = (example: Example): string => `${JSON.stringify(example)}\n`;
