// The reference family: scoring throughput of its largest member on 1,000 prompt+class sequences (as an
// evaluation sends them: echo, max_tokens 0, logprobs 1, 50 prompts a request), and the per-request overhead
// of the server against the model call alone, measured in the same run, under Node and inside workerd.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import Papa from "papaparse";
import { OUT, REPEATS, ROOT, bundle, median } from "./common.mjs";

const BATCH = 50;

/** 1,000 prompt+continuation texts from the reference fixtures: every memo-trap class, then facts, cycled. */
function sequences() {
  const read = (name) =>
    Papa.parse(readFileSync(join(ROOT, "fixtures/tasks/reference", name), "utf8"), { skipEmptyLines: true }).data.slice(
      1,
    );
  const texts = [];
  for (const [prompt, classes] of read("memo-trap-inverse.csv"))
    for (const name of JSON.parse(classes.replace(/'/g, '"'))) texts.push(prompt + name);
  for (const [prompt, completion] of read("facts-standard.csv")) texts.push(prompt + completion);
  const distinct = texts.length;
  while (texts.length < 1000) texts.push(texts[texts.length - distinct]);
  return texts.slice(0, 1000);
}

async function workerd(texts) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(OUT, "reference-worker.mjs"),
    compatibilityDate: "2026-04-20",
    cf: false,
    log: new Log(LogLevel.WARN),
  });
  const post = async (path, body) => {
    const response = await mf.dispatchFetch(`http://reference${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  };
  try {
    let started = performance.now();
    await post("/model-only", { model: "isv-ngram-5", prompts: ["warm up: trains the family"] });
    const firstRequestMs = performance.now() - started;
    const modelMs = [];
    const serverMs = [];
    let tokens = 0;
    for (let rep = 0; rep < REPEATS; rep++) {
      started = performance.now();
      tokens = 0;
      for (let i = 0; i < texts.length; i += BATCH)
        tokens += (await post("/model-only", { model: "isv-ngram-5", prompts: texts.slice(i, i + BATCH) })).tokens;
      modelMs.push(performance.now() - started);
      started = performance.now();
      for (let i = 0; i < texts.length; i += BATCH) {
        await post("/v1/completions", {
          model: "isv-ngram-5",
          prompt: texts.slice(i, i + BATCH),
          echo: true,
          max_tokens: 0,
          logprobs: 1,
        });
      }
      serverMs.push(performance.now() - started);
    }
    return { firstRequestMs, tokens, modelMs, serverMs, requests: Math.ceil(texts.length / BATCH) };
  } finally {
    await mf.dispose();
  }
}

function summarise(run) {
  const model = median(run.modelMs);
  const server = median(run.serverMs);
  return {
    tokens: run.tokens,
    modelMs: Math.round(model),
    serverMs: Math.round(server),
    modelTokensPerSecond: Math.round(run.tokens / (model / 1000)),
    serverTokensPerSecond: Math.round(run.tokens / (server / 1000)),
    overheadPerRequestMs: Math.round(((server - model) / run.requests) * 10) / 10,
    requests: run.requests,
  };
}

export async function benchReference() {
  await bundle({ "reference-child": "bench/reference-child.ts" }, "node");
  await bundle({ "reference-worker": "bench/reference-worker.ts" }, "workerd");
  const texts = sequences();
  const path = join(OUT, "reference-sequences.json");
  writeFileSync(path, JSON.stringify(texts));
  const nodeRun = JSON.parse(
    execFileSync(process.execPath, [join(OUT, "reference-child.mjs"), path, String(REPEATS)], {
      encoding: "utf8",
    }).trim(),
  );
  const node = { ...summarise(nodeRun), trainMs: Math.round(nodeRun.trainMs) };
  const trends = nodeRun.trends;
  const workerdRun = await workerd(texts);
  const inWorkerd = { ...summarise(workerdRun), firstRequestMs: Math.round(workerdRun.firstRequestMs) };

  console.log(
    `\n== reference family: isv-ngram-5 scoring ${texts.length} sequences (${node.tokens} tokens), ${node.requests} requests of ${BATCH}, logprobs 1; median of ${REPEATS}`,
  );
  const line = (label, s, where) =>
    console.log(
      `  ${label.padEnd(10)} model alone ${String(s.modelTokensPerSecond).padStart(8)} tokens/s; through the server ${String(s.serverTokensPerSecond).padStart(8)} tokens/s; overhead ${s.overheadPerRequestMs} ms a request (${where})`,
    );
  line("Node", node, "in-process app.request: JSON in and out");
  line("workerd", inWorkerd, "over local HTTP into workerd");
  console.log(
    `  training: ${node.trainMs} ms under Node; first request in workerd (trains the family): ${inWorkerd.firstRequestMs} ms`,
  );
  console.log("\n== reference family on its fixture tasks (mean loss; the tests assert these trends)");
  console.log("  member        parameters  facts-standard loss  memo-trap-inverse loss  memo-trap accuracy");
  for (const trend of trends) {
    console.log(
      `  ${trend.id.padEnd(12)} ${String(trend.parameters).padStart(10)}  ${trend.sequenceLoss.toFixed(3).padStart(19)}  ${trend.classificationLoss.toFixed(3).padStart(22)}  ${trend.classificationAccuracy.toFixed(2).padStart(18)}`,
    );
  }
  return { sequences: texts.length, batch: BATCH, node, workerd: inWorkerd, trends };
}
