// Shared by the benchmark modules: where output goes, how many runs, bundling, and small statistics.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const OUT = join(ROOT, "bench", "out");
export const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const mib = (bytes) => bytes / (1024 * 1024);

/** Runs each mode REPEATS times, interleaved so drift in machine load hits all modes alike. */
export function measureInterleaved(modes, run) {
  const results = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let i = 0; i < REPEATS; i++) for (const mode of modes) results[mode].push(run(mode));
  return results;
}

/** Bundles TypeScript entries into bench/out/NAME.mjs, for Node or for workerd. */
export async function bundle(entries, target) {
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, join(ROOT, path)])),
    outdir: OUT,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    loader: { ".txt": "text" },
    logLevel: "warning",
    ...(target === "node"
      ? { platform: "node" }
      : {
          platform: "neutral",
          mainFields: ["module", "main"],
          conditions: ["workerd", "worker"],
          // papaparse require()s "stream" only for Node duplex streams, a path never taken here (wrangler does the same).
          external: ["stream"],
        }),
  });
}

/** The bench Worker (bench/out/workerd-worker.mjs, made by `bundle`) in a fresh workerd, with an R2 bucket. */
export const benchWorkerd = () =>
  new Miniflare({
    modules: true,
    scriptPath: join(OUT, "workerd-worker.mjs"),
    compatibilityDate: "2026-04-20",
    r2Buckets: ["BENCH"],
    cf: false,
    log: new Log(LogLevel.WARN),
  });
