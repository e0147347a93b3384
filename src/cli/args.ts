import { parseArgs, type ParseArgsConfig } from "node:util";

/** What a command's usage errors say around their message. */
export interface CommandUsage {
  /** How the message starts: "isv", "isv family". */
  prefix: string;
  /** Printed after the message: the command's usage, or where to find it. */
  usage: string;
}

/**
 * A command called wrongly, or given an input it cannot read: main prints the message between the command's
 * prefix and its usage text, and exits with status 2.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: CommandUsage,
  ) {
    super(message);
  }

  /** What is printed on stderr. */
  get text(): string {
    return `${this.command.prefix}: ${this.message}\n\n${this.command.usage}`;
  }
}

/** node:util's parseArgs, whose errors (an unknown option, a missing value) are the command's usage errors. */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: CommandUsage,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
}
