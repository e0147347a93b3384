/**
 * The submitter CLI: `isv validate FILE` runs the service's own validation code offline, under Node.
 * Exit codes: 0 valid, 1 invalid, 2 usage error or unreadable file.
 */
import { statSync } from "node:fs";
import { DEFAULT_LIMITS } from "../validate/report";
import { validateStream } from "../validate/validator";
import { ANALYSE_USAGE, analyseCommand } from "./analyse-command";
import { UsageError, parseCommandArgs, type CommandUsage } from "./args";
import { FAMILY_USAGE, familyCommand } from "./family-command";
import { fileStream } from "./file-stream";
import { formatReport } from "./format-report";
import { SUBMIT_USAGE, statusCommand, submitCommand } from "./submit-command";
import { TOKEN_USAGE, tokenCommand } from "./token-command";

const USAGE = `Usage: isv validate FILE [--type TYPE] [--min-examples N] [--json]
       isv analyse RESULT.csv ... (see isv analyse --help)
       isv token create|list|revoke (see isv token --help)
       isv family check FAMILY.json (see isv family --help)
       isv submit FILE --url URL --meta METADATA.json, isv status ID --url URL --token TOKEN (see isv submit --help)

Checks a task CSV in the Inverse Scaling Prize's formats, the way the service will.
  --type TYPE          classification, sequence_prob, logodds, absolute_logodds or numeric
                       (inferred from the header when omitted)
  --min-examples N     fewest examples required (default ${DEFAULT_LIMITS.minExamples})
  --json               print the validation report as JSON only
Exit status: 0 valid, 1 invalid, 2 usage error or unreadable file.`;

const ISV: CommandUsage = { prefix: "isv", usage: USAGE };

export async function main(argv: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === "--help" || command === "-h" || command === "help") {
      out(USAGE);
      return 0;
    }
    if (command === "analyse" || command === "analyze") {
      if (rest.includes("--help") || rest.includes("-h")) {
        out(ANALYSE_USAGE);
        return 0;
      }
      return analyseCommand(rest, out, err);
    }
    if (command === "submit" || command === "status") {
      if (rest.includes("--help") || rest.includes("-h")) {
        out(SUBMIT_USAGE);
        return 0;
      }
      return command === "submit"
        ? await submitCommand(rest, out, err, Boolean(process.stdout.isTTY))
        : await statusCommand(rest, out);
    }
    if (command === "family") {
      if (rest.includes("--help") || rest.includes("-h")) {
        out(FAMILY_USAGE);
        return 0;
      }
      return await familyCommand(rest, out);
    }
    if (command === "token") {
      if (rest.includes("--help") || rest.includes("-h")) {
        out(TOKEN_USAGE);
        return 0;
      }
      return await tokenCommand(rest, out, err);
    }
    if (command !== "validate")
      throw new UsageError(command ? `unknown command "${command}"` : "no command given", ISV);
    return await validateCommand(rest, out);
  } catch (error) {
    if (error instanceof UsageError) {
      err(error.text);
      return 2;
    }
    err(`isv: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

async function validateCommand(args: string[], out: (text: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(ISV, {
    args,
    allowPositionals: true,
    options: {
      type: { type: "string" },
      "min-examples": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError("give exactly one FILE", ISV);
  const minExamples =
    values["min-examples"] === undefined ? DEFAULT_LIMITS.minExamples : Number(values["min-examples"]);
  if (!Number.isSafeInteger(minExamples) || minExamples < 0)
    throw new UsageError("--min-examples takes a whole number", ISV);
  try {
    if (!statSync(file).isFile()) throw new Error("not a file");
  } catch {
    throw new Error(`cannot read ${file}`);
  }
  const stream = fileStream(file);
  const report = await validateStream(stream, {
    ...(values.type !== undefined ? { taskType: values.type } : {}),
    limits: { minExamples },
  });
  out(values.json ? JSON.stringify(report, null, 2) : formatReport(file, report));
  return report.valid ? 0 : 1;
}
