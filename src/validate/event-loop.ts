/**
 * Lets other work in the isolate run before going on (another request, a timer, I/O): a macrotask, unlike an
 * awaited resolved promise, which runs before anything else can. In a Worker `scheduler.wait(0)`; under Node (the
 * CLI) `setImmediate`, which costs least there; elsewhere a zero-delay timer.
 */
export function yieldToEventLoop(): Promise<void> {
  const host = globalThis as {
    setImmediate?: (callback: () => void) => unknown;
    scheduler?: { wait?: (delay: number) => Promise<void> };
  };
  const { setImmediate, scheduler } = host;
  if (typeof scheduler?.wait === "function") return scheduler.wait(0);
  if (typeof setImmediate === "function") return new Promise((resolve) => setImmediate(() => resolve()));
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** What feedStream needs of a validator: chunks written in slices, and whether it has stopped reading. */
export interface StreamFed {
  write(chunk: Uint8Array): Promise<void>;
  readonly stopped: boolean;
}

/** Writes a whole stream to a validator (the CLI and tests), and stops reading as soon as the validator stops. */
export async function feedStream(stream: ReadableStream<Uint8Array>, validator: StreamFed): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await validator.write(value);
      if (validator.stopped) {
        await reader.cancel();
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
