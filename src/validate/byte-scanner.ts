/**
 * First stage of validation, over raw bytes as they arrive:
 * - checks UTF-8 and reports each invalid sequence with its physical line;
 * - drops a leading BOM;
 * - rewrites row endings outside quoted fields (CRLF, lone CR) to LF, so the CSV parser sees one newline style.
 *   papaparse guesses the newline from the first chunk, which mis-splits files that mix styles (pandas reads them);
 *   line breaks inside quoted fields are data and are left as they are;
 * - measures the longest record, so a never-closed quote cannot make the parser rescan an ever-growing tail;
 * - says where the last complete record in each output ends, so the CSV parser is only ever given whole records and
 *   never re-parses the start of a long one as more of it arrives (that made a wide row cost its width squared);
 * - cuts records whose end the checks do not need, noting each in `cutRecords`: past the field limit, the rest of
 *   the record (a row of a million commas reaches the parser as its first fields and its row end); after a quote
 *   with text behind it (papaparse's InvalidQuotes, reported for the whole record), the rest of the record, with a
 *   closing quote so the parser still sees the same record with the same error. Without the cut, papaparse builds
 *   an error object for every later quote of such a record.
 *
 * Quote handling mirrors papaparse's, so that both end records in the same places (test/node/byte-level.test.ts
 * checks this on random texts): a quote opens a field only at its start, `""` is an escaped quote, a closing quote
 * counts only when followed (after optional whitespace) by a comma or a row end, and otherwise the field goes on, the
 * next quote (even one just after that whitespace) being the next candidate. Whitespace there is what papaparse
 * skips: any text that `String#trim` removes (its test), so tab, vertical tab, form feed and the Unicode spaces
 * (U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF) as well as the space.
 */

import { EMPTY_BYTES, concatBytes } from "../util/bytes";

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/** Whitespace to `String#trim` in ASCII other than the space and the row-end bytes: tab, vertical tab, form feed. */
const isOtherAsciiWhitespace = (b: number): boolean => b === 0x09 || b === 0x0b || b === 0x0c;

/** First bytes of the UTF-8 encodings of the non-ASCII characters that `String#trim` removes (listed below). */
const mayStartWhitespace = (b: number): boolean => b === 0xc2 || b === 0xe1 || b === 0xe2 || b === 0xe3 || b === 0xef;

/** The bytes of a whole, well-formed UTF-8 sequence, big-endian in one number: true for the characters trim removes. */
function isWhitespaceSequence(bytes: number): boolean {
  return (
    bytes === 0xc2a0 || // U+00A0 no-break space
    bytes === 0xe19a80 || // U+1680 ogham space mark
    (bytes >= 0xe28080 && bytes <= 0xe2808a) || // U+2000–U+200A, en quad to hair space
    bytes === 0xe280a8 || // U+2028 line separator
    bytes === 0xe280a9 || // U+2029 paragraph separator
    bytes === 0xe280af || // U+202F narrow no-break space
    bytes === 0xe2819f || // U+205F medium mathematical space
    bytes === 0xe38080 || // U+3000 ideographic space
    bytes === 0xefbbbf // U+FEFF zero-width no-break space (a BOM, when it starts the file)
  );
}

enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** Just after a quote inside a quoted field: an escape, a closing quote, or (papaparse) a literal. */
  QuoteInQuoted,
  /** After a closing-quote candidate and some whitespace. */
  SpacesAfterQuote,
  /**
   * Inside a multi-byte character just after a closing-quote candidate (or after it and some whitespace), which may
   * be whitespace (the quote may still close the field) or not (the quote is a literal and the field goes on).
   */
  CharAfterQuote,
}

/** What a byte of a multi-byte character after a closing-quote candidate turned out to be. */
enum AfterQuote {
  /** The character goes on. */
  Pending,
  /** Its last byte, of a whitespace character. */
  Whitespace,
  /** Its last byte, of any other character. */
  Text,
  /** A byte that does not go on with the character, which is not UTF-8. */
  Broken,
}

export interface ByteScanEvents {
  invalidUtf8(line: number, byteOffset: number): void;
}

/**
 * A record whose end was not passed on: one with more fields than the limit ("fields"), or one with text after a
 * closing quote ("quotes"), which the parser reports as a whole.
 */
export interface CutRecord {
  /** The record's position in the file, counting from 0 for the header. */
  readonly ordinal: number;
  readonly reason: "fields" | "quotes";
  /** Fields in the whole record when cut for its fields (exact once the record has ended). */
  fields: number;
  /** Line breaks in the part that was dropped, which the parser never sees. */
  droppedLineBreaks: number;
}

export class ByteScanner {
  /** Bytes pushed so far, those held back to look for a BOM included. */
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
  /**
   * In the output of the latest push, the length of the part made of whole records (just after its last row end);
   * 0 when no record ended in it. The rest belongs to a record still open.
   */
  wholeRecordsEnd = 0;
  /** Records that were cut, in file order; the consumer removes those it has dealt with. */
  readonly cutRecords: CutRecord[] = [];
  /** Row endings so far: the ordinal of the record now open. */
  private recordsEnded = 0;
  /** Fields of the record now open, counted so far. */
  private fields = 1;
  /** The record now open, while the rest of it is being dropped from the output. */
  private cut: CutRecord | undefined;
  /** The line where dropping began, to count the line breaks it hid. */
  private cutLine = 0;

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
  /** Bytes scanned so far: the file offset of the start of the chunk being scanned. */
  private scanned = 0;
  /** The bytes so far of the character in state CharAfterQuote, big-endian. */
  private charAfterQuote = 0;
  private head: Uint8Array | undefined = new Uint8Array(0);
  /** A CR inside a quoted field, so that a following LF does not count a second line. */
  private quotedCr = false;

  /** Fields a record may have; the rest of a wider record is scanned but not passed on. */
  private readonly maxFields: number;
  private readonly cutAfterStrayQuote: boolean;

  constructor(
    private readonly events: ByteScanEvents,
    options: {
      maxFields?: number;
      /** Cut records after a stray quote (the default; tests turn it off to compare the parser's rows). */
      cutAfterStrayQuote?: boolean;
    } = {},
  ) {
    this.maxFields = options.maxFields ?? Number.POSITIVE_INFINITY;
    this.cutAfterStrayQuote = options.cutAfterStrayQuote ?? true;
  }

  /** Scans a chunk and returns it with row endings normalised (the same array when nothing needed changing). */
  push(chunk: Uint8Array): Uint8Array {
    this.wholeRecordsEnd = 0;
    this.bytes += chunk.length;
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
        this.scanned += 3;
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
    // A record cut after a stray quote ends here: close its field for the parser, unless papaparse would have
    // found the whole record's last quoted field never closed. It closes a field at a closing-quote candidate that
    // is the input's last byte, but not at one followed by whitespace alone (or the start of a character).
    const unclosed =
      this.state === State.Quoted || this.state === State.SpacesAfterQuote || this.state === State.CharAfterQuote;
    const close = this.cut?.reason === "quotes" && !unclosed;
    this.endCut();
    return close ? concatBytes(held, new Uint8Array([QUOTE])) : held;
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
    // Output never outgrows the input by more than a held-back CR's LF and a cut record's closing quote.
    const copyUpTo = (end: number): Uint8Array => {
      out ??= new Uint8Array(chunk.length + 2);
      out.set(chunk.subarray(copiedUpTo, end), outLength);
      outLength += end - copiedUpTo;
      copiedUpTo = end;
      return out;
    };

    let wholeRecordsEnd = 0;

    let i = 0;
    // Still dropping the rest of a cut record: nothing of this chunk is passed on until its row end.
    if (this.cut) copyUpTo(0);
    if (this.pendingCr && chunk.length > 0) {
      // A CR ended the previous chunk: it was held back to see whether an LF follows.
      this.pendingCr = false;
      const isCrlf = chunk[0] === LF;
      this.endRow(isCrlf ? "crlf" : "cr");
      copyUpTo(0)[outLength++] = LF;
      wholeRecordsEnd = outLength;
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
        if (this.state === State.CharAfterQuote) {
          const after = this.charAfterQuoteByte(b, i);
          if (after === AfterQuote.Pending) continue;
          // Text after the quote: the quote is a literal and the field goes on, as after an ASCII letter.
          if (after !== AfterQuote.Whitespace && this.mayCutForQuotes()) {
            copyUpTo(this.startCut("quotes", after === AfterQuote.Text ? i + 1 : i));
          }
          // A byte that broke the sequence is read below as a byte of the quoted field (but not passed on if cut).
          if (after !== AfterQuote.Broken) continue;
        } else this.checkUtf8(b, i);
        if (b >= 0x80) {
          this.quotedCr = false;
          if (this.state === State.FieldStart) this.state = State.Unquoted;
          else if (this.state === State.QuoteInQuoted || this.state === State.SpacesAfterQuote) {
            // A character that may be whitespace waits for its last byte; any other is text after the quote.
            if (this.utf8Need > 0 && mayStartWhitespace(b)) {
              this.state = State.CharAfterQuote;
              this.charAfterQuote = b;
              continue;
            }
            this.state = State.Quoted;
            if (this.mayCutForQuotes()) copyUpTo(this.startCut("quotes", i + 1));
          } else if (this.state !== State.Unquoted) this.state = State.Quoted;
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
          else if (b !== LF && b !== CR) {
            if (isOtherAsciiWhitespace(b)) this.state = State.SpacesAfterQuote;
            else {
              // Text after a closing quote: the quote is a literal and the field goes on (papaparse's InvalidQuotes).
              this.state = State.Quoted;
              if (this.mayCutForQuotes()) copyUpTo(this.startCut("quotes", i + 1));
            }
          }
          break;
        case State.SpacesAfterQuote:
          if (b === COMMA) this.state = State.FieldStart;
          else if (b !== SPACE && b !== LF && b !== CR && !isOtherAsciiWhitespace(b)) {
            // The quote before the whitespace was a literal; a quote here is the next closing-quote candidate
            // (papaparse searches on from just after the whitespace's first character, one UTF-16 unit).
            this.state = b === QUOTE ? State.QuoteInQuoted : State.Quoted;
            // Such a quote is left out: with the closing quote added at the row end it would read as an escape.
            if (this.mayCutForQuotes()) copyUpTo(this.startCut("quotes", b === QUOTE ? i : i + 1));
          }
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
      // Every case above that reads a comma outside quotes ends a field.
      if (b === COMMA) {
        // Pass on the record up to (not including) the comma that starts one field too many.
        if (++this.fields > this.maxFields && !this.cut) copyUpTo(this.startCut("fields", i));
        continue;
      }
      if (b === LF || b === CR) {
        if (this.cut) {
          // The row end is passed on, after a closing quote for a record cut inside a quoted field.
          copiedUpTo = i;
          if (this.cut.reason === "quotes") copyUpTo(i)[outLength++] = QUOTE;
        }
      }
      if (b === LF) {
        this.endRow("lf");
        wholeRecordsEnd = out ? outLength + (i + 1 - copiedUpTo) : i + 1;
      } else if (b === CR) {
        const rewritten = copyUpTo(i);
        copiedUpTo = i + 1;
        if (i + 1 === chunk.length) {
          // The record is complete; only its row end's style waits for the next chunk.
          this.endCut();
          this.pendingCr = true;
          break;
        }
        const isCrlf = chunk[i + 1] === LF;
        this.endRow(isCrlf ? "crlf" : "cr");
        rewritten[outLength++] = LF;
        wholeRecordsEnd = outLength;
        if (isCrlf) copiedUpTo = ++i + 1;
      }
    }
    this.scanned += chunk.length;
    this.noteRecordLength();
    this.wholeRecordsEnd = wholeRecordsEnd;
    if (!out) return chunk;
    // A cut record runs on past this chunk: pass on nothing more of it.
    if (this.cut) copiedUpTo = chunk.length;
    copyUpTo(chunk.length);
    return out.subarray(0, outLength);
  }

  /**
   * Checks byte b, the next of a multi-byte character after a closing-quote candidate (state CharAfterQuote), and
   * moves on: to SpacesAfterQuote once a whitespace character is complete, or to Quoted when the character is text
   * (any other character, or bytes that are not UTF-8, which the decoder turns into U+FFFD).
   */
  private charAfterQuoteByte(b: number, index: number): AfterQuote {
    // Known only before checkUtf8 moves on.
    const continues = b >= this.utf8Lower && b <= this.utf8Upper;
    this.checkUtf8(b, index);
    if (!continues) {
      this.state = State.Quoted;
      return AfterQuote.Broken;
    }
    this.charAfterQuote = (this.charAfterQuote << 8) | b;
    if (this.utf8Need > 0) return AfterQuote.Pending;
    if (isWhitespaceSequence(this.charAfterQuote)) {
      this.state = State.SpacesAfterQuote;
      return AfterQuote.Whitespace;
    }
    this.state = State.Quoted;
    return AfterQuote.Text;
  }

  /** Records after the header may be cut after a stray quote: the header is read as papaparse reads it, whole. */
  private mayCutForQuotes(): boolean {
    return this.cutAfterStrayQuote && !this.cut && this.recordsEnded > 0;
  }

  /** Starts dropping the rest of the record now open; returns where its output ends (for the caller to copy). */
  private startCut(reason: CutRecord["reason"], end: number): number {
    this.cut = { ordinal: this.recordsEnded, reason, fields: 0, droppedLineBreaks: 0 };
    this.cutLine = this.line;
    this.cutRecords.push(this.cut);
    return end;
  }

  /** Completes the cut record now open, if any: its field count and the line breaks that were dropped. */
  private endCut(): void {
    if (!this.cut) return;
    this.cut.fields = this.fields;
    this.cut.droppedLineBreaks = this.line - this.cutLine;
    this.cut = undefined;
  }

  private noteRecordLength(): void {
    if (this.recordBytes <= this.longestRecord) return;
    this.longestRecord = this.recordBytes;
    this.longestRecordLine = this.recordStartLine;
  }

  private endRow(style: "crlf" | "lf" | "cr"): void {
    this.endCut();
    this.fields = 1;
    this.recordsEnded++;
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
      this.utf8Offset = this.scanned + index;
      if (b >= 0xc2 && b <= 0xdf) this.expect(1, 0x80, 0xbf);
      else if (b === 0xe0) this.expect(2, 0xa0, 0xbf);
      else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.expect(2, 0x80, 0xbf);
      else if (b === 0xed) this.expect(2, 0x80, 0x9f);
      else if (b === 0xf0) this.expect(3, 0x90, 0xbf);
      else if (b >= 0xf1 && b <= 0xf3) this.expect(3, 0x80, 0xbf);
      else if (b === 0xf4) this.expect(3, 0x80, 0x8f);
      else this.events.invalidUtf8(this.line, this.scanned + index);
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
