/**
 * Parses the `classes` cell: a Python list literal of strings, as the prize's files wrote it with pandas
 * (`"[' Yes', ' No']"`), or a JSON array of strings. The prize pipeline used `ast.literal_eval`; this accepts the
 * same string syntax (single, double and triple quotes, `u`/`r` prefixes, Python escapes, implicit concatenation)
 * without evaluating anything.
 */
export type ClassesParse = { ok: true; classes: string[] } | { ok: false; message: string; offset: number };

export function parseClassesLiteral(text: string): ClassesParse {
  // JSON.parse is native and fast, and agrees with Python on every string it accepts except "\/". It is tried only
  // on lists that start like JSON: a failed JSON.parse throws, and exceptions on every row cost more than parsing.
  if (/^\s*\[\s*["\]]/.test(text) && !text.includes("\\/")) {
    const fromJson = tryJsonStringArray(text);
    if (fromJson) return { ok: true, classes: fromJson };
  }
  return new LiteralParser(text).parseList();
}

function tryJsonStringArray(text: string): string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(value) && value.every((item): item is string => typeof item === "string")) return value;
  return undefined;
}

/** Python's whitespace between tokens: space, tab, newline, carriage return, form feed, vertical tab. */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

class LiteralFailure extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

class LiteralParser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parseList(): ClassesParse {
    try {
      this.skipSpace();
      const open = this.src[this.pos];
      if (open !== "[") {
        const what = open === "(" ? "a tuple" : open === undefined ? "nothing" : `'${open}'`;
        throw new LiteralFailure(`expected a list such as "[' Yes', ' No']" but found ${what}`, this.pos);
      }
      this.pos++;
      const classes: string[] = [];
      this.skipSpace();
      while (this.src[this.pos] !== "]") {
        classes.push(this.parseConcatenatedString());
        this.skipSpace();
        const next = this.src[this.pos];
        if (next === ",") {
          this.pos++;
          this.skipSpace();
        } else if (next !== "]") {
          throw new LiteralFailure(
            next === undefined ? "the list is not closed with ']'" : `expected ',' or ']' but found '${next}'`,
            this.pos,
          );
        }
      }
      this.pos++;
      this.skipSpace();
      if (this.pos < this.src.length) throw new LiteralFailure("unexpected text after the closing ']'", this.pos);
      return { ok: true, classes };
    } catch (error) {
      if (error instanceof LiteralFailure) return { ok: false, message: error.message, offset: error.offset };
      throw error;
    }
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && isSpace(this.src.charCodeAt(this.pos))) this.pos++;
  }

  /** Python joins adjacent string literals: `'a' 'b'` is `'ab'`. */
  private parseConcatenatedString(): string {
    let value = this.parseString();
    for (;;) {
      const save = this.pos;
      this.skipSpace();
      if (!this.atStringStart()) {
        this.pos = save;
        return value;
      }
      value += this.parseString();
    }
  }

  private atStringStart(): boolean {
    const first = this.src[this.pos];
    if (first === "'" || first === '"') return true;
    const second = this.src[this.pos + 1];
    return (first === "u" || first === "U" || first === "r" || first === "R") && (second === "'" || second === '"');
  }

  private parseString(): string {
    const start = this.pos;
    let raw = false;
    while ("uUrRbB".includes(this.src[this.pos] || "?")) {
      const prefix = this.src[this.pos];
      if (prefix === "b" || prefix === "B") throw new LiteralFailure("bytes literals (b'...') are not text", this.pos);
      if (prefix === "r" || prefix === "R") raw = true;
      this.pos++;
    }
    const quote = this.src[this.pos];
    if (quote !== "'" && quote !== '"') {
      const found = this.src[start];
      throw new LiteralFailure(
        found === undefined ? "the list is not closed with ']'" : `expected a quoted string but found '${found}'`,
        start,
      );
    }
    const triple = this.src.startsWith(quote.repeat(3), this.pos);
    const terminator = triple ? quote.repeat(3) : quote;
    this.pos += terminator.length;
    let value = "";
    const quoteCode = quote.charCodeAt(0);
    for (;;) {
      // Copy the run of ordinary characters up to the next quote, backslash or line break in one slice.
      let end = this.pos;
      while (end < this.src.length) {
        const code = this.src.charCodeAt(end);
        if (code === quoteCode || code === 0x5c || code === 0x0a) break;
        end++;
      }
      value += this.src.slice(this.pos, end);
      this.pos = end;
      const ch = this.src[this.pos];
      if (ch === undefined) throw new LiteralFailure(`the string starting here is never closed with ${quote}`, start);
      if (this.src.startsWith(terminator, this.pos)) {
        this.pos += terminator.length;
        return value;
      }
      if (!triple && ch === "\n") throw new LiteralFailure("a line break inside a single-quoted string", this.pos);
      if (ch === "\\") {
        value += raw ? this.readRawEscape() : this.readEscape();
        continue;
      }
      value += ch;
      this.pos++;
    }
  }

  private readRawEscape(): string {
    // In raw strings a backslash stays, but it still stops the next quote from closing the string.
    const next = this.src[this.pos + 1] ?? "";
    this.pos += 2;
    return `\\${next}`;
  }

  private readEscape(): string {
    const at = this.pos;
    const kind = this.src[this.pos + 1];
    if (kind === undefined) throw new LiteralFailure("a backslash at the end of the text", at);
    this.pos += 2;
    const simple = SIMPLE_ESCAPES[kind];
    if (simple !== undefined) return simple;
    if (kind === "\n") return "";
    if (kind === "x") return this.readHexEscape(2, at);
    if (kind === "u") return this.readHexEscape(4, at);
    if (kind === "U") return this.readHexEscape(8, at);
    if (kind >= "0" && kind <= "7") {
      let digits = kind;
      while (digits.length < 3 && /[0-7]/.test(this.src[this.pos] ?? "")) digits += this.src[this.pos++];
      return String.fromCodePoint(parseInt(digits, 8));
    }
    if (kind === "N")
      throw new LiteralFailure("named escapes (\\N{...}) are not supported; write the character itself", at);
    // Python keeps unknown escapes as they are (with a deprecation warning), and so do we.
    return `\\${kind}`;
  }

  private readHexEscape(length: number, at: number): string {
    const digits = this.src.slice(this.pos, this.pos + length);
    if (digits.length !== length || !/^[0-9a-fA-F]+$/.test(digits)) {
      throw new LiteralFailure(`an escape needs ${length} hexadecimal digits`, at);
    }
    const codePoint = parseInt(digits, 16);
    if (codePoint > 0x10ffff) throw new LiteralFailure("an escape beyond the last Unicode code point", at);
    this.pos += length;
    return String.fromCodePoint(codePoint);
  }
}
