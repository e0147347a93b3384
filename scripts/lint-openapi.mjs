#!/usr/bin/env node
// Lints the API document with Redocly CLI's recommended rules (redocly.yaml; a rule turned off there says why).
// Without an argument it lints the document the Worker serves at GET /openapi.json, built from the same module
// (src/openapi.ts, bundled with esbuild as wrangler does); with a URL it lints a running service's, e.g.
// `npm run lint:openapi -- http://127.0.0.1:8787/openapi.json`. Offline: telemetry and update checks are off.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const redocly = join(root, "node_modules", "@redocly", "cli", "bin", "cli.js");

/** The document as the Worker serves it: the same module, bundled for Node. */
async function servedDocument(workDir) {
  const outfile = join(workDir, "openapi.mjs");
  await build({
    entryPoints: [join(root, "src", "openapi.ts")],
    bundle: true,
    platform: "neutral",
    format: "esm",
    outfile,
    logLevel: "warning",
  });
  const { openApiDocument } = await import(pathToFileURL(outfile).href);
  return openApiDocument;
}

async function fetchedDocument(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

const workDir = mkdtempSync(join(tmpdir(), "isv-openapi-"));
try {
  const [url] = process.argv.slice(2);
  const document = url ? await fetchedDocument(url) : await servedDocument(workDir);
  const file = join(workDir, "openapi.json");
  writeFileSync(file, JSON.stringify(document, null, 2));
  const lint = spawnSync(process.execPath, [redocly, "lint", file, "--config", join(root, "redocly.yaml")], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
  });
  process.exitCode = lint.status ?? 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
