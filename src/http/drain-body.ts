import { createMiddleware } from "hono/factory";

/**
 * The most bytes read to release a body a handler left unread: the largest upload the service takes (100 MiB,
 * Cloudflare's request limit) with room for the multipart framing. A larger rest is cancelled instead.
 */
export const MAX_DRAIN_BYTES = 101 * 1024 * 1024;

/**
 * Reads every request body to its end before the answer goes out, whatever the handlers did with it: read it
 * all, stopped part-way (an invalid file, metadata refused before the file part), cancelled it, or never touched
 * it (a 401, a closed round, a declared length over the limit). workerd serves the next request on a connection
 * only once the last body has been read to its end; a body cancelled or left half-read breaks that connection,
 * and under `wrangler dev` the next request on it fails with 503 "Your worker restarted mid-request". Wrangler's
 * own drain covers only bodies nothing has touched, and only in development.
 *
 * Handlers see the body through a relay whose cancel leaves the rest here; this drains the rest afterwards.
 */
export const drainRequestBody = createMiddleware(async (c, next) => {
  const body = c.req.raw.body;
  if (!body) return next();
  const source = body.getReader();
  const relay = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await source.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      // Stopping early is the handler's business; what it did not read is drained below.
      cancel: () => undefined,
    },
    { highWaterMark: 0 },
  );
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  c.req.raw = new Request(c.req.raw, { body: relay });
  try {
    await next();
  } finally {
    await drain(source, declared);
  }
});

async function drain(source: ReadableStreamDefaultReader<Uint8Array>, declared: number): Promise<void> {
  try {
    // A body declared larger than any the service takes is not worth reading: its connection is given up.
    if (declared > MAX_DRAIN_BYTES) return await source.cancel();
    let read = 0;
    for (;;) {
      const { done, value } = await source.read();
      if (done) return;
      read += value.byteLength;
      if (read > MAX_DRAIN_BYTES) return await source.cancel();
    }
  } catch {
    // The client broke the body off: there is nothing left to read.
  }
}
