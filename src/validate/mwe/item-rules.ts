import type { IssueCollector } from "../issues";
import { CONTROL_CHARACTER, checkControlCharacters, type Example, type RowLimits, type Where } from "../row-rules";
import { formatCount, quoted, shortName } from "../text";
import { fillTemplate, type PromptTemplate } from "./template";

export const MATCHING_FIELD = "answer_matching_behavior";
export const NOT_MATCHING_FIELD = "answer_not_matching_behavior";
const ANSWER_FIELDS = [MATCHING_FIELD, NOT_MATCHING_FIELD] as const;
type AnswerField = (typeof ANSWER_FIELDS)[number];

export type BehaviourExample = Extract<Example, { taskType: "behaviour" }>;

/** An item as JSON.parse gives it: an object (not an array, not null). */
export type Item = Record<string, unknown>;

export function isItem(value: unknown): value is Item {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks one item of a model-written evaluation and returns it as a multiple-choice example, or undefined when it
 * has an error (every error in the item is reported, not just the first). Fields other than the answers and the
 * template's are ignored (statement, label_confidence and the rest): they are kept in nothing.
 */
export function checkItem(
  value: unknown,
  template: PromptTemplate,
  where: Where,
  issues: IssueCollector,
  limits: RowLimits,
): BehaviourExample | undefined {
  if (!isItem(value)) {
    issues.add(
      "not_an_object",
      `This item is ${describeJson(value)}, not an object with "question", "${MATCHING_FIELD}" and "${NOT_MATCHING_FIELD}".`,
      where,
    );
    return undefined;
  }
  const errorsBefore = issues.errorCount;
  const values = templateValues(value, template, where, issues);
  const matching = answerList(value, MATCHING_FIELD, where, issues);
  const notMatching = answerList(value, NOT_MATCHING_FIELD, where, issues);
  if (matching && notMatching) checkAnswerSets(matching, notMatching, where, issues, limits);
  const prompt = values && fillTemplate(template, values);
  if (prompt !== undefined && prompt.length > limits.maxPromptChars) {
    issues.add(
      "prompt_too_long",
      `The prompt (the template filled in with this item's fields) is ${formatCount(prompt.length)} characters long; at most ${formatCount(limits.maxPromptChars)} are allowed (a prompt is sent again for every answer).`,
      where,
    );
  }
  if (prompt !== undefined && matching && notMatching) {
    checkJoin(prompt, MATCHING_FIELD, matching, where, issues);
    checkJoin(prompt, NOT_MATCHING_FIELD, notMatching, where, issues);
  }
  if (issues.errorCount > errorsBefore || prompt === undefined || !matching || !notMatching) return undefined;
  return {
    taskType: "behaviour",
    ...where,
    prompt,
    classes: [...matching, ...notMatching],
    matchingCount: matching.length,
  };
}

/** The item's value for each field the template names; undefined when one is missing, not a string or empty. */
function templateValues(
  item: Item,
  template: PromptTemplate,
  where: Where,
  issues: IssueCollector,
): Map<string, string> | undefined {
  const values = new Map<string, string>();
  for (const field of template.fields) {
    const at = { ...where, column: shortName(field) };
    const value = Object.hasOwn(item, field) ? item[field] : undefined;
    if (value === undefined) {
      // question is the format's own field; any other is there because the template names it.
      if (field === "question")
        issues.add("missing_field", 'This item has no "question" field; the prompt template uses it.', at);
      else
        issues.add(
          "template_field_missing",
          `The prompt template uses {${field}}, but this item has no "${field}" field.`,
          at,
        );
      continue;
    }
    if (typeof value !== "string") {
      issues.add(
        "field_not_string",
        `The "${field}" field is ${describeJson(value)}; the prompt template needs it as a string.`,
        at,
      );
      continue;
    }
    if (value.trim() === "") {
      issues.add("empty_value", `The "${field}" field is empty; the prompt template needs its text.`, at);
      continue;
    }
    checkControlCharacters(value, `The "${field}" field`, at.column, where, issues);
    values.set(field, value);
  }
  return values.size === template.fields.length ? values : undefined;
}

/** An answer field as a list: a string is a list of one; a list must hold strings, none empty, and not be empty. */
function answerList(item: Item, field: AnswerField, where: Where, issues: IssueCollector): string[] | undefined {
  const at = { ...where, column: field };
  const value = Object.hasOwn(item, field) ? item[field] : undefined;
  if (value === undefined) {
    issues.add("missing_field", `This item has no "${field}" field; it needs one (a string or a list of strings).`, at);
    return undefined;
  }
  const list: unknown[] = typeof value === "string" ? [value] : Array.isArray(value) ? value : [value];
  if (list.length === 0) {
    issues.add("empty_answer", `"${field}" is an empty list; give at least one answer.`, at);
    return undefined;
  }
  const answers: string[] = [];
  for (const answer of list) {
    if (typeof answer !== "string") {
      issues.add(
        "field_not_string",
        `"${field}" ${Array.isArray(value) ? "holds" : "is"} ${describeJson(answer)}; an answer is a string (or a list of strings).`,
        at,
      );
      return undefined;
    }
    answers.push(answer);
  }
  if (answers.includes("")) {
    issues.add(
      "empty_answer",
      `"${field}" has an empty answer; a model cannot be scored on an empty continuation.`,
      at,
    );
    return undefined;
  }
  // One control-character issue for the field, as for a CSV's classes cell: about a NUL when any answer has one.
  const flagged =
    answers.find((answer) => answer.includes("\u0000")) ?? answers.find((answer) => CONTROL_CHARACTER.test(answer));
  if (flagged !== undefined) checkControlCharacters(flagged, `An answer in "${field}"`, field, where, issues);
  return answers;
}

/** The answers together are a list of classes: distinct, none on both sides, and not too many. */
function checkAnswerSets(
  matching: string[],
  notMatching: string[],
  where: Where,
  issues: IssueCollector,
  limits: RowLimits,
): void {
  const total = matching.length + notMatching.length;
  if (total > limits.maxClasses) {
    issues.add(
      "too_many_classes",
      `This item has ${formatCount(total)} answers; at most ${formatCount(limits.maxClasses)} are allowed (each answer sends the prompt to every model again).`,
      where,
    );
    return;
  }
  for (const [field, answers] of [
    [MATCHING_FIELD, matching],
    [NOT_MATCHING_FIELD, notMatching],
  ] as const) {
    const repeated = answers.find((answer, i) => answers.indexOf(answer) !== i);
    if (repeated !== undefined)
      issues.add("duplicate_class", `The answer ${quoted(repeated)} appears twice in "${field}".`, {
        ...where,
        column: field,
      });
  }
  const both = matching.find((answer) => notMatching.includes(answer));
  if (both !== undefined) {
    issues.add(
      "answer_in_both",
      `The answer ${quoted(both)} is listed both as matching the behaviour and as not matching it; it can only be one.`,
      { ...where, column: NOT_MATCHING_FIELD },
    );
  }
}

/**
 * Where the prompt ends and an answer begins decides tokenization: the published files write " (A)" and " Yes",
 * which models read as one token after "Assistant:". An answer without the space joins the prompt's last word, a
 * token-boundary hazard (the scorer may find no token that starts where the answer does).
 */
function checkJoin(prompt: string, field: AnswerField, answers: string[], where: Where, issues: IssueCollector): void {
  const at = { ...where, column: field };
  if (/[ \t]$/.test(prompt)) {
    const doubled = answers.find((answer) => /^\s/.test(answer));
    if (doubled !== undefined)
      issues.add(
        "prompt_trailing_whitespace",
        `The prompt ends with a space or tab and the answer ${quoted(doubled)} starts with one: the model would see both. End the prompt template without the space.`,
        at,
      );
    return;
  }
  if (/\s$/.test(prompt)) return; // a prompt ending in a newline may be followed by any text
  for (const answer of new Set(answers)) {
    if (/^\s/.test(answer)) continue;
    issues.add(
      "missing_leading_space",
      `The answer ${quoted(answer)} does not start with a space, so it joins the prompt's last word: a token-boundary hazard (the model may never have seen the answer as its own tokens). Write ${quoted(` ${answer}`)} unless that is intended.`,
      at,
    );
  }
}

/** A JSON value's kind, as messages name it. */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return `a number (${value})`;
    case "boolean":
      return `a boolean (${value})`;
    default:
      return "an object";
  }
}
