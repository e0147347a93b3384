/**
 * The prompt template of a model-written evaluation: how each item becomes the text a model reads. `{field}` is
 * the item's string field of that name; `{{` and `}}` are literal braces. Anything else with a brace is refused,
 * so that a template written for another tool (`{0}`, `{question!r}`, `{ question }`) fails loudly instead of
 * sending its braces to every model. So is a control character other than tab, line feed and carriage return: it
 * would be in every prompt, where in a CSV's prompt a NUL is an error (nul_character) and any other a warning
 * (control_character); a template has no warnings to give, since it is checked before the file is read.
 */

import { CONTROL_CHARACTER } from "../row-rules";
import { formatCount } from "../text";

/** The template the published evaluations were scored with (Perez et al., 2022): a one-turn dialogue. */
export const DEFAULT_PROMPT_TEMPLATE = "\n\nHuman: {question}\n\nAssistant:";

type TemplatePart = { readonly literal: string } | { readonly field: string };

export interface PromptTemplate {
  readonly text: string;
  readonly parts: readonly TemplatePart[];
  /** The fields the placeholders name, each once, in order of first use. */
  readonly fields: readonly string[];
}

export type TemplateParse = { ok: true; template: PromptTemplate } | { ok: false; message: string };

/** A field name a placeholder may hold: the names the published files use (question, statement, user_affiliation). */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parsePromptTemplate(text: string): TemplateParse {
  const control = controlCharacterProblem(text);
  if (control) return refuse(control);
  const parts: TemplatePart[] = [];
  const fields: string[] = [];
  let literal = "";
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === "}") {
      if (text[at + 1] !== "}") return refuse(`a lone "}" at character ${at + 1}; write "}}" for a literal brace`);
      literal += "}";
      at++;
      continue;
    }
    if (char !== "{") {
      literal += char;
      continue;
    }
    if (text[at + 1] === "{") {
      literal += "{";
      at++;
      continue;
    }
    const close = text.indexOf("}", at + 1);
    const name = close === -1 ? "" : text.slice(at + 1, close);
    if (!FIELD_NAME.test(name)) {
      const shown = close === -1 ? text.slice(at, at + 20) : text.slice(at, close + 1);
      return refuse(
        `${JSON.stringify(shown)} at character ${at + 1} is not a placeholder: write {field}, a field name of letters, digits and underscores, or "{{" for a literal brace`,
      );
    }
    if (literal) parts.push({ literal });
    literal = "";
    parts.push({ field: name });
    if (!fields.includes(name)) fields.push(name);
    at = close;
  }
  if (literal) parts.push({ literal });
  if (fields.length === 0)
    return refuse("it has no placeholder, so every prompt would be the same; name a field, e.g. {question}");
  return { ok: true, template: { text, parts, fields } };
}

/** The prompt for one item, given its value for each of the template's fields. */
export function fillTemplate(template: PromptTemplate, values: ReadonlyMap<string, string>): string {
  let prompt = "";
  for (const part of template.parts) prompt += "literal" in part ? part.literal : (values.get(part.field) ?? "");
  return prompt;
}

/** The default template, parsed: it is valid, so this cannot fail. */
export function defaultPromptTemplate(): PromptTemplate {
  const parsed = parsePromptTemplate(DEFAULT_PROMPT_TEMPLATE);
  if (!parsed.ok) throw new Error(`the default prompt template is invalid: ${parsed.message}`);
  return parsed.template;
}

/** What is wrong with the template's control characters, as the CSV's checks say it (row-rules.ts), if anything. */
function controlCharacterProblem(text: string): string | undefined {
  const found = CONTROL_CHARACTER.exec(text);
  if (!found) return undefined;
  // A NUL anywhere is said first: it is the one that cuts prompts short.
  const nul = text.indexOf("\u0000", found.index);
  if (nul !== -1)
    return `it has a NUL character (U+0000) at character ${formatCount(nul + 1)}, which would be in every prompt, and servers cut a prompt there or refuse it; remove it`;
  const code = text.charCodeAt(found.index).toString(16).toUpperCase().padStart(4, "0");
  return `it has a control character, U+${code}, at character ${formatCount(found.index + 1)}, which would be in every prompt, invisible when the task is read; remove it (tab, line feed and carriage return are allowed)`;
}

function refuse(message: string): TemplateParse {
  return { ok: false, message: `The prompt template is not valid: ${message}.` };
}
