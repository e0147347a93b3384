import { readFileSync } from "node:fs";
import { ProviderError, adapterFor, environmentAccess, type ScoringAdapter } from "../evaluate/adapters";
import { PROBE_TIMEOUT_MS, TYPICAL_TASK, checkFamily, type FamilyCheck } from "../evaluate/preflight";
import { validateModelFamily } from "../generated/validators";
import type { StoredFamily } from "../evaluate/stored-family";
import { UsageError, parseCommandArgs, type CommandUsage } from "./args";

export const FAMILY_USAGE = `Usage: isv family check FAMILY.json [--json]

Sends one tiny scoring request to each model of a family, as an evaluation would, and reports per model: whether
the server answered, gave log-probabilities for the prompt with usable token offsets, and started a class with a
leading space on a token boundary; the latency; and the tokens (and cost, with the family's pricing) of a
1,000-example task. The API key is read from the environment variable named by the family's apiKeySecret.
Exit status: 0 every model passes, 1 some fail (with the reasons), 2 usage error or unreadable family.`;

const FAMILY: CommandUsage = { prefix: "isv family", usage: FAMILY_USAGE };

export async function familyCommand(
  args: string[],
  out: (text: string) => void,
  env: object = process.env,
): Promise<number> {
  const parsed = parseCommandArgs(FAMILY, {
    args,
    allowPositionals: true,
    options: { json: { type: "boolean", default: false } },
  });
  const [action, file, ...extra] = parsed.positionals;
  if (action !== "check") throw new UsageError(action ? `unknown action "${action}"` : "no action given", FAMILY);
  if (!file || extra.length > 0) throw new UsageError("give exactly one FAMILY.json", FAMILY);
  const family = readFamily(file);
  let adapter: ScoringAdapter;
  try {
    // The user's own machine and variables: the Worker's outbound policy and declared secrets do not apply.
    adapter = adapterFor(family, environmentAccess(env), undefined, PROBE_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof ProviderError) throw new UsageError(error.message, FAMILY);
    throw error;
  }
  // Say where the key goes before it is sent: a family file names both the host and the variable.
  if (!parsed.values.json) {
    if (!family.baseUrl) throw new Error("adapterFor accepted a family without a baseUrl");
    const key = family.apiKeySecret ? ` with the key in $${family.apiKeySecret}` : "";
    out(
      `${family.name}: probing ${family.models.length} models at ${new URL(family.baseUrl.replace("{model}", "model")).host}${key}, one request each`,
    );
  }
  const check = await checkFamily(family, adapter);
  out(parsed.values.json ? JSON.stringify(check, null, 2) : formatCheck(check));
  return check.ok ? 0 : 1;
}

function readFamily(file: string): StoredFamily {
  let definition: unknown;
  try {
    definition = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new UsageError(`cannot read ${file} as JSON`, FAMILY);
  }
  if (!validateModelFamily(definition)) {
    const problems = (validateModelFamily.errors ?? []).map(
      (error) => `${error.instancePath || "(family)"} ${error.message ?? "is invalid"}`,
    );
    throw new UsageError(`${file}: ${problems.join("; ")}`, FAMILY);
  }
  return definition;
}

/** One line a model: pass or FAIL, the latency and (for an answer that was read) the estimate, then each problem. */
export function formatCheck(check: FamilyCheck): string {
  const lines: string[] = [];
  for (const model of check.models) {
    const cost = model.estimate.usd === null ? "" : `, about $${model.estimate.usd.toFixed(2)}`;
    // An estimate only for a model whose answer was read: one that was refused has no token count to go on.
    const estimate =
      model.estimate.tokens > 0
        ? `; a ${check.task.examples.toLocaleString("en")}-example task ≈ ${model.estimate.tokens.toLocaleString("en")} tokens${cost}`
        : "";
    lines.push(`  ${model.ok ? "pass" : "FAIL"}  ${model.model}  ${model.latencyMs} ms${estimate}`);
    for (const problem of model.problems) lines.push(`        ${problem}`);
  }
  const failed = check.models.filter((model) => !model.ok).length;
  lines.push(failed === 0 ? "every model passes" : `${failed} of ${check.models.length} models fail`);
  const { examples, textsPerExample, charactersPerText } = TYPICAL_TASK;
  lines.push(
    `(estimates: ${examples.toLocaleString("en")} examples × ${textsPerExample} texts × ${charactersPerText} characters, at the English probe's tokens per character)`,
  );
  return lines.join("\n");
}
