import type { AppEnv } from "../app-env";
import type { SubmissionMetadata } from "../generated/types";
import { validateSubmissionMetadata } from "../generated/validators";
import { readJsonPart } from "../http/json-part";
import type { MultipartReader, PartHeaders } from "../http/multipart";
import { ProblemError } from "../http/problem";
import { holdTaskFile } from "../intake/held-file";
import type { TaskFilesUpload } from "../intake/receive-files";
import type { ValidationLimits } from "../validate/report";
import { formatBytes } from "../validate/validator";

const MAX_METADATA_BYTES = 64 * 1024;

/** What an upload sends: one task file, or (when the metadata names its files) a zip or several files. */
export type UploadedFiles = { kind: "one"; chunks: AsyncIterable<Uint8Array> } | TaskFilesUpload;

type Chunks = AsyncIterable<Uint8Array>;

/**
 * Reads an upload's parts, `metadata` and `file`, and gives them to `use`. The metadata comes first or second:
 * a file sent before it is held in staging until it has been read (its task type decides how the file is checked),
 * so metadata problems are found before any file is checked, in either order. Metadata with `files` takes a zip or
 * several parts named `file`; metadata without takes one file, as before. Held files are discarded however `use`
 * ends.
 */
export async function withUploadParts<T>(
  bindings: AppEnv["Bindings"],
  reader: MultipartReader,
  limits: ValidationLimits,
  use: (metadata: SubmissionMetadata, files: UploadedFiles) => Promise<T>,
): Promise<T> {
  const first = await reader.nextPart();
  if (first?.name === "metadata") {
    const metadata = await readMetadata(reader);
    const next = await reader.nextPart();
    if (next?.name !== "file")
      throw new ProblemError("missing_part", 'After "metadata", send the task file as a part named "file".');
    return use(metadata, await uploadedFiles(metadata, reader, next, reader.bodyChunks()));
  }
  if (first?.name !== "file")
    throw new ProblemError(
      "missing_part",
      'Send two parts: "metadata" (JSON) and "file" (the task CSV, or a model-written evaluation in JSON Lines).',
    );
  const held = await holdTaskFile(bindings, reader.bodyChunks(), limits.maxBytes);
  if (held.kind === "too_large") throw fileTooLarge(limits);
  try {
    if ((await reader.nextPart())?.name !== "metadata")
      throw new ProblemError("missing_part", 'After "file", send the metadata (JSON) as a part named "metadata".');
    const metadata = await readMetadata(reader);
    return await use(metadata, await uploadedFiles(metadata, reader, first, await held.chunks()));
  } finally {
    await held.discard();
  }
}

/**
 * The files of an upload, from its first file part: a zip (by its filename or its first bytes) alone; itself alone
 * when the metadata names no files; otherwise it and every `file` part after it, read one after another.
 */
export async function uploadedFiles(
  metadata: SubmissionMetadata,
  reader: MultipartReader,
  first: PartHeaders,
  chunks: Chunks,
): Promise<UploadedFiles> {
  const peeked = await peek(chunks, ZIP_MAGIC_BYTES);
  // A zip is one whatever the metadata says: without files, intake refuses it for want of its roles.
  if (first.filename?.toLowerCase().endsWith(".zip") || isZip(peeked.head))
    return { kind: "zip", chunks: alone(peeked.chunks, reader, ZIP_ALONE) };
  if (metadata.files === undefined) return { kind: "one", chunks: alone(peeked.chunks, reader, ONE_FILE_ALONE) };
  return { kind: "parts", parts: fileParts(reader, { filename: first.filename, chunks: peeked.chunks }) };
}

/** What a part after a file that comes alone is told (`came` names the part). */
const ZIP_ALONE = (came: string): string =>
  `A zip comes alone: put every task file in it, and send no part after it ("${came}" came).`;
const ONE_FILE_ALONE = (came: string): string =>
  `Several files need the metadata's files, naming each with its role; without them send one file ("${came}" came after it).`;

/**
 * A file's bytes, then a check that no part follows it: a zip, or one file without the metadata's `files`, comes
 * alone, so nothing sent is left unread and silently dropped.
 */
async function* alone(
  chunks: Chunks,
  reader: MultipartReader,
  told: (came: string) => string,
): AsyncGenerator<Uint8Array> {
  yield* chunks;
  const next = await reader.nextPart();
  if (next) throw new ProblemError("unexpected_part", told(next.filename ?? next.name ?? ""));
}

async function* fileParts(
  reader: MultipartReader,
  first: { filename: string | undefined; chunks: Chunks },
): AsyncGenerator<{ filename: string | undefined; chunks: Chunks }> {
  yield first;
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    if (part.name !== "file")
      throw new ProblemError(
        "unexpected_part",
        `Send only parts named "file" after the first; "${part.name}" is not one.`,
      );
    yield { filename: part.filename, chunks: reader.bodyChunks() };
  }
}

const ZIP_MAGIC_BYTES = 4;

/** A zip's first bytes: a local file header, or the end record of an empty zip. */
function isZip(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05);
}

/** The first `count` bytes of a stream (fewer if it is shorter), and the whole stream again, from its start. */
async function peek(chunks: Chunks, count: number): Promise<{ head: Uint8Array; chunks: Chunks }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let size = 0;
  while (size < count) {
    const next = await iterator.next();
    if (next.done) break;
    taken.push(next.value);
    size += next.value.length;
  }
  const head = new Uint8Array(Math.min(size, count));
  let filled = 0;
  for (const chunk of taken) {
    if (filled >= head.length) break;
    const used = chunk.subarray(0, head.length - filled);
    head.set(used, filled);
    filled += used.length;
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    yield* taken;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head, chunks: replay() };
}

/** The current part, the metadata: JSON with each key once, in its schema. */
function readMetadata(reader: MultipartReader): Promise<SubmissionMetadata> {
  return readJsonPart(
    reader,
    MAX_METADATA_BYTES,
    validateSubmissionMetadata,
    "invalid_metadata",
    "metadata",
    "metadata_duplicate_key",
  );
}

export function fileTooLarge(limits: ValidationLimits): ProblemError {
  return new ProblemError("payload_too_large", `The task file may be at most ${formatBytes(limits.maxBytes)}.`, {
    limitBytes: limits.maxBytes,
  });
}
