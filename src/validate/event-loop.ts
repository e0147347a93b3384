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

/**
 * A validator's `write` checks input in slices of this size, and lets other work in the isolate run (another
 * request, a timer) once it has done about YIELD_AFTER_WORK of work since it last did: a byte is one unit and each
 * record the validator's own record cost, so a file of tiny rows yields as often, in time, as one of long rows.
 * Counted in work, not milliseconds, because a Worker's clock stands still while its code runs. Every check is
 * linear in its input, so this bounds how long one upload holds the isolate (a few milliseconds between yields at
 * the measured speeds).
 */
const WRITE_SLICE_BYTES = 64 * 1024;
const YIELD_AFTER_WORK = 256 * 1024;

/** The work a validator has done since it last let other work run. */
export class WorkBudget {
  private done = 0;

  add(units: number): void {
    this.done += units;
  }

  /** Lets other work run once about YIELD_AFTER_WORK units have been done since the last time. */
  async yieldIfDue(): Promise<void> {
    if (this.done < YIELD_AFTER_WORK) return;
    this.done = 0;
    await yieldToEventLoop();
  }
}

/**
 * Hands `chunk` to `push` in slices of WRITE_SLICE_BYTES until `done()`, yielding when the budget is spent: the way
 * to feed a validator inside a Worker, where one upload must not hold the isolate.
 */
export async function writeInSlices(
  chunk: Uint8Array,
  push: (slice: Uint8Array) => void,
  done: () => boolean,
  budget: WorkBudget,
): Promise<void> {
  for (let at = 0; at < chunk.length && !done(); at += WRITE_SLICE_BYTES) {
    push(chunk.subarray(at, at + WRITE_SLICE_BYTES));
    await budget.yieldIfDue();
  }
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
