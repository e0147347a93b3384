/**
 * The fuzz tests' own model of a well-formed task CSV: where each record and field is, on which physical line, and
 * what papaparse (the validator's parser) will do with a quoted field once a corruption has broken it. Written
 * independently of src/validate, so a corruption's expected outcome is not computed by the code under test.
 */

export interface CsvField {
  /** Offsets in the text: the raw field, quotes included. */
  start: number;
  end: number;
  quoted: boolean;
  /** The field's content without its quotes (doubled quotes still doubled). */
  contentStart: number;
  contentEnd: number;
  /** The value as a CSV reader returns it. */
  value: string;
}

export interface CsvRecord {
  /** Offsets in the text: the record without its row end, and just after its row end. */
  start: number;
  end: number;
  next: number;
  /** Physical line (1-based) of the record's first character. */
  line: number;
  fields: CsvField[];
}

export interface CsvModel {
  text: string;
  /** Characters before the first record: a byte-order mark, or nothing. */
  bomLength: number;
  records: CsvRecord[];
}

const QUOTE = '"';

/**
 * Splits a well-formed CSV (quotes doubled inside quoted fields, nothing after a closing quote but spaces and a
 * comma or a row end; rows end with LF, CRLF or CR) into records and fields. Throws on anything else.
 */
export function readCsv(text: string): CsvModel {
  const bomLength = text.startsWith("\uFEFF") ? 1 : 0;
  const records: CsvRecord[] = [];
  let at = bomLength;
  let line = 1;
  while (at < text.length) {
    const record: CsvRecord = { start: at, end: at, next: at, line, fields: [] };
    for (;;) {
      const field = readField(text, at);
      record.fields.push(field);
      line += lineBreaks(text, field.start, field.end);
      at = field.end;
      if (text[at] === ",") {
        at++;
        continue;
      }
      record.end = at;
      if (at >= text.length) record.next = at;
      else if (text.startsWith("\r\n", at)) record.next = at + 2;
      else if (text[at] === "\n" || text[at] === "\r") record.next = at + 1;
      else throw new Error(`unexpected ${JSON.stringify(text[at])} at offset ${at}, after a field`);
      if (record.next > at) line++;
      at = record.next;
      break;
    }
    records.push(record);
  }
  return { text, bomLength, records };
}

function readField(text: string, start: number): CsvField {
  if (text[start] !== QUOTE) {
    let end = start;
    while (end < text.length && !",\n\r".includes(text.charAt(end))) end++;
    const value = text.slice(start, end);
    if (value.includes(QUOTE)) throw new Error(`a quote inside the unquoted field at offset ${start}`);
    return { start, end, quoted: false, contentStart: start, contentEnd: end, value };
  }
  let search = start + 1;
  for (;;) {
    const quote = text.indexOf(QUOTE, search);
    if (quote === -1) throw new Error(`the quoted field at offset ${start} is never closed`);
    if (text[quote + 1] === QUOTE) {
      search = quote + 2;
      continue;
    }
    const value = text.slice(start + 1, quote).replaceAll('""', QUOTE);
    // Spaces between a closing quote and the comma or row end are dropped, as papaparse (and pandas) drop them.
    let end = quote + 1;
    while (text[end] === " ") end++;
    return { start, end, quoted: true, contentStart: start + 1, contentEnd: quote, value };
  }
}

/** Physical line breaks in text[from, to): CRLF, LF and a lone CR each count once. */
export function lineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (c === "\n") count++;
    else if (c === "\r" && text[i + 1] !== "\n") count++;
  }
  return count;
}

/** The physical line of the character at `offset` (1-based). */
export function lineAt(model: CsvModel, record: CsvRecord, offset: number): number {
  return record.line + lineBreaks(model.text, record.start, offset);
}

/** Offset in the text of the character at `index` in the field's value (`index` may be the value's length). */
export function rawOffset(field: CsvField, text: string, index: number): number {
  let at = field.contentStart;
  for (let i = 0; i < index; i++) at += field.quoted && text[at] === QUOTE ? 2 : 1;
  return at;
}

/** "a, b" as a CSV field: quoted when it must be, with quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value.trim() !== value ? `"${value.replaceAll(QUOTE, '""')}"` : value;
}

/**
 * What papaparse makes of a quoted field whose closing quote is searched for from `from` (the first character that
 * may be a quote), as its Parser does: a quote followed by optional whitespace and a comma or a row end (or the end
 * of the input) closes the field; "" is an escaped quote; any other quote is recorded as InvalidQuotes and the
 * search goes on; no closing quote at all is MissingQuotes, recorded last.
 */
export function quotedFieldOutcome(text: string, from: number): "closes" | "invalid_quotes" | "unterminated_quote" {
  let invalid = false;
  let quote = from - 1;
  for (;;) {
    quote = text.indexOf(QUOTE, quote + 1);
    if (quote === -1) return "unterminated_quote";
    if (quote === text.length - 1) return invalid ? "invalid_quotes" : "closes";
    if (text[quote + 1] === QUOTE) {
      quote++;
      continue;
    }
    let after = quote + 1;
    while (after < text.length && /\s/.test(text.charAt(after)) && !"\n\r".includes(text.charAt(after))) after++;
    const next = text.charAt(after);
    if (next === "," || next === "\n" || next === "\r") return invalid ? "invalid_quotes" : "closes";
    invalid = true;
  }
}
