/**
 * First stage of validation, over raw bytes as they arrive:
 * - checks UTF-8 and reports each invalid sequence with its physical line;
 * - drops a leading BOM;
 * - rewrites row endings outside quoted fields (CRLF, lone CR) to LF, so the CSV parser sees one newline style.
 *   papaparse guesses the newline from the first chunk, which mis-splits files that mix styles (pandas reads them);
 *   line breaks inside quoted fields are data and are left as they are;
 * - measures the longest record, so a never-closed quote cannot make the parser rescan an ever-growing tail.
 *
 * Quote handling mirrors papaparse's: a quote opens a field only at its start, `""` is an escaped quote, and a
 * closing quote counts only when followed (after optional spaces) by a comma or a row end.
 */

import { EMPTY_BYTES, concatBytes } from "../util/bytes";

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** Just after a quote inside a quoted field: an escape, a closing quote, or (papaparse) a literal. */
  QuoteInQuoted,
  /** After a closing-quote candidate and some spaces. */
  SpacesAfterQuote,
}

export interface ByteScanEvents {
  invalidUtf8(line: number, byteOffset: number): void;
}

export class ByteScanner {
  bytes = 0;
  /** Physical line of the current position (1-based); a CRLF, LF or lone CR ends a line. */
  line = 1;
  crlfEndings = 0;
  lfEndings = 0;
  crEndings = 0;
  hadBom = false;
  /** Line where the first row ending of a different style than the first one appears. */
  firstMixedEndingLine: number | undefined;
  /** Longest record seen so far, in bytes, including the one still open. */
  longestRecord = 0;
  /** First line of the longest record. */
  longestRecordLine = 1;
  private recordStartLine = 1;
  openQuoteLine: number | undefined;

  private state = State.FieldStart;
  private recordBytes = 0;
  private pendingCr = false;
  private firstEnding: "crlf" | "lf" | "cr" | undefined;
  /** Bytes still expected to complete the current multi-byte UTF-8 sequence, and its bounds for the 2nd byte. */
  private utf8Need = 0;
  private utf8Lower = 0x80;
  private utf8Upper = 0xbf;
  private utf8Line = 1;
  private utf8Offset = 0;
  private head: Uint8Array | undefined = new Uint8Array(0);
  /** A CR inside a quoted field, so that a following LF does not count a second line. */
  private quotedCr = false;

  constructor(private readonly events: ByteScanEvents) {}

  /** Scans a chunk and returns it with row endings normalised (the same array when nothing needed changing). */
  push(chunk: Uint8Array): Uint8Array {
    if (this.head) {
      // Hold the first bytes until we know whether they are a BOM (a BOM may be split over tiny chunks).
      const joined = concatBytes(this.head, chunk);
      if (joined.length < 3) {
        this.head = joined;
        return EMPTY_BYTES;
      }
      this.head = undefined;
      if (joined[0] === 0xef && joined[1] === 0xbb && joined[2] === 0xbf) {
        this.hadBom = true;
        this.bytes += 3;
        return this.scan(joined.subarray(3));
      }
      return this.scan(joined);
    }
    return this.scan(chunk);
  }

  /** Ends the input: returns what was held back (a short head, a final CR as LF); reports a truncated sequence. */
  finish(): Uint8Array {
    const held = this.head ? this.scan(this.head) : EMPTY_BYTES;
    this.head = undefined;
    if (this.utf8Need > 0) this.events.invalidUtf8(this.utf8Line, this.utf8Offset);
    this.utf8Need = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      this.endRow("cr");
      return concatBytes(held, new Uint8Array([LF]));
    }
    this.noteRecordLength();
    return held;
  }

  /** True when the input ended inside a quoted field (papaparse then reports the row as unterminated). */
  get insideQuotes(): boolean {
    return this.state === State.Quoted || this.state === State.QuoteInQuoted;
  }

  private scan(chunk: Uint8Array): Uint8Array {
    // Output is allocated only when a row ending must be rewritten; it can grow by one LF for a held-back CR.
    let out: Uint8Array | undefined;
    let outLength = 0;
    let copiedUpTo = 0;
    const copyUpTo = (end: number): Uint8Array => {
      out ??= new Uint8Array(chunk.length + 1);
      out.set(chunk.subarray(copiedUpTo, end), outLength);
      outLength += end - copiedUpTo;
      copiedUpTo = end;
      return out;
    };

    let i = 0;
    if (this.pendingCr && chunk.length > 0) {
      // A CR ended the previous chunk: it was held back to see whether an LF follows.
      this.pendingCr = false;
      const isCrlf = chunk[0] === LF;
      this.endRow(isCrlf ? "crlf" : "cr");
      copyUpTo(0)[outLength++] = LF;
      if (isCrlf) copiedUpTo = i = 1;
    }

    const length = chunk.length;
    for (; i < length; i++) {
      // Most bytes are ordinary text inside a field: skip runs of them without the state machine.
      if (this.utf8Need === 0 && (this.state === State.Quoted || this.state === State.Unquoted)) {
        const from = i;
        if (this.state === State.Quoted) {
          while (i < length) {
            // biome-ignore lint/style/noNonNullAssertion: i < length, and this loop runs for every byte of quoted text
            const c = chunk[i]!;
            if (c === QUOTE || c === LF || c === CR || c >= 0x80) break;
            i++;
          }
          if (i > from) this.quotedCr = false;
        } else {
          while (i < length) {
            // biome-ignore lint/style/noNonNullAssertion: i < length, and this loop runs for every byte of unquoted text
            const c = chunk[i]!;
            if (c === COMMA || c === LF || c === CR || c >= 0x80) break;
            i++;
          }
        }
        this.recordBytes += i - from;
        if (i === length) break;
      }
      // biome-ignore lint/style/noNonNullAssertion: i < length (the loop's bound), read for every structural byte
      const b = chunk[i]!;
      this.recordBytes++;
      if (b >= 0x80 || this.utf8Need > 0) {
        this.checkUtf8(b, i);
        if (b >= 0x80) {
          this.quotedCr = false;
          if (this.state === State.FieldStart) this.state = State.Unquoted;
          else if (this.state !== State.Unquoted) this.state = State.Quoted;
          continue;
        }
      }
      switch (this.state) {
        case State.Quoted:
          if (b === QUOTE) this.state = State.QuoteInQuoted;
          else if (b === CR) this.line++;
          else if (b === LF && !this.quotedCr) this.line++;
          this.quotedCr = b === CR;
          continue;
        case State.QuoteInQuoted:
          if (b === QUOTE) this.state = State.Quoted;
          else if (b === COMMA) this.state = State.FieldStart;
          else if (b === SPACE) this.state = State.SpacesAfterQuote;
          else if (b !== LF && b !== CR) this.state = State.Quoted;
          break;
        case State.SpacesAfterQuote:
          if (b === COMMA) this.state = State.FieldStart;
          else if (b !== SPACE && b !== LF && b !== CR) this.state = State.Quoted;
          break;
        case State.FieldStart:
          if (b === QUOTE) {
            this.state = State.Quoted;
            this.quotedCr = false;
            this.openQuoteLine = this.line;
            continue;
          }
          if (b !== COMMA && b !== LF && b !== CR) this.state = State.Unquoted;
          break;
        case State.Unquoted:
          if (b === COMMA) this.state = State.FieldStart;
          break;
      }
      if (b === LF) {
        this.endRow("lf");
      } else if (b === CR) {
        const rewritten = copyUpTo(i);
        copiedUpTo = i + 1;
        if (i + 1 === chunk.length) {
          this.pendingCr = true;
          break;
        }
        const isCrlf = chunk[i + 1] === LF;
        this.endRow(isCrlf ? "crlf" : "cr");
        rewritten[outLength++] = LF;
        if (isCrlf) copiedUpTo = ++i + 1;
      }
    }
    this.bytes += chunk.length;
    this.noteRecordLength();
    if (!out) return chunk;
    copyUpTo(chunk.length);
    return out.subarray(0, outLength);
  }

  private noteRecordLength(): void {
    if (this.recordBytes <= this.longestRecord) return;
    this.longestRecord = this.recordBytes;
    this.longestRecordLine = this.recordStartLine;
  }

  private endRow(style: "crlf" | "lf" | "cr"): void {
    this.state = State.FieldStart;
    if (style === "crlf") this.crlfEndings++;
    else if (style === "lf") this.lfEndings++;
    else this.crEndings++;
    if (this.firstEnding === undefined) this.firstEnding = style;
    else if (this.firstEnding !== style) this.firstMixedEndingLine ??= this.line;
    this.line++;
    // The ending's own bytes belong to the record they close.
    this.noteRecordLength();
    this.recordBytes = 0;
    this.recordStartLine = this.line;
  }

  /** Incremental UTF-8 check (the Unicode standard's well-formed byte sequences, table 3-7). */
  private checkUtf8(b: number, index: number): void {
    if (this.utf8Need === 0) {
      this.utf8Line = this.line;
      this.utf8Offset = this.bytes + index;
      if (b >= 0xc2 && b <= 0xdf) this.expect(1, 0x80, 0xbf);
      else if (b === 0xe0) this.expect(2, 0xa0, 0xbf);
      else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.expect(2, 0x80, 0xbf);
      else if (b === 0xed) this.expect(2, 0x80, 0x9f);
      else if (b === 0xf0) this.expect(3, 0x90, 0xbf);
      else if (b >= 0xf1 && b <= 0xf3) this.expect(3, 0x80, 0xbf);
      else if (b === 0xf4) this.expect(3, 0x80, 0x8f);
      else this.events.invalidUtf8(this.line, this.bytes + index);
      return;
    }
    if (b < this.utf8Lower || b > this.utf8Upper) {
      this.events.invalidUtf8(this.utf8Line, this.utf8Offset);
      this.utf8Need = 0;
      // The byte that broke the sequence starts a new one (or is ASCII, which we treat as data).
      if (b >= 0x80) this.checkUtf8(b, index);
      return;
    }
    this.utf8Lower = 0x80;
    this.utf8Upper = 0xbf;
    this.utf8Need--;
  }

  private expect(need: number, lower: number, upper: number): void {
    this.utf8Need = need;
    this.utf8Lower = lower;
    this.utf8Upper = upper;
  }
}
