import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_PREFILL, NO_PROMPT_LOGPROBS, adapterFor, environmentAccess } from "../../src/evaluate/adapters";
import { PROBE_CLASS, PROBE_PROMPT, TYPICAL_TASK, checkFamily, type ModelCheck } from "../../src/evaluate/preflight";
import type { StoredFamily } from "../../src/evaluate/stored-family";
import { trainReferenceFamily } from "../../src/reference/family";
import { createReferenceApp } from "../../src/reference/server";
import { serveOverHttp, type LoopbackServer } from "../reference-http";
import { defined } from "../defined";
import { ROOT, isv } from "./helpers";

/**
 * The preflight against each provider personality: in-process through `checkFamily`, and as `isv family check`
 * (the built CLI: `npm run build:cli` first) against the reference server over loopback HTTP.
 */
const family = trainReferenceFamily(readFileSync(join(ROOT, "src/reference/corpus.txt"), "utf8"));
const app = createReferenceApp({ family: () => family, vars: () => ({}) });
const reference = JSON.parse(readFileSync(join(ROOT, "fixtures/families/reference.json"), "utf8")) as StoredFamily;
const MODELS = ["isv-ngram-2", "isv-ngram-5"];

const definition = (
  name: string,
  adapter: StoredFamily["adapter"],
  baseUrl: string,
  extra: Partial<StoredFamily> = {},
): StoredFamily => ({
  ...reference,
  name,
  adapter,
  baseUrl,
  models: reference.models.filter((model) => MODELS.includes(model.id)),
  ...extra,
});

/** The preflight in-process, with a clock that stands still (latency 0). */
const check = (stored: StoredFamily) =>
  checkFamily(
    stored,
    adapterFor(stored, environmentAccess({}), async (url, init) => app.request(url, init)),
    () => 0,
  );

/** What a passing model reports: its tokens for TYPICAL_TASK from the model's own token count on the probe. */
function passing(model: string): ModelCheck {
  const texts = [PROBE_PROMPT, PROBE_PROMPT + PROBE_CLASS];
  const member = defined(family.member(model), `reference member ${model}`);
  const tokens = texts.reduce((sum, text) => sum + member.score(text, 0).length, 0);
  const characters = texts.reduce((sum, text) => sum + text.length, 0);
  const estimate = Math.ceil(
    TYPICAL_TASK.examples * TYPICAL_TASK.textsPerExample * TYPICAL_TASK.charactersPerText * (tokens / characters),
  );
  return {
    model,
    ok: true,
    reachable: true,
    promptLogprobs: true,
    offsetsUsable: true,
    multibyteAligned: true,
    leadingSpaceBoundary: true,
    latencyMs: 0,
    estimate: { tokens: estimate, usd: null },
    problems: [],
  };
}

const ESTIMATES = "(estimates: 1,000 examples × 2 texts × 400 characters, at the English probe's tokens per character)";

const failing = (model: string, problem: string): ModelCheck => ({
  model,
  ok: false,
  reachable: true,
  promptLogprobs: false,
  offsetsUsable: false,
  multibyteAligned: false,
  leadingSpaceBoundary: false,
  latencyMs: 0,
  estimate: { tokens: 0, usd: null },
  problems: [problem],
});

describe("checkFamily against each personality", () => {
  it("passes every model served by vllm", async () => {
    expect(await check(definition("on-vllm", "openai-completions", "http://reference.test/as/vllm/v1"))).toEqual({
      family: "on-vllm",
      ok: true,
      task: TYPICAL_TASK,
      models: MODELS.map(passing),
    });
  });

  it("passes every model served by openai-legacy, with max_tokens 0 as a family for OpenAI's legacy models may ask", async () => {
    const stored = definition("on-openai", "openai-completions", "http://reference.test/as/openai-legacy/v1", {
      scoring: { maxTokens: 0 },
    });
    expect(await check(stored)).toEqual({
      family: "on-openai",
      ok: true,
      task: TYPICAL_TASK,
      models: MODELS.map(passing),
    });
  });

  it("passes every model served by openai-legacy with the default max_tokens 1", async () => {
    expect(
      await check(definition("on-openai", "openai-completions", "http://reference.test/as/openai-legacy/v1")),
    ).toEqual({
      family: "on-openai",
      ok: true,
      task: TYPICAL_TASK,
      models: MODELS.map(passing),
    });
  });

  it("passes every model served by tgi3-prefill (TGI 3 with --enable-prefill-logprobs)", async () => {
    expect(await check(definition("on-tgi", "tgi", "http://reference.test/as/tgi3-prefill/{model}"))).toEqual({
      family: "on-tgi",
      ok: true,
      task: TYPICAL_TASK,
      models: MODELS.map(passing),
    });
  });

  it("fails every model served by tgi3 (prefill log-probabilities off), saying to turn them on", async () => {
    expect(await check(definition("on-tgi", "tgi", "http://reference.test/as/tgi3/{model}"))).toEqual({
      family: "on-tgi",
      ok: false,
      task: TYPICAL_TASK,
      models: MODELS.map((model) => failing(model, NO_PREFILL)),
    });
  });

  it("fails every model served by llamacpp, saying its log-probabilities cover generated tokens only", async () => {
    const reason = `${NO_PROMPT_LOGPROBS}: it answered a JSON array of completions, one per prompt, whose logprobs (logprobs.content) cover generated tokens only, as llama.cpp's server does`;
    expect(
      await check(definition("on-llamacpp", "openai-completions", "http://reference.test/as/llamacpp/v1")),
    ).toEqual({
      family: "on-llamacpp",
      ok: false,
      task: TYPICAL_TASK,
      models: MODELS.map((model) => failing(model, reason)),
    });
  });
});

describe("isv family check FAMILY.json, against the reference server over loopback HTTP", () => {
  let server: LoopbackServer;
  const directory = mkdtempSync(join(tmpdir(), "isv-family-check-"));
  beforeAll(async () => {
    server = await serveOverHttp(app);
  });
  afterAll(async () => {
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Writes the family as a file and runs the built CLI on it. */
  function run(stored: StoredFamily) {
    const file = join(directory, `${stored.name}.json`);
    writeFileSync(file, JSON.stringify(stored));
    return isv("family", "check", file);
  }

  it("exits 0 for a family served by vllm, every model passing", async () => {
    const result = await run(definition("cli-vllm", "openai-completions", `${server.origin}/as/vllm/v1`));
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(
      result.stdout
        .trimEnd()
        .split("\n")
        .map((line) => line.replace(/\d+ ms/, "N ms")),
    ).toEqual([
      `cli-vllm: probing 2 models at ${new URL(server.origin).host}, one request each`,
      ...MODELS.map(
        (model) =>
          `  pass  ${model}  N ms; a 1,000-example task ≈ ${passing(model).estimate.tokens.toLocaleString("en")} tokens`,
      ),
      "every model passes",
      ESTIMATES,
    ]);
  });

  it("exits 1 for a family served by tgi3, with the reason for each model", async () => {
    const result = await run(definition("cli-tgi3", "tgi", `${server.origin}/as/tgi3/{model}`));
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 1, stderr: "" });
    expect(
      result.stdout
        .trimEnd()
        .split("\n")
        .map((line) => line.replace(/\d+ ms/, "N ms")),
    ).toEqual([
      `cli-tgi3: probing 2 models at ${new URL(server.origin).host}, one request each`,
      ...MODELS.flatMap((model) => [`  FAIL  ${model}  N ms`, `        ${NO_PREFILL}`]),
      "2 of 2 models fail",
      ESTIMATES,
    ]);
  });
});
