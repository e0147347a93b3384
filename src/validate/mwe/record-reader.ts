/**
 * First stage of validating a model-written evaluation, over raw bytes as they arrive: cuts the file into its
 * records, each with the physical line it starts on, holding at most one record (bounded by the record limit).
 *
 * - JSON Lines (the published form): a record is a line. LF ends a line, CRLF too (JSON Lines allows both); a lone
 *   CR is JSON whitespace inside a line. A line of whitespace only is blank.
 * - One JSON array (how some copies are saved): a record is one of the array's top-level elements, cut as the bytes
 *   stream by tracking strings, escapes and nesting depth, so the whole array is never held; an element's line is
 *   the line its first byte is on. The form is known from the first byte that is not whitespace or a BOM: `[`.
 *
 * A record's bytes are decoded as UTF-8 once it is whole (no character spans two records: their ends are ASCII).
 */

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** JSON's whitespace: space, tab, LF, CR. */
export const isJsonWhitespace = (b: number): boolean => b === 0x20 || b === 0x09 || b === LF || b === CR;

export interface RecordEvents {
  /** A line with content, or an element of the array, decoded (invalid UTF-8 replaced by U+FFFD). */
  record(text: string, line: number): void;
  /** A JSON Lines line of whitespace only. */
  blankLine(line: number): void;
  invalidUtf8(line: number, byteOffset: number): void;
  /** The array form is known: the file starts with `[`, on this line. */
  arrayForm(line: number): void;
  /** The array is not well formed between its elements (an empty element, never closed, text after its end). */
  arrayProblem(message: string, line: number): void;
}

export class RecordReader {
  /** Bytes pushed so far. */
  bytes = 0;
  /** Physical line of the current position (1-based). */
  line = 1;
  lfEndings = 0;
  crlfEndings = 0;
  hadBom = false;
  form: "lines" | "array" | undefined;
  /** Set once a record grows past the limit: its first line. Nothing more is read. */
  tooLongAt: number | undefined;

  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private readonly lenientDecoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  /** The first bytes, held until it is known whether they are a BOM. */
  private head: Uint8Array | undefined = new Uint8Array(0);
  /**
   * The record being collected, copied into one buffer that doubles as it fills, up to the record limit (a record
   * past it is refused before it is copied), and the bytes of it in use. One buffer rather than a copy of each
   * chunk: a line pushed a byte at a time would otherwise cost an object per byte, about 200 times its size. It is
   * kept for the next record, so reading holds at most the limit whatever the chunking.
   */
  private buffer = new Uint8Array(0);
  private bufferBytes = 0;
  private recordLine = 1;
  private recordOffset = 0;
  /** File offset of the start of the chunk being read. */
  private offset = 0;
  private previousByte = 0;
  /** Bytes after the last LF: whether the last line has content to count. */
  private bytesAfterLastLf = 0;

  // The array form's state.
  private depth = 0;
  private inString = false;
  private escaped = false;
  private inElement = false;
  /** After `[` or a comma: an element must come next. */
  private elementDue = false;
  /** Just after a comma between elements (so a `]` then is a trailing comma, not an empty array). */
  private afterComma = false;
  private openLine = 1;
  private closed = false;
  private trailingTextReported = false;

  constructor(
    private readonly events: RecordEvents,
    private readonly maxRecordBytes: number,
  ) {}

  /** Lines in the file so far: every LF, and a last line without one. */
  get lines(): number {
    return this.lfEndings + this.crlfEndings + (this.bytesAfterLastLf > 0 ? 1 : 0);
  }

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.head) {
      const joined = new Uint8Array(this.head.length + chunk.length);
      joined.set(this.head);
      joined.set(chunk, this.head.length);
      if (joined.length < 3) {
        this.head = joined;
        return;
      }
      this.head = undefined;
      if (joined[0] === 0xef && joined[1] === 0xbb && joined[2] === 0xbf) {
        this.hadBom = true;
        this.offset = 3;
        this.read(joined.subarray(3));
      } else this.read(joined);
      return;
    }
    this.read(chunk);
  }

  /** Ends the input: the last line, or what is left of the array. */
  finish(): void {
    if (this.head) {
      const held = this.head;
      this.head = undefined;
      this.read(held);
    }
    if (this.tooLongAt !== undefined) return;
    if (this.form === "lines") {
      if (this.bufferBytes > 0) this.endLine();
      return;
    }
    if (this.form !== "array" || this.closed) return;
    if (this.inElement) this.endElement();
    this.events.arrayProblem(
      `The JSON array opened on line ${this.openLine} is never closed: the file ends before its "]".`,
      this.openLine,
    );
  }

  private read(chunk: Uint8Array): void {
    if (this.tooLongAt !== undefined) return;
    let at = 0;
    if (this.form === undefined) at = this.findForm(chunk);
    if (this.form === "lines") this.readLines(chunk, at);
    else if (this.form === "array") this.readArray(chunk, at);
    this.offset += chunk.length;
  }

  /**
   * Reads the whitespace before the first other byte, which decides the form; returns where that byte is (the
   * chunk's length when there is none yet). That whitespace is not kept: JSON ignores it.
   */
  private findForm(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      // biome-ignore lint/style/noNonNullAssertion: i < chunk.length
      const b = chunk[i]!;
      if (!isJsonWhitespace(b)) {
        this.form = b === OPEN_BRACKET ? "array" : "lines";
        this.recordLine = this.line;
        this.recordOffset = this.offset + i;
        if (this.form === "array") this.events.arrayForm(this.line);
        // The lines before were blank: they are the file's first records.
        else for (let line = 1; line < this.line; line++) this.events.blankLine(line);
        return i;
      }
      if (b === LF) this.countLineEnd(i === 0 ? this.previousByte : (chunk[i - 1] ?? 0));
      else this.bytesAfterLastLf++;
    }
    this.previousByte = chunk[chunk.length - 1] ?? this.previousByte;
    return chunk.length;
  }

  private readLines(chunk: Uint8Array, from: number): void {
    let start = from;
    for (;;) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      if (end > start) {
        if (!this.take(chunk.subarray(start, end))) return;
        this.bytesAfterLastLf += end - start;
      }
      if (lf === -1) break;
      this.countLineEnd(lf === 0 ? this.previousByte : (chunk[lf - 1] ?? 0));
      this.endLine();
      start = lf + 1;
      this.recordLine = this.line;
      this.recordOffset = this.offset + start;
    }
    this.previousByte = chunk[chunk.length - 1] ?? this.previousByte;
  }

  private endLine(): void {
    const bytes = this.collect();
    // A CRLF's CR is the line end's, not the record's.
    const end = bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    const record = bytes.subarray(0, end);
    if (record.every(isJsonWhitespace)) this.events.blankLine(this.recordLine);
    else this.emit(record);
  }

  private readArray(chunk: Uint8Array, from: number): void {
    /** Where the part of the open element inside this chunk starts. */
    let start = from;
    for (let i = from; i < chunk.length; i++) {
      // biome-ignore lint/style/noNonNullAssertion: i < chunk.length
      const b = chunk[i]!;
      if (b === LF) this.countLineEnd(i === 0 ? this.previousByte : (chunk[i - 1] ?? 0));
      else this.bytesAfterLastLf++;
      if (this.inElement) {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (b === BACKSLASH) this.escaped = true;
          else if (b === QUOTE) this.inString = false;
          continue;
        }
        if (b === QUOTE) this.inString = true;
        else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
        else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && this.depth > 1) this.depth--;
        else if ((b === COMMA || b === CLOSE_BRACKET) && this.depth === 1) {
          // The element ends just before this byte, which the code below reads as the separator it is.
          if (!this.take(chunk.subarray(start, i))) return;
          this.endElement();
        }
        if (this.inElement) continue;
      }
      this.readBetweenElements(b, i);
      if (this.inElement) start = i;
    }
    if (this.inElement && !this.take(chunk.subarray(start))) return;
    this.previousByte = chunk[chunk.length - 1] ?? this.previousByte;
  }

  /** A byte outside every element: `[` first, then separators, whitespace, and the first byte of each element. */
  private readBetweenElements(b: number, i: number): void {
    if (isJsonWhitespace(b)) return;
    if (this.closed) {
      if (!this.trailingTextReported)
        this.events.arrayProblem('There is text after the JSON array\'s closing "]"; remove it.', this.line);
      this.trailingTextReported = true;
      return;
    }
    if (this.depth === 0) {
      // The first byte of the file, `[`, by which the form was chosen.
      this.depth = 1;
      this.openLine = this.line;
      this.elementDue = true;
      return;
    }
    if (b === COMMA || b === CLOSE_BRACKET) {
      if (this.elementDue && (b === COMMA || this.afterComma))
        this.events.arrayProblem(
          b === COMMA
            ? 'The JSON array has an empty element here (a "," with no value before it).'
            : 'The JSON array ends with a "," before its "]"; JSON allows no trailing comma.',
          this.line,
        );
      this.afterComma = b === COMMA;
      this.elementDue = b === COMMA;
      if (b === CLOSE_BRACKET) this.closed = true;
      return;
    }
    if (!this.elementDue)
      this.events.arrayProblem('Two elements of the JSON array have no "," between them.', this.line);
    this.inElement = true;
    this.elementDue = false;
    this.afterComma = false;
    this.recordLine = this.line;
    this.recordOffset = this.offset + i;
    this.depth = 1;
    this.inString = b === QUOTE;
    if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth = 2;
  }

  private endElement(): void {
    this.inElement = false;
    this.inString = false;
    this.escaped = false;
    this.depth = 1;
    this.emit(this.collect());
  }

  /** Adds bytes to the open record; false (and nothing more is read) once it passes the limit. */
  private take(bytes: Uint8Array): boolean {
    const needed = this.bufferBytes + bytes.length;
    if (needed > this.maxRecordBytes) {
      this.tooLongAt = this.recordLine;
      this.buffer = new Uint8Array(0);
      this.bufferBytes = 0;
      return false;
    }
    if (needed > this.buffer.length) {
      // Doubling keeps the copying linear in the record's length; the limit caps the buffer.
      const grown = new Uint8Array(Math.min(Math.max(needed, 2 * this.buffer.length, 4096), this.maxRecordBytes));
      grown.set(this.buffer.subarray(0, this.bufferBytes));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.bufferBytes);
    this.bufferBytes = needed;
    return true;
  }

  /**
   * The open record's bytes, and the buffer emptied for the next. They are a view of the buffer, so they are read
   * (decoded) before any more bytes are taken, as endLine and endElement do.
   */
  private collect(): Uint8Array {
    const bytes = this.buffer.subarray(0, this.bufferBytes);
    this.bufferBytes = 0;
    return bytes;
  }

  private emit(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      this.events.invalidUtf8(this.recordLine, this.recordOffset + Math.max(0, firstInvalidUtf8(bytes)));
      text = this.lenientDecoder.decode(bytes);
    }
    this.events.record(text, this.recordLine);
  }

  private countLineEnd(byteBefore: number): void {
    if (byteBefore === CR) this.crlfEndings++;
    else this.lfEndings++;
    this.line++;
    this.bytesAfterLastLf = 0;
  }
}

/** Offset of the first ill-formed UTF-8 sequence (the Unicode standard's table 3-7), or -1; run only on failure. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    // biome-ignore lint/style/noNonNullAssertion: i < bytes.length
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const [need, lower, upper] = sequenceOf(b);
    if (need === 0) return i;
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? lower : 0x80) || next > (k === 1 ? upper : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Bytes that follow a lead byte, and the bounds of the first of them; 0 for a byte that cannot lead. */
function sequenceOf(lead: number): [need: number, lower: number, upper: number] {
  if (lead >= 0xc2 && lead <= 0xdf) return [1, 0x80, 0xbf];
  if (lead === 0xe0) return [2, 0xa0, 0xbf];
  if ((lead >= 0xe1 && lead <= 0xec) || lead === 0xee || lead === 0xef) return [2, 0x80, 0xbf];
  if (lead === 0xed) return [2, 0x80, 0x9f];
  if (lead === 0xf0) return [3, 0x90, 0xbf];
  if (lead >= 0xf1 && lead <= 0xf3) return [3, 0x80, 0xbf];
  if (lead === 0xf4) return [3, 0x80, 0x8f];
  return [0, 0, 0];
}
