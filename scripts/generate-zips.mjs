#!/usr/bin/env node
// Writes fixtures/zips/: a good zip of task files, one as macOS's Finder makes them, and one small zip per way an
// archive is refused. Their expected outcomes are asserted in test/node/zip-fixtures.test.ts, not here.
// Deterministic (fixed times, no randomness): rerunning must not change a byte (test/node/zip-fixtures.test.ts
// checks it by writing them elsewhere). Run: node scripts/generate-zips.mjs [OUT_DIR, default fixtures/zips]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Zip, ZipDeflate, strToU8, zipSync } from "fflate";

// fflate writes an entry's time as zip does, in local time: fix the zone so the bytes are the same everywhere.
process.env.TZ = "UTC";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = process.argv[2] ?? join(root, "fixtures", "zips");
mkdirSync(out, { recursive: true });

/** Every entry's time: a fixed date, so the bytes never depend on when this ran. */
const mtime = new Date(Date.UTC(2023, 0, 15, 12, 0, 0));
const task = (path) => new Uint8Array(readFileSync(join(root, "fixtures", "tasks", path)));
const small = strToU8("prompt,classes,answer_index\nQ: 1+1?\nA:,\"[' 2', ' 3']\",0\n");

/** zipSync with the fixed time on every entry; `files` maps names to bytes, or to [bytes, options]. */
function zip(files) {
  const withTimes = Object.fromEntries(
    Object.entries(files).map(([name, value]) => {
      const [bytes, options] = Array.isArray(value) ? value : [value, {}];
      return [name, [bytes, { mtime, ...options }]];
    }),
  );
  return zipSync(withTimes);
}

/** A zip written as a stream (sizes in data descriptors after each entry's data), as Finder and Java write them. */
function streamedZip(files) {
  const chunks = [];
  const archive = new Zip((error, chunk) => {
    if (error) throw error;
    chunks.push(chunk);
  });
  for (const [name, bytes] of Object.entries(files)) {
    const entry = new ZipDeflate(name, { level: 6 });
    // A streamed entry takes its time as a property (the constructor's options are the compressor's).
    entry.mtime = mtime;
    archive.add(entry);
    entry.push(bytes, true);
  }
  archive.end();
  return Buffer.concat(chunks);
}

/** Applies `change(view, offset)` to every local header and central directory record (found by walking them). */
function patchRecords(bytes, change) {
  const copy = new Uint8Array(bytes);
  const view = new DataView(copy.buffer);
  const end = copy.length - 22;
  const entries = view.getUint16(end + 10, true);
  let directory = view.getUint32(end + 16, true);
  for (let i = 0; i < entries; i++) {
    const local = view.getUint32(directory + 42, true);
    change(view, local, "local");
    change(view, directory, "directory");
    const variable = [28, 30, 32].reduce((sum, field) => sum + view.getUint16(directory + field, true), 0);
    directory += 46 + variable;
  }
  return copy;
}

/** Sets general purpose flag bits (local header offset 6, directory record offset 8). */
const setFlags = (bits) => (view, at, kind) => {
  const field = at + (kind === "local" ? 6 : 8);
  view.setUint16(field, view.getUint16(field, true) | bits, true);
};

/** Sets the compression method (local header offset 8, directory record offset 10). */
const setMethod = (method) => (view, at, kind) => view.setUint16(at + (kind === "local" ? 8 : 10), method, true);

/** Clears general purpose flag bits (local header offset 6, directory record offset 8). */
const clearFlags = (bits) => (view, at, kind) => {
  const field = at + (kind === "local" ? 6 : 8);
  view.setUint16(field, view.getUint16(field, true) & ~bits, true);
};

/** A copy with `comment` as the end record's archive comment (the end record is the last 22 bytes, no comment yet). */
function withComment(bytes, comment) {
  const copy = new Uint8Array(bytes.length + comment.length);
  copy.set(bytes);
  copy.set(comment, bytes.length);
  new DataView(copy.buffer).setUint16(bytes.length - 2, comment.length, true);
  return copy;
}

/** The CRC-32 zip uses (for the Unicode Path extra field, which records the CRC of the name it replaces). */
function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Info-ZIP's Unicode Path extra field's id. */
const UNICODE_PATH = 0x7075;

/** Info-ZIP's Unicode Path extra field (0x7075): version 1, the CRC of the header's name, then the name unzip uses. */
function unicodePath(headerName, realName) {
  const name = strToU8(realName);
  const field = new Uint8Array(5 + name.length);
  const view = new DataView(field.buffer);
  view.setUint8(0, 1);
  view.setUint32(1, crc32(strToU8(headerName)), true);
  field.set(name, 5);
  return field;
}

/** A copy with `count` bytes from the middle of the first entry's data inverted. */
function damageFirstEntry(bytes, count) {
  const copy = new Uint8Array(bytes);
  const view = new DataView(copy.buffer);
  const dataStart = 30 + view.getUint16(26, true) + view.getUint16(28, true);
  const middle = dataStart + Math.floor(view.getUint32(18, true) / 2);
  for (let at = middle; at < middle + count; at++) copy[at] ^= 0xff;
  return copy;
}

const good = {
  "task/part-1.csv": task("reference/memo-trap-inverse.csv"),
  "task/part-2.csv": task("valid/classification.csv"),
  "control/facts-standard.csv": task("reference/facts-standard.csv"),
};
const goodZip = zip(good);

// A CSV with one 8 MiB cell of one letter: it deflates to 8 KB, a thousand to one, far past any honest ratio.
const bombCsv = strToU8(`prompt,completion\n"${"A".repeat(8 * 1024 * 1024)}", B\n`);

const fixtures = {
  "good.zip": goodZip,
  // Finder's way: folder entries, sizes after the data, and __MACOSX resource forks and .DS_Store beside the files.
  "finder.zip": streamedZip({
    "task/": new Uint8Array(0),
    "task/part-1.csv": good["task/part-1.csv"],
    "__MACOSX/task/._part-1.csv": strToU8("\u0000\u0005\u0016\u0007Mac OS X        "),
    "task/.DS_Store": strToU8("Bud1"),
    "task/behaviour.jsonl": task("behaviour/valid.jsonl"),
  }),
  "bomb.zip": zip({ "big.csv": [bombCsv, { level: 9 }] }),
  "nested.zip": zip({ "inner.zip": zip({ "part.csv": small }) }),
  "disguised-zip.zip": zip({ "part.csv": zip({ "part.csv": small }) }),
  "not-a-task-file.zip": zip({ "part-1.csv": small, "results.xlsx": strToU8("PK not really") }),
  "duplicate.zip": zip({ "task/Part.csv": small, "task/part.csv": small }),
  "encrypted.zip": patchRecords(zip({ "part.csv": small }), setFlags(0x0001)),
  "symlink.zip": zip({ "part.csv": [strToU8("../../../etc/passwd"), { os: 3, attrs: (0o120777 << 16) >>> 0 }] }),
  "traversal.zip": zip({ "../../part.csv": small }),
  "absolute.zip": zip({ "/etc/cron.d/part.csv": small }),
  "backslash.zip": zip({ "..\\part.csv": small }),
  "drive-letter.zip": zip({ "C:/part.csv": small }),
  // An escape sequence in a name would clear a terminal that printed it.
  "control-character.zip": zip({ "part\u001b[2J.csv": small }),
  "unsupported-compression.zip": patchRecords(zip({ "part.csv": small }), setMethod(14)),
  "too-many-entries.zip": zip(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`part-${i + 1}.csv`, small]))),
  // Bytes changed in the middle of the first entry's compressed data: the DEFLATE stream breaks.
  "corrupt.zip": damageFirstEntry(goodZip, 16),
  // One byte changed in an entry stored without compression: only its CRC shows it.
  "corrupt-stored.zip": damageFirstEntry(zip({ "part.csv": [small, { level: 0 }] }), 1),
  "truncated.zip": goodZip.slice(0, Math.floor(goodZip.length / 2)),
  "empty.zip": zipSync({}),
  // A second, complete archive in the end record's comment: readers that search for the last end record list only
  // its entry, a script one folder up.
  "hidden-in-comment.zip": withComment(
    zip({ "part.csv": small }),
    zip({ "../escape.sh": strToU8("#!/bin/sh\necho escaped\n") }),
  ),
  // Checked as notes.csv, but unzip extracts it under the name in its Unicode Path extra field.
  "unicode-path.zip": zip({
    "notes.csv": [small, { extra: { [UNICODE_PATH]: unicodePath("notes.csv", "../escape.sh") } }],
  }),
  // A resource fork that is a zip bomb: skipped entries are inflated (and thrown away) under the same limits.
  "junk-bomb.zip": zip({ "part.csv": small, "__MACOSX/._part.csv": [bombCsv, { level: 9 }] }),
  // A folder entry with contents, which readers that create the folder never show.
  "folder-with-data.zip": zip({ "task/": strToU8("hidden"), "task/part.csv": small }),
  // A symbolic link made on Windows (made-by 0): the file type in its attributes says so whatever the system.
  "symlink-dos.zip": zip({ "part.csv": [strToU8("../../../etc/passwd"), { os: 0, attrs: (0o120777 << 16) >>> 0 }] }),
  // A Windows device name: writing task/con.csv on Windows writes to the console.
  "reserved-name.zip": zip({ "task/con.csv": small }),
  // A UTF-8 name without the flag that says so: Windows and Python's zipfile read it as code page 437 (cafÃ©.csv).
  "unmarked-utf8.zip": patchRecords(zip({ "caf\u00e9.csv": small }), clearFlags(0x0800)),
  "junk-only.zip": zip({ "__MACOSX/._part.csv": strToU8("junk"), ".DS_Store": strToU8("Bud1") }),
};

for (const [name, bytes] of Object.entries(fixtures)) writeFileSync(join(out, name), bytes);
console.log(`zips: wrote ${Object.keys(fixtures).length} fixtures to ${out}`);
