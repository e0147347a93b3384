/**
 * The submitter CLI: `isv validate FILE...` runs the service's own validation code offline, under Node, on task
 * files and zips of them.
 * Exit codes: 0 valid, 1 invalid, 2 usage error or unreadable file.
 */
import { statSync } from "node:fs";
import { DEFAULT_LIMITS, type ValidationReport } from "../validate/report";
import { DEFAULT_PROMPT_TEMPLATE, parsePromptTemplate } from "../validate/mwe/template";
import { validateTaskStream } from "../validate/task-file";
import { validateZipStream, type FilesReport } from "../validate/zip/zip-validator";
import { ANALYSE_USAGE, analyseCommand } from "./analyse-command";
import { analyseSlicesCommand, asksForSlices } from "./analyse-slices";
import { UsageError, parseCommandArgs, type CommandUsage } from "./args";
import { FAMILY_USAGE, familyCommand } from "./family-command";
import { fileStream } from "./file-stream";
import { formatReport, formatSummary, formatFilesReport } from "./format-report";
import { SUBMIT_USAGE, parseFormat, statusCommand, submitCommand } from "./submit-command";
import { TOKEN_USAGE, tokenCommand } from "./token-command";

const USAGE = `Usage: isv validate FILE... [--format csv|mwe] [--type TYPE] [--template TEXT] [--min-examples N] [--json]
       isv analyse RESULT.csv ..., isv analyse --task DIR --control DIR ... (see isv analyse --help)
       isv token create|list|revoke (see isv token --help)
       isv family check FAMILY.json (see isv family --help)
       isv submit FILE... --url URL --meta METADATA.json, isv status ID --url URL --token TOKEN (see isv submit --help)

Checks a task file the way the service will: a CSV in the Inverse Scaling Prize's formats, or a model-written
evaluation (JSON Lines with question, answer_matching_behavior, answer_not_matching_behavior). Several files
are checked one after another; a FILE ending in .zip is read as an archive of task files (.csv, .jsonl, .json),
each checked and reported under its name in the archive.
  --format FORMAT      csv or mwe (read from the file when omitted: mwe when it starts with { or [); not with a
                       zip, whose entries' extensions give their formats
  --type TYPE          classification, sequence_prob, logodds, absolute_logodds or numeric for a CSV
                       (inferred from the header when omitted); behaviour for a model-written evaluation
  --template TEXT      a model-written evaluation's prompt template: {field} for an item's field, {{ and }}
                       for braces (default "\\n\\nHuman: {question}\\n\\nAssistant:", with real line breaks)
  --min-examples N     fewest examples required (default ${DEFAULT_LIMITS.minExamples})
  --json               print the validation report as JSON only (a zip's: the archive report; several files:
                       an array of { file, report })
Exit status: 0 valid, 1 invalid (any file), 2 usage error or unreadable file.`;

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
      return asksForSlices(rest) ? analyseSlicesCommand(rest, out, err) : analyseCommand(rest, out, err);
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
  const { values, positionals: files } = parseCommandArgs(ISV, {
    args,
    allowPositionals: true,
    options: {
      type: { type: "string" },
      format: { type: "string" },
      template: { type: "string" },
      "min-examples": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (files.length === 0) throw new UsageError("give at least one FILE", ISV);
  const minExamples =
    values["min-examples"] === undefined ? DEFAULT_LIMITS.minExamples : Number(values["min-examples"]);
  if (!Number.isSafeInteger(minExamples) || minExamples < 0)
    throw new UsageError("--min-examples takes a whole number", ISV);
  const format = parseFormat(values.format, ISV);
  if (format && files.some(isZip))
    throw new UsageError("--format does not apply to a zip: its entries' extensions give their formats", ISV);
  const template = parsePromptTemplate(values.template ?? DEFAULT_PROMPT_TEMPLATE);
  if (!template.ok) throw new UsageError(template.message, ISV);
  // Every file is looked at before any is checked: a typo in the last name should not wait for the first file.
  for (const file of files) {
    try {
      if (!statSync(file).isFile()) throw new Error("not a file");
    } catch {
      throw new Error(`cannot read ${file}`);
    }
  }
  const taskFile = {
    ...(values.type !== undefined ? { taskType: values.type } : {}),
    limits: { minExamples },
  };
  const checked: { file: string; report: ValidationReport | FilesReport }[] = [];
  const texts: string[] = [];
  for (const file of files) {
    if (isZip(file)) {
      const report = await validateZipStream(fileStream(file), {
        file: taskFile,
        template: template.template,
      });
      checked.push({ file, report });
      texts.push(formatFilesReport(file, report));
    } else {
      const { report } = await validateTaskStream(fileStream(file), {
        ...taskFile,
        choice: {
          ...(format ? { format } : {}),
          template: template.template,
          behaviourGiven: values.template !== undefined,
        },
      });
      checked.push({ file, report });
      texts.push(formatReport(file, report));
    }
  }
  const [only] = checked;
  if (values.json) out(JSON.stringify(checked.length === 1 && only ? only.report : checked, null, 2));
  else out(checked.length === 1 ? texts.join("") : [...texts, formatSummary(checked.map(outcome))].join("\n\n"));
  return checked.every(({ report }) => report.valid) ? 0 : 1;
}

/** A zip, by its name: a file named otherwise is a task file, whatever its bytes. */
function isZip(file: string): boolean {
  return file.toLowerCase().endsWith(".zip");
}

function outcome({ file, report }: { file: string; report: { valid: boolean } }): { file: string; valid: boolean } {
  return { file, valid: report.valid };
}
