// One TypeScript entry bundled into one ES module for Node, as the calibration and the fuzzer load their code.
import { build } from "esbuild";

/** Bundles `entry` (an absolute path) into `outfile`; `plugins` may swap modules (calibrate.mjs --against). */
export async function bundleForNode(entry, outfile, plugins = []) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "warning",
    plugins,
  });
  return outfile;
}
