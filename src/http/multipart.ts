/**
 * A streaming reader for multipart/form-data (RFC 7578) over a web ReadableStream. Workers' request.formData()
 * holds the whole body in memory, which a 100 MB task file cannot afford; this yields each part's body as it
 * arrives. Parts are read in order: a part's body must be consumed (or is skipped) before the next part.
 */

import { concatBytes } from "../util/bytes";
import { ProblemError } from "./problem";

export class MultipartError extends Error {}

export interface PartHeaders {
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
}

const CRLF = new Uint8Array([0x0d, 0x0a]);
const HEADER_END = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a]);
const MAX_HEADER_BYTES = 8 * 1024;

export function boundaryOf(contentType: string | null): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

export class MultipartReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly delimiter: Uint8Array;
  private buffer: Uint8Array = new Uint8Array(0);
  private ended = false;
  private started = false;
  private inBody = false;
  private finished = false;

  constructor(body: ReadableStream<Uint8Array>, boundary: string) {
    this.reader = body.getReader();
    this.delimiter = new TextEncoder().encode(`\r\n--${boundary}`);
  }

  /** The next part's headers, or undefined after the closing delimiter. Skips the rest of the current part. */
  async nextPart(): Promise<PartHeaders | undefined> {
    while (this.inBody) await this.readBodyChunk();
    if (this.finished) return undefined;
    if (!this.started) {
      // The first delimiter may come without its leading CRLF; a preamble before it is ignored.
      this.buffer = concatBytes(CRLF, this.buffer);
      await this.skipTo(this.delimiter);
      this.started = true;
    }
    // After a delimiter: "--" closes the body, otherwise optional padding and CRLF precede the headers.
    await this.fill(2);
    if (this.buffer[0] === 0x2d && this.buffer[1] === 0x2d) {
      this.finished = true;
      return undefined;
    }
    const headerStart = await this.indexOfFilling(CRLF, 0, 1024);
    const headerEnd = await this.indexOfFilling(HEADER_END, headerStart, MAX_HEADER_BYTES);
    const headerText = new TextDecoder().decode(this.buffer.subarray(headerStart + 2, headerEnd + 2));
    this.buffer = this.buffer.subarray(headerEnd + 4);
    this.inBody = true;
    return parsePartHeaders(headerText);
  }

  /** The current part's next bytes, or undefined at its end. */
  async readBodyChunk(): Promise<Uint8Array | undefined> {
    if (!this.inBody) return undefined;
    for (;;) {
      const at = indexOf(this.buffer, this.delimiter, 0);
      if (at >= 0) {
        const chunk = this.buffer.subarray(0, at);
        this.buffer = this.buffer.subarray(at + this.delimiter.length);
        this.inBody = false;
        if (chunk.length > 0) return chunk;
        return undefined;
      }
      // Everything but a possible start of the delimiter can go out now.
      const safe = this.buffer.length - (this.delimiter.length - 1);
      if (safe > 0) {
        const chunk = this.buffer.subarray(0, safe);
        this.buffer = this.buffer.subarray(safe);
        return chunk;
      }
      if (!(await this.pull())) throw new MultipartError("the body ended inside a part, before its closing boundary");
    }
  }

  /** The current part's bytes as they arrive (an upload's file part, streamed into the validator). */
  async *bodyChunks(): AsyncGenerator<Uint8Array> {
    for (let chunk = await this.readBodyChunk(); chunk; chunk = await this.readBodyChunk()) yield chunk;
  }

  /** Reads a small part whole, failing past maxBytes. */
  async readBodyText(maxBytes: number): Promise<string> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (let chunk = await this.readBodyChunk(); chunk; chunk = await this.readBodyChunk()) {
      size += chunk.length;
      if (size > maxBytes) throw new MultipartError(`a form field is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    return new TextDecoder().decode(chunks.reduce(concatBytes, new Uint8Array(0)));
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const { done, value } = await this.reader.read();
    if (done) {
      this.ended = true;
      return false;
    }
    this.buffer = concatBytes(this.buffer, value);
    return true;
  }

  private async fill(length: number): Promise<void> {
    while (this.buffer.length < length) {
      if (!(await this.pull())) throw new MultipartError("the body ended before the closing boundary");
    }
  }

  private async skipTo(pattern: Uint8Array): Promise<void> {
    for (;;) {
      const at = indexOf(this.buffer, pattern, 0);
      if (at >= 0) {
        this.buffer = this.buffer.subarray(at + pattern.length);
        return;
      }
      this.buffer = this.buffer.subarray(Math.max(0, this.buffer.length - pattern.length));
      if (!(await this.pull())) throw new MultipartError("no multipart boundary found in the body");
    }
  }

  private async indexOfFilling(pattern: Uint8Array, from: number, limit: number): Promise<number> {
    for (;;) {
      const at = indexOf(this.buffer, pattern, from);
      if (at >= 0) return at;
      if (this.buffer.length > limit) throw new MultipartError("a part's headers are too long");
      if (!(await this.pull())) throw new MultipartError("the body ended inside a part's headers");
    }
  }
}

function parsePartHeaders(text: string): PartHeaders {
  const headers = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get("content-disposition") ?? "";
  return {
    name: dispositionParam(disposition, "name"),
    filename: dispositionParam(disposition, "filename"),
    contentType: headers.get("content-type"),
  };
}

function dispositionParam(disposition: string, key: string): string | undefined {
  const match = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${key}=([^;\\s]+)`, "i").exec(disposition);
  const value = match?.[1] ?? match?.[2];
  return value?.replace(/\\(.)/g, "$1");
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  if (first === undefined) throw new RangeError("the needle is empty");
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/**
 * Reads a multipart body with `read`. A body that breaks the format becomes 400 invalid_multipart, and the reader
 * is let go however `read` ends; what an early answer left unread is read to its end by the app's
 * drainRequestBody (src/http/drain-body.ts), so the next request on the connection is unaffected.
 */
export async function withMultipart<T>(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  read: (reader: MultipartReader) => Promise<T>,
): Promise<T> {
  const reader = new MultipartReader(body, boundary);
  try {
    return await read(reader);
  } catch (error) {
    if (error instanceof MultipartError)
      throw new ProblemError("invalid_multipart", `The multipart body cannot be read: ${error.message}.`);
    throw error;
  } finally {
    await reader.cancel();
  }
}
