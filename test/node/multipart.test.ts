import { describe, expect, it } from "vitest";
import { MultipartError, MultipartReader, boundaryOf } from "../../src/http/multipart";

const BOUNDARY = "----isvBoundary7MA4YWxk";

function body(parts: { name: string; filename?: string; content: string | Uint8Array }[], preamble = ""): Uint8Array {
  const encoder = new TextEncoder();
  const pieces: Uint8Array[] = [encoder.encode(preamble)];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ""}`;
    pieces.push(encoder.encode(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n\r\n`));
    pieces.push(typeof part.content === "string" ? encoder.encode(part.content) : part.content);
    pieces.push(encoder.encode("\r\n"));
  }
  pieces.push(encoder.encode(`--${BOUNDARY}--\r\n`));
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function streamOf(bytes: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

async function readAll(reader: MultipartReader): Promise<{ name?: string; filename?: string; text: string }[]> {
  const parts = [];
  for (let head = await reader.nextPart(); head; head = await reader.nextPart()) {
    parts.push({ name: head.name, filename: head.filename, text: await reader.readBodyText(1 << 20) });
  }
  return parts;
}

describe("streaming multipart reader", () => {
  it("reads parts whatever the chunk size, including content that looks like a boundary", async () => {
    const tricky = `a,b\r\n--${BOUNDARY.slice(0, 10)}\r\n-- not a boundary\r\n`;
    const bytes = body(
      [
        { name: "metadata", content: '{"title":"x"}' },
        { name: "file", filename: "task.csv", content: tricky },
      ],
      "preamble\r\n",
    );
    for (const size of [1, 2, 7, 64, 100_000]) {
      const parts = await readAll(new MultipartReader(streamOf(bytes, size), BOUNDARY));
      expect(parts).toEqual([
        { name: "metadata", filename: undefined, text: '{"title":"x"}' },
        { name: "file", filename: "task.csv", text: tricky },
      ]);
    }
  });

  it("skips an unread part when asked for the next one", async () => {
    const reader = new MultipartReader(
      streamOf(
        body([
          { name: "a", content: "x".repeat(1000) },
          { name: "b", content: "y" },
        ]),
        13,
      ),
      BOUNDARY,
    );
    expect((await reader.nextPart())?.name).toBe("a");
    expect((await reader.nextPart())?.name).toBe("b");
    expect(await reader.readBodyText(10)).toBe("y");
    expect(await reader.nextPart()).toBeUndefined();
  });

  it("fails clearly on a body cut short and on an oversized field", async () => {
    const bytes = body([{ name: "file", content: "abc" }]);
    const cut = new MultipartReader(streamOf(bytes.slice(0, bytes.length - 30), 8), BOUNDARY);
    await cut.nextPart();
    await expect(cut.readBodyText(100)).rejects.toThrow(MultipartError);
    const big = new MultipartReader(streamOf(body([{ name: "metadata", content: "z".repeat(100) }]), 8), BOUNDARY);
    await big.nextPart();
    await expect(big.readBodyText(50)).rejects.toThrow(/larger than 50 bytes/);
  });

  it("takes the boundary from the content type, quoted or not", () => {
    expect(boundaryOf(`multipart/form-data; boundary=${BOUNDARY}`)).toBe(BOUNDARY);
    expect(boundaryOf(`multipart/form-data; charset=utf-8; boundary="a b"`)).toBe("a b");
    expect(boundaryOf("text/csv")).toBeUndefined();
    expect(boundaryOf("multipart/form-data")).toBeUndefined();
  });
});
