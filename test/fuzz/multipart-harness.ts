/**
 * Builds multipart/form-data bodies (RFC 7578) and reads them with src/http/multipart.ts the way the routes do:
 * withMultipart around nextPart, then readBodyText for a small part (metadata, a family, a results file) or
 * bodyChunks for the task file, or nothing (the part is skipped by the next nextPart).
 */
import { type MultipartReader, withMultipart } from "../../src/http/multipart";
import { ProblemError } from "../../src/http/problem";

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  content: Uint8Array;
}

const encoder = new TextEncoder();

export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, piece) => n + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const quoted = (value: string): string => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/**
 * The body, and the offset just after its closing delimiter (`--boundary--`); undefined when a preamble or a part's
 * content would contain a delimiter of its own (the body would not say what was meant).
 */
export function multipartBody(
  parts: readonly Part[],
  boundary: string,
  preamble: Uint8Array,
  epilogue: Uint8Array,
): { bytes: Uint8Array; closeEnd: number } | undefined {
  const pieces: Uint8Array[] = [];
  if (preamble.length > 0) pieces.push(preamble, encoder.encode("\r\n"));
  for (const part of parts) {
    const disposition = `form-data; name=${quoted(part.name)}${part.filename === undefined ? "" : `; filename=${quoted(part.filename)}`}`;
    const type = part.contentType === undefined ? "" : `Content-Type: ${part.contentType}\r\n`;
    pieces.push(encoder.encode(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    pieces.push(part.content, encoder.encode("\r\n"));
  }
  pieces.push(encoder.encode(`--${boundary}--`));
  const closeEnd = pieces.reduce((n, piece) => n + piece.length, 0);
  if (epilogue.length > 0) pieces.push(encoder.encode("\r\n"), epilogue);
  const bytes = concat(pieces);
  // The reader looks for CRLF--boundary and reads a body that starts with --boundary as if a CRLF came before it.
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  const framed = concat([encoder.encode("\r\n"), bytes]);
  let expected = 0;
  for (
    let at = indexOfBytes(framed, delimiter);
    at !== -1 && at - 2 < closeEnd;
    at = indexOfBytes(framed, delimiter, at + 1)
  ) {
    expected++;
  }
  return expected === parts.length + 1 ? { bytes, closeEnd } : undefined;
}

export type ReadStrategy = "text" | "chunks" | "skip";

export interface ReadPart {
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
  /** The content as bytes (read as chunks) or as text (read whole), neither when the part was skipped. */
  content?: Uint8Array;
  text?: string;
}

/** Reads every part, each with the strategy its position chooses; throws what the reader throws. */
export async function readParts(reader: MultipartReader, strategies: readonly ReadStrategy[]): Promise<ReadPart[]> {
  const parts: ReadPart[] = [];
  for (let head = await reader.nextPart(); head; head = await reader.nextPart()) {
    if (parts.length > 100_000) throw new Error("more than 100,000 parts");
    const strategy = strategies[parts.length % Math.max(1, strategies.length)] ?? "text";
    if (strategy === "text") parts.push({ ...head, text: await reader.readBodyText(1 << 22) });
    else if (strategy === "chunks") {
      const chunks: Uint8Array[] = [];
      for await (const chunk of reader.bodyChunks()) chunks.push(chunk.slice());
      parts.push({ ...head, content: concat(chunks) });
    } else parts.push({ ...head });
  }
  return parts;
}

/** How reading a body ended: with its parts, or refused as the routes refuse it (400 invalid_multipart). */
export type Outcome = { kind: "read"; parts: ReadPart[] } | { kind: "invalid_multipart"; detail: string };

/** Reads a body through withMultipart, as the routes do; any other failure than invalid_multipart is thrown. */
export async function readBody(
  stream: ReadableStream<Uint8Array>,
  boundary: string,
  strategies: readonly ReadStrategy[],
): Promise<Outcome> {
  try {
    const parts = await withMultipart(stream, boundary, (reader) => readParts(reader, strategies));
    return { kind: "read", parts };
  } catch (error) {
    if (error instanceof ProblemError && error.code === "invalid_multipart") {
      return { kind: "invalid_multipart", detail: error.detail };
    }
    throw error;
  }
}
