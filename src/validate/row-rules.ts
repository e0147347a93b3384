import { parseClassesLiteral } from "./classes-literal";
import type { HeaderLayout } from "./header";
import type { IssueCollector } from "./issues";
import type { ValidationLimits } from "./report";
import { formatCount, quoted } from "./text";
import { needsExactlyTwoClasses, type ColumnName, type CsvTaskType } from "./task-types";

/**
 * A task example in the service's normalised form (schemas/example.schema.json). `line` and `row` point back into
 * the CSV. Kept by hand rather than using the generated Example: the schema's oneOf generates an intersection
 * whose branches have an optional taskType, which does not narrow on `example.taskType`; this union does.
 */
export type Example = ExampleOfType & {
  /**
   * The slice the example belongs to, when its file has groups (src/validate/groups.ts): the file's value without
   * surrounding whitespace. Absent, not undefined, in a file without groups, so its stored examples do not change.
   */
  group?: string;
};

type ExampleOfType =
  | { taskType: "classification"; row: number; line: number; prompt: string; classes: string[]; answerIndex: number }
  | { taskType: "sequence_prob"; row: number; line: number; prompt: string; completion: string }
  | {
      taskType: "logodds" | "absolute_logodds";
      row: number;
      line: number;
      prompt: string;
      otherPrompt: string;
      classes: string[];
      answerIndex: number;
    }
  | { taskType: "numeric"; row: number; line: number; prompt: string; trueAnswer: number; anchor: number }
  | {
      /** A model-written-evaluation item: `line` is its line in the JSON Lines file (1-based), `row` its ordinal. */
      taskType: "behaviour";
      row: number;
      line: number;
      /** The submission's prompt template filled in with the item's fields. */
      prompt: string;
      /** Every answer: the ones matching the behaviour first, then the others, each in file order. */
      classes: string[];
      /** How many of `classes`, from the first, match the behaviour (at least 1, fewer than all). */
      matchingCount: number;
    };

export interface Where {
  line: number;
  row: number;
}

/** The limits a single row is checked against. */
export type RowLimits = Pick<ValidationLimits, "maxClasses" | "maxPromptChars">;

/**
 * Checks one data record against its task type and returns the normalised example, or undefined when the record
 * has an error (every error in the record is reported, not just the first).
 */
export function checkRecord(
  fields: string[],
  layout: HeaderLayout,
  taskType: CsvTaskType,
  where: Where,
  issues: IssueCollector,
  limits: RowLimits,
): Example | undefined {
  const errorsBefore = issues.errorCount;
  const cell = (column: ColumnName): string => {
    const field = layout.index[column];
    return field === undefined ? "" : (fields[field] ?? "");
  };
  const required = (column: ColumnName): string | undefined => {
    const value = cell(column);
    if (isBlank(value)) {
      issues.add("empty_value", `The "${column}" cell is empty; every example needs one.`, { ...where, column });
      return undefined;
    }
    return value;
  };

  /** A prompt the models will read: within the length limit and free of control characters. */
  const promptText = (column: "prompt" | "other_prompt"): string | undefined => {
    const value = required(column);
    if (value === undefined) return undefined;
    if (value.length > limits.maxPromptChars) {
      issues.add(
        "prompt_too_long",
        `The ${column} is ${formatCount(value.length)} characters long; at most ${formatCount(limits.maxPromptChars)} are allowed (a prompt is sent again for every class, and the prize's models read at most about 8,000 characters).`,
        { ...where, column },
      );
    }
    checkControlCharacters(value, `The ${column}`, column, where, issues);
    return value;
  };

  const prompt = promptText("prompt");
  switch (taskType) {
    case "classification":
    case "logodds":
    case "absolute_logodds": {
      const otherPrompt = taskType === "classification" ? "" : promptText("other_prompt");
      const classes = checkClasses(cell("classes"), taskType, where, issues, limits);
      const answerIndex = checkAnswerIndex(cell("answer_index"), classes?.length, where, issues);
      if (prompt !== undefined && classes) {
        checkJoin(prompt, classes, "class", where, issues);
        if (otherPrompt) checkJoin(otherPrompt, classes, "class", where, issues, "other_prompt");
      }
      if (issues.errorCount > errorsBefore || prompt === undefined || !classes || answerIndex === undefined)
        return undefined;
      if (taskType === "classification") return { taskType, ...where, prompt, classes, answerIndex };
      return { taskType, ...where, prompt, otherPrompt: otherPrompt ?? "", classes, answerIndex };
    }
    case "sequence_prob": {
      const completion = required("completion");
      if (completion !== undefined) checkControlCharacters(completion, "The completion", "completion", where, issues);
      if (prompt !== undefined && completion !== undefined)
        checkJoin(prompt, [completion], "completion", where, issues);
      if (issues.errorCount > errorsBefore || prompt === undefined || completion === undefined) return undefined;
      return { taskType, ...where, prompt, completion };
    }
    case "numeric": {
      const trueAnswer = checkNumber(cell("true_answer"), "true_answer", where, issues);
      const anchor = checkNumber(cell("anchor"), "anchor", where, issues);
      if (
        issues.errorCount > errorsBefore ||
        prompt === undefined ||
        trueAnswer === undefined ||
        anchor === undefined
      ) {
        return undefined;
      }
      return { taskType, ...where, prompt, trueAnswer, anchor };
    }
  }
}

function checkClasses(
  text: string,
  taskType: CsvTaskType,
  where: Where,
  issues: IssueCollector,
  limits: RowLimits,
): string[] | undefined {
  // `at` is built only when there is something to report: this runs for every row of every file.
  const at = (): Where & { column: string } => ({ ...where, column: "classes" });
  if (isBlank(text)) {
    issues.add("empty_value", "The \"classes\" cell is empty; write a list such as \"[' Yes', ' No']\".", at());
    return undefined;
  }
  const parsed = parseClassesLiteral(text);
  if (!parsed.ok) {
    issues.add(
      "classes_invalid",
      `"classes" must be a list of strings such as "[' Yes', ' No']": ${parsed.message} (at character ${parsed.offset + 1}).`,
      at(),
    );
    return undefined;
  }
  const classes = parsed.classes;
  let ok = true;
  if (needsExactlyTwoClasses(taskType) && classes.length !== 2) {
    issues.add(
      "wrong_class_count",
      `A ${taskType} task needs exactly 2 classes; this row has ${classes.length}.`,
      at(),
    );
    ok = false;
  } else if (classes.length < 2) {
    issues.add(
      "too_few_classes",
      `A classification example needs at least 2 classes to choose from; this row has ${classes.length}.`,
      at(),
    );
    ok = false;
  } else if (classes.length > limits.maxClasses) {
    // Nothing is said about each of so many classes: one issue, and the row costs no more to check.
    issues.add(
      "too_many_classes",
      `This row has ${formatCount(classes.length)} classes; at most ${formatCount(limits.maxClasses)} are allowed (each class sends the prompt to every model again).`,
      at(),
    );
    return undefined;
  }
  const seen = new Set<string>();
  for (const [i, name] of classes.entries()) {
    if (name === "") {
      issues.add(
        "class_empty",
        `Class ${i} is an empty string; a model cannot be scored on an empty continuation.`,
        at(),
      );
      ok = false;
    } else if (seen.has(name)) {
      issues.add("duplicate_class", `Class ${quoted(name)} appears twice in this row; classes must differ.`, at());
      ok = false;
    }
    seen.add(name);
  }
  // One control-character issue for the cell, like any other cell: about a NUL when any class has one.
  const withNul = classes.findIndex((name) => name.includes("\u0000"));
  const flagged = withNul !== -1 ? withNul : classes.findIndex((name) => CONTROL_CHARACTER.test(name));
  const name = classes[flagged];
  if (name !== undefined) checkControlCharacters(name, `Class ${flagged}`, "classes", where, issues);
  return ok ? classes : undefined;
}

/**
 * C0 controls but tab, line feed and carriage return (legitimate in prompts), DEL and the C1 controls: characters
 * nobody sees when reading a task, that no prompt needs, and that servers and tokenizers treat unpredictably.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's purpose
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/**
 * Reports the text's control characters, once: a NUL as an error (it ends a C string, so servers cut the prompt
 * there or refuse it), any other as a warning.
 */
export function checkControlCharacters(
  text: string,
  what: string,
  /** The CSV column, or the field of a model-written evaluation's item. */
  column: string,
  where: Where,
  issues: IssueCollector,
): void {
  const found = CONTROL_CHARACTER.exec(text);
  if (!found) return;
  const nul = text.indexOf("\u0000", found.index);
  if (nul !== -1) {
    issues.add(
      "nul_character",
      `${what} has a NUL character (U+0000) at character ${formatCount(nul + 1)}; remove it. It is never part of a prompt (usually a sign of a binary or UTF-16 export), and servers cut the text there or refuse it.`,
      { ...where, column },
    );
    return;
  }
  const code = text.charCodeAt(found.index).toString(16).toUpperCase().padStart(4, "0");
  issues.add(
    "control_character",
    `${what} has a control character, U+${code}, at character ${formatCount(found.index + 1)}; it is invisible when the task is read, and models see it as text. Remove it unless it is meant.`,
    { ...where, column },
  );
}

/** True for "" and whitespace only, without allocating a trimmed copy of a long cell. */
function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  if (first > 0x20 && first !== 0xa0 && first < 0x2000) return false;
  return text.trim() === "";
}

/** A whole number that is not negative: digits after an optional "+", or zero written "-0" (which is 0). */
const INTEGER = /^(\+?\d+|-0+)$/;
/** pandas writes integer columns holding a missing value as floats: "1.0", and sometimes "-0.0". */
const INTEGRAL_FLOAT = /^[+-]?\d+\.0*$/;

function checkAnswerIndex(
  text: string,
  classCount: number | undefined,
  where: Where,
  issues: IssueCollector,
): number | undefined {
  if (text.length === 1 && text >= "0" && text <= "9") return inRange(Number(text), classCount, where, issues);
  const at = { ...where, column: "answer_index" };
  const value = text.trim();
  let index: number;
  if (value === "") {
    issues.add(
      "empty_value",
      'The "answer_index" cell is empty; give the position of the correct class, counting from 0.',
      at,
    );
    return undefined;
  } else if (INTEGER.test(value)) {
    index = Math.abs(Number(value)); // 0 for "-0"
  } else if (INTEGRAL_FLOAT.test(value) && (Number(value) >= 0 || Object.is(Number(value), -0))) {
    index = Math.abs(Number(value));
    issues.add(
      "answer_index_float",
      `answer_index ${quoted(value)} is written as a decimal; it is read as ${index}. Write whole numbers.`,
      at,
    );
  } else if (/^-\d+(\.0*)?$/.test(value)) {
    issues.add("answer_index_negative", `answer_index ${quoted(value)} is negative; positions count from 0.`, at);
    return undefined;
  } else {
    issues.add(
      "answer_index_invalid",
      `answer_index ${quoted(value)} is not a whole number; give the position of the correct class, counting from 0.`,
      at,
    );
    return undefined;
  }
  return inRange(index, classCount, where, issues);
}

function inRange(
  index: number,
  classCount: number | undefined,
  where: Where,
  issues: IssueCollector,
): number | undefined {
  if (classCount === undefined || index < classCount) return index;
  issues.add(
    "answer_index_out_of_range",
    `answer_index ${index} points past the ${classCount} classes of this row; it must be 0 to ${classCount - 1}.`,
    { ...where, column: "answer_index" },
  );
  return undefined;
}

function checkNumber(text: string, column: ColumnName, where: Where, issues: IssueCollector): number | undefined {
  const value = text.trim();
  const number = value === "" ? NaN : Number(value);
  if (!Number.isFinite(number)) {
    issues.add(
      value === "" ? "empty_value" : "number_invalid",
      value === ""
        ? `The "${column}" cell is empty; it needs a number.`
        : `"${column}" must be a finite number; found ${quoted(value)}.`,
      { ...where, column },
    );
    return undefined;
  }
  return number;
}

/**
 * Where the prompt ends and the continuation begins decides tokenization: models saw " Yes" as one token after
 * "Answer:", so the space belongs to the continuation. The prize warned on both mistakes; so do we.
 */
function checkJoin(
  prompt: string,
  continuations: readonly string[],
  kind: "class" | "completion",
  where: Where,
  issues: IssueCollector,
  promptColumn: ColumnName = "prompt",
): void {
  const column = kind === "class" ? "classes" : "completion";
  if (/[ \t]$/.test(prompt)) {
    const doubled = continuations.find((text) => /^\s/.test(text));
    issues.add(
      "prompt_trailing_whitespace",
      doubled !== undefined
        ? `The ${promptColumn} ends with a space or tab and the ${kind} ${quoted(doubled)} starts with one: the model would see both. Remove the trailing whitespace from the ${promptColumn}.`
        : `The ${promptColumn} ends with a space or tab: move it to the start of the ${kind} (${quoted(` ${continuations[0] ?? ""}`)}), as models tokenize the space with the word.`,
      { ...where, column: promptColumn },
    );
    return;
  }
  if (/\s$/.test(prompt)) return; // a prompt ending in a newline may be followed by any text
  for (const text of new Set(continuations)) {
    if (/^\s/.test(text)) continue;
    issues.add(
      "missing_leading_space",
      `The ${kind} ${quoted(text)} does not start with a space, so it joins the prompt's last word; write ${quoted(` ${text}`)} unless that is intended.`,
      { ...where, column },
    );
  }
}
