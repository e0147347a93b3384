import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer } from "../../scripts/dev-server.mjs";
import { ROOT, freePort } from "./helpers";

/**
 * What a TypeScript user does with GET /openapi.json: generate types with openapi-typescript, write a small client
 * against them, compile it strictly, and run it against the Worker under `wrangler dev` to submit a fixture task,
 * read it back and read the leaderboard.
 */
const CLIENT = `import { readFileSync } from "node:fs";
import type { components, paths } from "./api";

type Created = paths["/v1/submissions"]["post"]["responses"][201]["content"]["application/json"];
type Submission = paths["/v1/submissions/{id}"]["get"]["responses"][200]["content"]["application/json"];
type Leaderboard = paths["/v1/leaderboard"]["get"]["responses"][200]["content"]["application/json"];
type Metadata = components["schemas"]["SubmissionMetadata"];

async function read<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(\`\${response.status}: \${await response.text()}\`);
  return (await response.json()) as T;
}

function submit(base: string, metadata: Metadata, csv: string): Promise<Created> {
  const form = new FormData();
  form.append("metadata", JSON.stringify(metadata));
  form.append("file", new Blob([csv], { type: "text/csv" }), "task.csv");
  return fetch(\`\${base}/v1/submissions\`, { method: "POST", body: form }).then((r) => read<Created>(r));
}

function submission(base: string, id: string, token: string): Promise<Submission> {
  const headers = { authorization: \`Bearer \${token}\` };
  return fetch(\`\${base}/v1/submissions/\${encodeURIComponent(id)}\`, { headers }).then((r) => read<Submission>(r));
}

function leaderboard(base: string): Promise<Leaderboard> {
  return fetch(\`\${base}/v1/leaderboard\`).then((r) => read<Leaderboard>(r));
}

const [base = "", metadataFile = "", csvFile = ""] = process.argv.slice(2);
const metadata: Metadata = JSON.parse(readFileSync(metadataFile, "utf8"));
const created = await submit(base, metadata, readFileSync(csvFile, "utf8"));
const back = await submission(base, created.id, created.submitterToken);
const board = await leaderboard(base);
console.log(
  JSON.stringify({
    sameId: back.id === created.id,
    state: back.state,
    taskType: back.taskType,
    examples: back.examples,
    errors: back.report.errorCount,
    tokenShape: /^isv_st_/.test(created.submitterToken),
    boardVersion: board.schemaVersion,
    rankedTasks: board.tasks.map((task) => task.id),
  }),
);
`;

/** Compiles the client strictly against the generated types: the diagnostics, and the JavaScript written. */
function compile(dir: string, client: string): string[] {
  writeFileSync(join(dir, "client.ts"), client);
  const program = ts.createProgram([join(dir, "client.ts")], {
    strict: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    types: ["node"],
    typeRoots: [join(ROOT, "node_modules", "@types")],
    outDir: dir,
  });
  const emitted = program.emit();
  return [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((diagnostic) =>
    ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"),
  );
}

describe("a client generated from GET /openapi.json", () => {
  let server: { url: string; stop: () => Promise<void> };
  const state = mkdtempSync(join(tmpdir(), "isv-openapi-client-"));
  const dir = mkdtempSync(join(tmpdir(), "isv-openapi-types-"));
  let types: string;
  /** The client compiled once: its diagnostics (none expected), and client.js written beside the types. */
  let diagnostics: string[];

  beforeAll(async () => {
    server = await startDevServer({
      port: await freePort(),
      persistTo: state,
      vars: { DEFAULT_FAMILIES: "", UPLOADS_PER_HOUR: "100000" },
    });
    const document: OpenAPI3 = await (await fetch(`${server.url}/openapi.json`)).json();
    types = astToString(await openapiTS(document, { silent: true }));
    writeFileSync(join(dir, "api.ts"), types);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    diagnostics = compile(dir, CLIENT);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("types the Example union by taskType, one member per task type", () => {
    const union = /^ {8}Example: (.*);$/m.exec(types)?.[1];
    expect(union?.split(" | ")).toEqual(
      ["Classification", "SequenceProb", "Logodds", "AbsoluteLogodds", "Numeric", "Behaviour"].map(
        (name) => `components["schemas"]["Example${name}"]`,
      ),
    );
  });

  it("compiles a client that submits, reads back and reads the leaderboard, with no errors", () => {
    expect(diagnostics).toEqual([]);
  });

  it("refuses to compile a client that reads a field the document does not declare", () => {
    const wrong = CLIENT.replace("back.report.errorCount", "back.report.errorTotal");
    const wrongDir = mkdtempSync(join(tmpdir(), "isv-openapi-wrong-"));
    try {
      writeFileSync(join(wrongDir, "api.ts"), types);
      expect(compile(wrongDir, wrong)).toEqual([
        expect.stringMatching(/^Property 'errorTotal' does not exist on type '\{ schemaVersion: 1; valid: boolean;/),
      ]);
    } finally {
      rmSync(wrongDir, { recursive: true, force: true });
    }
  });

  it("runs against the Worker: the task is stored, read back by its token, and the leaderboard is read", async () => {
    expect(diagnostics).toEqual([]);
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [
      join(dir, "client.js"),
      server.url,
      join(ROOT, "fixtures", "metadata", "classification.json"),
      join(ROOT, "fixtures", "tasks", "valid", "classification.csv"),
    ]);
    expect(JSON.parse(stdout)).toEqual({
      sameId: true,
      state: "valid",
      taskType: "classification",
      examples: 400,
      errors: 0,
      tokenShape: true,
      boardVersion: 1,
      rankedTasks: [],
    });
  });
});
