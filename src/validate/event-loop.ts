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
