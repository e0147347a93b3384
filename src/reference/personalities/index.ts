import type { Hono } from "hono";
import { llamaCppApp } from "./llamacpp";
import { openAiLegacyApp } from "./openai-legacy";
import type { PersonalityHost } from "./shared";
import { tgiApp } from "./tgi";
import { vllmApp } from "./vllm";

export type { FaultErrorShape, PersonalityHost } from "./shared";

/**
 * Provider personalities: the reference family served the way real inference servers serve models, with their
 * refusals and their error bodies, so clients (the evaluation adapters, the preflight) can be tested against what
 * they will meet. Each lives under /as/{name}/, so a family's base URL picks one; the unprefixed routes are
 * unchanged. The fault and latency knobs apply to them too, answering in each server's error shape.
 */
export const PERSONALITIES = [
  { name: "vllm", base: "/as/vllm/v1", api: "OpenAI completions", reproduces: "vLLM >= 0.10.1" },
  {
    name: "vllm-legacy",
    base: "/as/vllm-legacy/v1",
    api: "OpenAI completions",
    reproduces: "vLLM < 0.10.1 (flat error bodies)",
  },
  {
    name: "openai-legacy",
    base: "/as/openai-legacy/v1",
    api: "OpenAI completions",
    reproduces: "OpenAI davinci-002 / babbage-002",
  },
  {
    name: "llamacpp",
    base: "/as/llamacpp/v1",
    api: "OpenAI completions",
    reproduces: "llama.cpp server, echo accepted and ignored",
  },
  {
    name: "llamacpp-noecho",
    base: "/as/llamacpp-noecho/v1",
    api: "OpenAI completions",
    reproduces: 'llama.cpp server, echo refused ("Only no echo is supported")',
  },
  {
    name: "tgi3",
    base: "/as/tgi3/{model}",
    api: "TGI /generate",
    reproduces: "text-generation-inference 3.x, default launcher",
  },
  {
    name: "tgi3-prefill",
    base: "/as/tgi3-prefill/{model}",
    api: "TGI /generate",
    reproduces: "text-generation-inference 3.x with --enable-prefill-logprobs",
  },
] as const;

export type PersonalityName = (typeof PERSONALITIES)[number]["name"];

export function mountPersonalities(app: Hono, host: PersonalityHost): void {
  app.get("/as", (c) => c.json({ personalities: PERSONALITIES }));
  app.route("/as/vllm", vllmApp(host, "current"));
  app.route("/as/vllm-legacy", vllmApp(host, "legacy"));
  app.route("/as/openai-legacy", openAiLegacyApp(host));
  app.route("/as/llamacpp", llamaCppApp(host, "ignored"));
  app.route("/as/llamacpp-noecho", llamaCppApp(host, "refused"));
  app.route("/as/tgi3", tgiApp(host, "disabled"));
  app.route("/as/tgi3-prefill", tgiApp(host, "enabled"));
}
