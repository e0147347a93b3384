import type { TaskFileFormat } from "../task-file";
import { shortName } from "../text";

/** What an entry is, by its name alone: decided before any of its bytes are read. */
export type EntryClass =
  | { kind: "unsafe"; reason: string }
  | { kind: "directory" }
  | { kind: "junk" }
  | { kind: "nested_archive" }
  | { kind: "unsupported"; extension: string }
  | {
      kind: "task";
      /** Forward slashes, no empty or "." segments, Unicode NFC: the name the report gives the file. */
      name: string;
      /** The name as duplicates are compared: a case-insensitive file system would make these one file. */
      key: string;
      format: TaskFileFormat;
    };

/** By extension: a CSV, or a model-written evaluation (JSON Lines, or one JSON array). */
const TASK_FORMATS: Readonly<Record<string, TaskFileFormat>> = { csv: "csv", jsonl: "mwe", json: "mwe" };

/** Archives and compressed files: a zip inside a zip hides its entries from every limit here. */
const ARCHIVE_EXTENSIONS = new Set(["zip", "jar", "war", "apk", "gz", "tgz", "tar", "7z", "rar", "bz2", "xz", "zst"]);

/** Files that archivers and file managers add on their own (macOS resource forks and folder settings, Windows thumbnails). */
const JUNK_NAMES = new Set([".ds_store", "thumbs.db", "desktop.ini"]);

/**
 * Characters no honest file name has, which would hide what a name says when shown, by Unicode category: controls
 * (C0, C1, DEL), format characters (invisible or direction-changing: a right-to-left override makes
 * "x\u202Evsc.exe" read as "xexe.csv"; soft hyphens, tags, the BOM) and line and paragraph separators.
 */
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const HIDDEN_CHARACTERS_ALL = new RegExp(HIDDEN_CHARACTERS.source, "gu");

/**
 * Windows device names, which are the device whatever the extension ("con.csv", "nul.tar.gz") and with spaces
 * before it: writing such a file writes to the device. Superscript digits count too, and the console's own names.
 */
const WINDOWS_DEVICE =
  /^(con|prn|aux|nul|com[1-9\u00b9\u00b2\u00b3]|lpt[1-9\u00b9\u00b2\u00b3]|conin\$|conout\$) *(\..*)?$/i;

// ignoreBOM keeps a leading BOM in the name, where it counts as a hidden character, instead of dropping it unseen.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * An entry's name as a report shows it: hidden characters as \u{…} escapes and invalid bytes as U+FFFD, so what
 * is printed is what is there, and at most 60 characters of it.
 */
export function shownName(bytes: Uint8Array): string {
  const text = lenient.decode(bytes);
  return shortName(text.replace(HIDDEN_CHARACTERS_ALL, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`));
}

/**
 * Classifies an entry by the raw bytes of its name. Names are never trusted: anything that could reach outside a
 * folder when extracted (an absolute path, a drive letter, a ".." segment, a backslash, which Windows tools read
 * as a separator), that Windows would write elsewhere or not at all (a colon, a device name, a segment ending in a
 * dot or space, which Windows drops), or that shows other than it is (hidden characters, bytes that are not
 * UTF-8) is unsafe. Names must be UTF-8; one with any byte past ASCII must also be marked so (`markedUtf8`,
 * general purpose bit 11), since Windows, Python's zipfile and others read an unmarked name as code page 437 and
 * would extract it under another name (macOS's Finder and Info-ZIP on Linux leave the mark out).
 */
export function classifyEntryName(bytes: Uint8Array, maxNameBytes: number, markedUtf8: boolean): EntryClass {
  const unsafe = (reason: string): EntryClass => ({ kind: "unsafe", reason });
  if (bytes.length > maxNameBytes) return unsafe(`is longer than ${maxNameBytes} bytes`);
  let name: string;
  try {
    name = utf8.decode(bytes);
  } catch {
    return unsafe("is not UTF-8");
  }
  if (name.length === 0) return unsafe("is empty");
  if (HIDDEN_CHARACTERS.test(name)) return unsafe("has a control or invisible formatting character");
  if (name.includes("\\")) return unsafe("has a backslash, which Windows reads as a folder separator");
  if (name.startsWith("/")) return unsafe("is an absolute path");
  if (/^[A-Za-z]:/.test(name)) return unsafe("starts with a drive letter");
  if (name.includes(":")) return unsafe("has a colon, which Windows reads as a drive or a hidden stream of a file");
  if (!markedUtf8 && bytes.some((byte) => byte > 0x7f))
    return unsafe(
      "has characters past ASCII that the zip does not mark as UTF-8, so Windows and other tools read it as another name (code page 437)",
    );
  const segments = name.split("/");
  if (segments.includes("..")) return unsafe('has a ".." segment, which leads out of the folder it is extracted to');
  if (segments.some((segment) => segment !== "." && /[. ]$/.test(segment)))
    return unsafe("has a part ending in a dot or a space, which Windows drops (another name on disk)");
  if (segments.some((segment) => WINDOWS_DEVICE.test(segment)))
    return unsafe("is a Windows device name (CON, PRN, AUX, NUL, COM1 to COM9, LPT1 to LPT9), which is no file there");
  if (name.endsWith("/")) return { kind: "directory" };
  const kept = segments.filter((segment) => segment !== "" && segment !== ".");
  const base = kept.at(-1);
  if (base === undefined) return { kind: "directory" };
  if (kept.some((segment) => segment === "__MACOSX") || base.startsWith("._") || JUNK_NAMES.has(base.toLowerCase()))
    return { kind: "junk" };
  const dot = base.lastIndexOf(".");
  const extension = dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  if (ARCHIVE_EXTENSIONS.has(extension)) return { kind: "nested_archive" };
  const format = TASK_FORMATS[extension];
  if (format === undefined) return { kind: "unsupported", extension };
  const normalised = kept.join("/").normalize("NFC");
  return { kind: "task", name: normalised, key: normalised.toLowerCase(), format };
}
