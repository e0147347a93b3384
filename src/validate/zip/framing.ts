/**
 * The structure of a zip read as a stream, strictly: local entries one after another from the first byte, then the
 * central directory, then its end record, and nothing else. Every central directory record must describe the local
 * entry read at its offset (name, method, encryption, CRC, sizes), so any reader of the archive, streaming or by
 * its directory, sees exactly the entries checked here; an archive that hides an entry in a gap, a comment, zip64
 * records or another entry's data is corrupt. The end record may have no comment, and the zip64 end record (if any)
 * must be exactly its fixed fields, pointed at by its locator, and agree with the end record. (fflate's Unzip skips bytes it does not recognise and finds entry ends by
 * searching for signatures, and does not say whether an entry is encrypted: it inflates; this frames.)
 *
 * Memory: a record being read is held whole (at most about 196 KiB: its fixed part and three 64 KiB fields), and
 * the last 23 bytes of an entry's data while its data descriptor is looked for; data is passed on as it arrives.
 */

/** What a local file header says, before its data. */
export interface LocalHeader {
  /** Its position in the archive. */
  offset: number;
  nameBytes: Uint8Array;
  flags: number;
  method: number;
  /** Encrypted, by its flags (traditional or strong encryption) or its method (99, WinZip's AES). */
  encrypted: boolean;
  /** A data descriptor after the data gives the CRC and sizes (flag bit 3), and the data's end is found by it. */
  hasDescriptor: boolean;
  /** Has Info-ZIP's Unicode Path extra field (0x7075): a second name, which unzip extracts the entry under. */
  unicodePath: boolean;
}

/** An entry's CRC and sizes, from its local header or its data descriptor. */
export interface EntryTotals {
  crc: number;
  compressedSize: number;
  size: number;
}

/** A central directory record's fields that the local header lacks, and what its extra fields hold. */
export interface DirectoryRecord {
  /** Its high 16 bits hold a Unix mode (file type and permissions) for whatever system made the entry, or 0. */
  externalAttributes: number;
  /** Has a Unicode Path extra field (0x7075), as in LocalHeader. */
  unicodePath: boolean;
}

/** What becomes of an entry's data: passed on, or the whole archive read no further. */
export type EntryDecision = "read" | "stop";

export interface FramingEvents {
  entry(header: LocalHeader): EntryDecision;
  /** An entry's compressed bytes, in order. */
  data(bytes: Uint8Array): Promise<void>;
  /** The end of an entry's data, with its CRC and sizes. */
  entryEnd(totals: EntryTotals): Promise<void>;
  /** The directory's record of local entry `index`, once checked against it. */
  directoryRecord(index: number, record: DirectoryRecord): void;
  /** The archive's structure is wrong: nothing after this is read. */
  fail(code: "corrupt_archive" | "truncated_archive", message: string): void;
}

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const DIRECTORY_RECORD = 0x02014b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const END_OF_DIRECTORY = 0x06054b50;

/** Zip64's marker in a 32-bit size or offset field: the real value is in the zip64 extra field. */
const ZIP64_MARKER = 0xffffffff;
/** The same in the end record's 16-bit entry counts: the real count is in the zip64 end record. */
const ZIP64_COUNT_MARKER = 0xffff;
/**
 * The zip64 end record's fields after its size field. Anything more ("extensible data") is refused: readers differ
 * on it, and Python's zipfile finds a central directory in it that this reader never read.
 */
const ZIP64_END_FIELDS = 44;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
/** Bit 11: the name is UTF-8 (without it, Windows and Python's zipfile read it as code page 437). */
export const FLAG_UTF8 = 0x0800;
const METHOD_AES = 99;
const EXTRA_ZIP64 = 0x0001;
const EXTRA_UNICODE_PATH = 0x7075;

/** Where the reader is: in a record (signature next), in an entry's data, or past the end record. */
type State =
  | { at: "record" }
  | { at: "data"; remaining: number }
  | { at: "descriptor_scan"; dataBytes: number; zip64: boolean; tail: Uint8Array }
  | { at: "end" };

interface SeenEntry {
  offset: number;
  nameBytes: Uint8Array;
  method: number;
  encrypted: boolean;
  utf8: boolean;
  totals: EntryTotals | undefined;
}

export class ZipFraming {
  private state: State = { at: "record" };
  private readonly record = new GrowableBytes();
  private readonly entries: SeenEntry[] = [];
  /** Central directory records read, and where the directory began and ended (where the zip64 end record is). */
  private directoryRecords = 0;
  private directoryStart: number | undefined;
  private directoryEnd: number | undefined;
  /** The zip64 end record's values and position; the end record's fields must equal them or be markers. */
  private zip64End: { entries: number; size: number; offset: number; at: number } | undefined;
  /** The last record read, when it must be followed by one kind: a zip64 end record by its locator, that by the end. */
  private previous: "zip64_end" | "locator" | undefined;
  /** Bytes taken into the structure: records parsed, data passed on or over. */
  private consumed = 0;
  private received = 0;
  private halted = false;

  constructor(private readonly events: FramingEvents) {}

  /** True once reading stopped: at a failure, or because the events said so. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Archive bytes given to push so far. */
  get bytesRead(): number {
    return this.received;
  }

  /** The largest record held at once, in bytes (the only buffer whose size the input decides). */
  get largestRecordHeld(): number {
    return this.record.capacity;
  }

  stop(): void {
    this.halted = true;
  }

  async push(chunk: Uint8Array): Promise<void> {
    if (this.halted) return;
    this.received += chunk.length;
    let rest = chunk;
    while (rest.length > 0 && !this.halted) {
      const state = this.state;
      if (state.at === "data") rest = await this.knownData(state, rest);
      else if (state.at === "descriptor_scan") rest = await this.scanData(state, rest);
      else if (state.at === "end") this.fail("corrupt_archive", "There are bytes after the archive's end record.");
      else rest = this.fillRecord(rest);
    }
  }

  /** The input has ended: anything but a complete archive is truncated. */
  finish(): void {
    if (this.halted) return;
    if (this.state.at !== "end")
      this.fail(
        "truncated_archive",
        this.received === 0
          ? "The file is empty."
          : "The archive ends before its end record: it is incomplete (an interrupted download or upload?).",
      );
  }

  private fail(code: "corrupt_archive" | "truncated_archive", message: string): void {
    this.halted = true;
    this.events.fail(code, message);
  }

  /** Takes bytes into the record being read until it is whole, then reads it; returns the bytes left over. */
  private fillRecord(input: Uint8Array): Uint8Array {
    let rest = input;
    for (;;) {
      const needed = this.recordLength();
      if (needed === undefined) return rest;
      if (this.record.length >= needed) break;
      const take = Math.min(needed - this.record.length, rest.length);
      this.record.append(rest.subarray(0, take));
      rest = rest.subarray(take);
      if (this.record.length < needed) return rest;
    }
    const bytes = this.record.view();
    this.record.clear();
    this.readRecord(bytes);
    this.consumed += bytes.length;
    return rest;
  }

  /**
   * How long the record being read is, as far as its bytes so far tell (its signature, then its fixed part give
   * the length of its variable fields); undefined when it is not a record at all (reading has then failed).
   */
  private recordLength(): number | undefined {
    const bytes = this.record.view();
    if (bytes.length < 4) return 4;
    const view = dataView(bytes);
    const fixed = (size: number, variable: () => number): number => (bytes.length < size ? size : size + variable());
    switch (view.getUint32(0, true)) {
      case LOCAL_HEADER:
        return fixed(30, () => view.getUint16(26, true) + view.getUint16(28, true));
      case DIRECTORY_RECORD:
        return fixed(46, () => view.getUint16(28, true) + view.getUint16(30, true) + view.getUint16(32, true));
      case ZIP64_END:
        if (bytes.length < 12) return 12;
        if (readUint64(view, 4) !== ZIP64_END_FIELDS) {
          this.fail(
            "corrupt_archive",
            `The zip64 end record says it is ${readUint64(view, 4)} bytes long, not ${ZIP64_END_FIELDS}: readers would disagree about what follows it.`,
          );
          return undefined;
        }
        return 12 + ZIP64_END_FIELDS;
      case ZIP64_LOCATOR:
        return 20;
      case END_OF_DIRECTORY:
        // A comment is refused as soon as its length is read, before any of it is held (see readEnd).
        if (bytes.length >= 22 && view.getUint16(20, true) > 0) {
          this.fail(
            "corrupt_archive",
            `The archive has a comment (${view.getUint16(20, true)} bytes after its end record): a zip of task files needs none, and some readers find a different archive in one. Zip the files again without a comment.`,
          );
          return undefined;
        }
        return 22;
      default:
        this.fail(
          "corrupt_archive",
          this.consumed === 0
            ? "This is not a zip archive: it does not start with a zip entry or end record."
            : `Unexpected bytes at byte ${this.consumed} where a zip record should start.`,
        );
        return undefined;
    }
  }

  private readRecord(bytes: Uint8Array): void {
    const view = dataView(bytes);
    const signature = view.getUint32(0, true);
    const previous = this.previous;
    this.previous = undefined;
    if (previous === "zip64_end" && signature !== ZIP64_LOCATOR)
      this.fail("corrupt_archive", "The zip64 end record is not followed by its locator.");
    else if (previous === "locator" && signature !== END_OF_DIRECTORY)
      this.fail("corrupt_archive", "The zip64 end locator is not followed by the end record.");
    else if (signature === LOCAL_HEADER) this.readLocalHeader(bytes, view);
    else if (signature === DIRECTORY_RECORD) this.readDirectoryRecord(bytes, view);
    else if (signature === ZIP64_END) this.readZip64End(view);
    else if (signature === ZIP64_LOCATOR) this.readZip64Locator(view);
    else this.readEnd(view);
  }

  private readLocalHeader(bytes: Uint8Array, view: DataView): void {
    if (this.directoryStart !== undefined) {
      this.fail("corrupt_archive", `An entry starts at byte ${this.consumed}, after the central directory.`);
      return;
    }
    const flags = view.getUint16(6, true);
    const method = view.getUint16(8, true);
    const nameLength = view.getUint16(26, true);
    const nameBytes = bytes.slice(30, 30 + nameLength);
    const extraBytes = bytes.subarray(30 + nameLength);
    const extra = zip64Extra(extraBytes);
    const size = extra.widen(view.getUint32(22, true));
    const compressedSize = extra.widen(view.getUint32(18, true));
    const hasDescriptor = (flags & FLAG_DESCRIPTOR) !== 0;
    const encrypted = (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0 || method === METHOD_AES;
    const unicodePath = hasExtraField(extraBytes, EXTRA_UNICODE_PATH);
    const header: LocalHeader = {
      offset: this.consumed,
      nameBytes,
      flags,
      method,
      encrypted,
      hasDescriptor,
      unicodePath,
    };
    const seen: SeenEntry = {
      offset: this.consumed,
      nameBytes,
      method,
      encrypted: (flags & FLAG_ENCRYPTED) !== 0,
      utf8: (flags & FLAG_UTF8) !== 0,
      totals: hasDescriptor ? undefined : { crc: view.getUint32(14, true), compressedSize, size },
    };
    this.entries.push(seen);
    if (this.events.entry(header) === "stop") {
      this.halted = true;
      return;
    }
    this.state = hasDescriptor
      ? { at: "descriptor_scan", dataBytes: 0, zip64: extra.present, tail: new Uint8Array(0) }
      : { at: "data", remaining: compressedSize };
  }

  private async knownData(state: { remaining: number }, input: Uint8Array): Promise<Uint8Array> {
    const take = Math.min(state.remaining, input.length);
    const piece = input.subarray(0, take);
    state.remaining -= take;
    this.consumed += take;
    if (take > 0) await this.events.data(piece);
    if (state.remaining === 0 && !this.halted) await this.endEntry();
    return input.subarray(take);
  }

  /**
   * An entry with a data descriptor: its data ends where a descriptor signature is followed by a compressed size
   * equal to the bytes before it (the signature alone can occur in compressed data; both together, by chance,
   * about once in 2^64 positions, and the CRC check and the directory then catch it). Bytes that could be the start
   * of a descriptor are held back (at most 23) until the next chunk says.
   */
  private async scanData(
    state: { dataBytes: number; zip64: boolean; tail: Uint8Array },
    input: Uint8Array,
  ): Promise<Uint8Array> {
    const window = state.tail.length === 0 ? input : concat(state.tail, input);
    const descriptorLength = state.zip64 ? 24 : 16;
    const view = dataView(window);
    for (let p = 0; p + descriptorLength <= window.length; p++) {
      if (window[p] !== 0x50 || view.getUint32(p, true) !== DATA_DESCRIPTOR) continue;
      const compressedSize = state.zip64 ? readUint64(view, p + 8) : view.getUint32(p + 8, true);
      if (compressedSize !== state.dataBytes + p) continue;
      await this.passData(state, window.subarray(0, p));
      if (this.halted) return new Uint8Array(0);
      const size = state.zip64 ? readUint64(view, p + 16) : view.getUint32(p + 12, true);
      const entry = this.entries.at(-1);
      if (entry) entry.totals = { crc: view.getUint32(p + 4, true), compressedSize, size };
      this.consumed += descriptorLength;
      await this.endEntry();
      return window.subarray(p + descriptorLength);
    }
    const keep = Math.min(window.length, descriptorLength - 1);
    await this.passData(state, window.subarray(0, window.length - keep));
    state.tail = window.slice(window.length - keep);
    return new Uint8Array(0);
  }

  private async passData(state: { dataBytes: number }, piece: Uint8Array): Promise<void> {
    state.dataBytes += piece.length;
    this.consumed += piece.length;
    if (piece.length > 0) await this.events.data(piece);
  }

  private async endEntry(): Promise<void> {
    this.state = { at: "record" };
    const totals = this.entries.at(-1)?.totals;
    if (totals) await this.events.entryEnd(totals);
  }

  private readDirectoryRecord(bytes: Uint8Array, view: DataView): void {
    this.directoryStart ??= this.consumed;
    const index = this.directoryRecords++;
    const entry = this.entries[index];
    if (!entry) {
      this.fail("corrupt_archive", `The central directory lists more entries than the archive holds (${index + 1}).`);
      return;
    }
    const nameLength = view.getUint16(28, true);
    const nameBytes = bytes.subarray(46, 46 + nameLength);
    const extraBytes = bytes.subarray(46 + nameLength, 46 + nameLength + view.getUint16(30, true));
    const extra = zip64Extra(extraBytes);
    const size = extra.widen(view.getUint32(24, true));
    const compressedSize = extra.widen(view.getUint32(20, true));
    const offset = extra.widen(view.getUint32(42, true));
    const totals = entry.totals;
    const agrees =
      totals !== undefined &&
      sameBytes(nameBytes, entry.nameBytes) &&
      view.getUint16(10, true) === entry.method &&
      ((view.getUint16(8, true) & FLAG_ENCRYPTED) !== 0) === entry.encrypted &&
      ((view.getUint16(8, true) & FLAG_UTF8) !== 0) === entry.utf8 &&
      view.getUint32(16, true) === totals.crc &&
      compressedSize === totals.compressedSize &&
      size === totals.size &&
      offset === entry.offset;
    if (!agrees) {
      this.fail(
        "corrupt_archive",
        `The central directory's record ${index + 1} does not describe the entry at that place in the archive: readers would disagree about what it holds.`,
      );
      return;
    }
    this.events.directoryRecord(index, {
      externalAttributes: view.getUint32(38, true),
      unicodePath: hasExtraField(extraBytes, EXTRA_UNICODE_PATH),
    });
  }

  /** The zip64 end record: exactly its fixed fields (recordLength refused any other size), on one disk. */
  private readZip64End(view: DataView): void {
    this.directoryStart ??= this.consumed;
    this.directoryEnd = this.consumed;
    this.previous = "zip64_end";
    const entries = readUint64(view, 32);
    if (view.getUint32(16, true) !== 0 || view.getUint32(20, true) !== 0) {
      this.fail("corrupt_archive", "The archive is split across several files; send it as one zip.");
      return;
    }
    if (readUint64(view, 24) !== entries) {
      this.fail("corrupt_archive", "The zip64 end record gives two different entry counts.");
      return;
    }
    this.zip64End = { entries, size: readUint64(view, 40), offset: readUint64(view, 48), at: this.consumed };
  }

  /** The zip64 end locator: it must point at the zip64 end record just read, on the one disk. */
  private readZip64Locator(view: DataView): void {
    if (!this.zip64End) {
      this.fail("corrupt_archive", "A zip64 end locator without a zip64 end record before it.");
      return;
    }
    this.previous = "locator";
    if (view.getUint32(4, true) !== 0 || readUint64(view, 8) !== this.zip64End.at || view.getUint32(16, true) > 1)
      this.fail(
        "corrupt_archive",
        "The zip64 end locator does not point at the zip64 end record: readers would disagree about what the archive holds.",
      );
  }

  private readEnd(view: DataView): void {
    this.state = { at: "end" };
    const directoryStart = this.directoryStart ?? this.consumed;
    const directoryEnd = this.directoryEnd ?? this.consumed;
    if (view.getUint16(4, true) !== 0 || view.getUint16(6, true) !== 0) {
      this.fail("corrupt_archive", "The archive is split across several files; send it as one zip.");
      return;
    }
    const own = {
      diskEntries: view.getUint16(8, true),
      entries: view.getUint16(10, true),
      size: view.getUint32(12, true),
      offset: view.getUint32(16, true),
    };
    const zip64 = this.zip64End;
    // With a zip64 end record, each field is either its marker or the zip64 value: never a third story.
    const agrees = (value: number, marker: number, wide: number): boolean => value === marker || value === wide;
    if (
      zip64 &&
      !(
        agrees(own.diskEntries, ZIP64_COUNT_MARKER, zip64.entries) &&
        agrees(own.entries, ZIP64_COUNT_MARKER, zip64.entries) &&
        agrees(own.size, ZIP64_MARKER, zip64.size) &&
        agrees(own.offset, ZIP64_MARKER, zip64.offset)
      )
    ) {
      this.fail(
        "corrupt_archive",
        "The archive's end record and its zip64 end record disagree: readers would disagree about what it holds.",
      );
      return;
    }
    const { entries, size, offset } = zip64 ?? own;
    if (
      (!zip64 && own.diskEntries !== own.entries) ||
      entries !== this.entries.length ||
      this.directoryRecords !== this.entries.length ||
      offset !== directoryStart ||
      size !== directoryEnd - directoryStart
    )
      this.fail(
        "corrupt_archive",
        `The archive's end record does not match its contents (${entries} entries listed, ${this.entries.length} found).`,
      );
  }
}

/**
 * A record's zip64 extra field (id 1), if it has one. `widen` is called with the record's 32-bit fields in the
 * order the format stores their wide values (size, compressed size, offset): a field holding the zip64 marker
 * takes the next 8-byte value. `present` says whether the field exists (a data descriptor then has 8-byte sizes).
 */
function zip64Extra(extra: Uint8Array): { present: boolean; widen: (value: number) => number } {
  const view = dataView(extra);
  for (let at = 0; at + 4 <= extra.length; ) {
    const length = view.getUint16(at + 2, true);
    if (view.getUint16(at, true) === EXTRA_ZIP64) {
      const end = Math.min(at + 4 + length, extra.length);
      let next = at + 4;
      const widen = (value: number): number => {
        if (value !== ZIP64_MARKER || next + 8 > end) return value;
        next += 8;
        return readUint64(view, next - 8);
      };
      return { present: true, widen };
    }
    at += 4 + length;
  }
  return { present: false, widen: (value) => value };
}

/** Whether a record's extra fields include one with this id (fields are walked by their lengths, as readers do). */
function hasExtraField(extra: Uint8Array, id: number): boolean {
  const view = dataView(extra);
  for (let at = 0; at + 4 <= extra.length; at += 4 + view.getUint16(at + 2, true))
    if (view.getUint16(at, true) === id) return true;
  return false;
}

/** A little-endian 64-bit field as a number (exact below 2^53, far past any size this reader accepts). */
function readUint64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Bytes appended in pieces of any size, copied into one buffer that doubles as it fills (linear in the bytes). */
class GrowableBytes {
  private buffer = new Uint8Array(0);
  length = 0;

  get capacity(): number {
    return this.buffer.length;
  }

  append(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, 2 * this.buffer.length, 64));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length = needed;
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}
