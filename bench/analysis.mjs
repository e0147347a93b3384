// Scaling analysis: the paired bootstrap with B = 10,000, 1,000 examples and 8 models inside workerd, against
// the practical floor (a tight typed-array loop doing the same number of additions), and a full family analysis.
import { join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { OUT, REPEATS, bundle, median } from "./common.mjs";

export async function benchAnalysis() {
  await bundle({ "analysis-worker": "bench/analysis-worker.ts" }, "workerd");
  const mf = new Miniflare({ modules: true, scriptPath: join(OUT, "analysis-worker.mjs"), compatibilityDate: "2026-04-20", cf: false, log: new Log(LogLevel.WARN) });
  const time = async (mode) => {
    const started = performance.now();
    const response = await mf.dispatchFetch(`http://bench/${mode}?samples=10000`);
    if (!response.ok) throw new Error(`${mode}: ${response.status}`);
    await response.json();
    return performance.now() - started;
  };
  try {
    await time("floor");
    await time("bootstrap");
    const runs = { floor: [], bootstrap: [], analyse: [] };
    for (let i = 0; i < REPEATS; i++) for (const mode of Object.keys(runs)) runs[mode].push(await time(mode));
    const result = Object.fromEntries(Object.entries(runs).map(([mode, times]) => [mode, Math.round(median(times))]));
    const ratio = result.bootstrap / result.floor;
    console.log(`\n== scaling analysis in workerd: bootstrap B = 10,000 x 1,000 examples x 8 models (80M additions); median of ${REPEATS}`);
    console.log(`  floor (tight typed-array loop, same additions) ${String(result.floor).padStart(6)} ms`);
    console.log(`  paired bootstrap                               ${String(result.bootstrap).padStart(6)} ms  (${ratio.toFixed(2)}x the floor; targets: <= 1000 ms, <= 3x)`);
    console.log(`  full family analysis (bootstrap, CIs, tests)   ${String(result.analyse).padStart(6)} ms`);
    return { ...result, ratioToFloor: ratio };
  } finally {
    await mf.dispose();
  }
}
