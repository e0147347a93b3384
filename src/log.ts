/** An unexpected error for the logs (never the wire): its stack when it has one. */
export const describeError = (error: unknown): string =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);
