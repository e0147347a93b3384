import { createReadStream } from "node:fs";

/**
 * A file as a web ReadableStream that reads only when the consumer pulls. Node 20's Readable.toWeb reads ahead
 * without waiting, so a slow consumer (validation) ends up with most of a large file buffered in memory.
 */
export function fileStream(path: string): ReadableStream<Uint8Array> {
  const chunks = createReadStream(path)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      },
      async cancel() {
        await chunks.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
