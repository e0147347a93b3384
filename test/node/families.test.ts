import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateModelFamily } from "../../src/generated/validators";
import { defined } from "../defined";
import { ROOT } from "./helpers";

/** The model families shipped in fixtures/families/: each must be registrable as it stands (or after editing baseUrl). */
const DIR = join(ROOT, "fixtures/families");
const files = readdirSync(DIR)
  .filter((name) => name.endsWith(".json"))
  .sort();
/** What these tests read of a family (schemas/model-family.schema.json has it all). */
interface Family {
  name: string;
  adapter: string;
  baseUrl?: string;
  apiKeySecret?: string;
  visibility?: string;
  limits?: Record<string, number>;
  scoring?: { maxTokens?: number };
  models: { id: string; parameters: number; trainingTokens?: number; rlhfSteps?: number }[];
  source?: string;
}
const read = (file: string): Family => JSON.parse(readFileSync(join(DIR, file), "utf8")) as Family;

/** The families served by vLLM, with what their sources publish (see each file's `source`). */
const VLLM = {
  "pythia.json": { name: "pythia", models: 8, trainingTokens: 299_892_736_000 },
  "opt-vllm.json": { name: "opt-vllm", models: 8, trainingTokens: 180e9 },
  "qwen2.5-vllm.json": { name: "qwen2.5-vllm", models: 7, trainingTokens: 18e12 },
} as const;

describe("fixtures/families", () => {
  it("has the vLLM families next to the prize's", () => {
    for (const file of Object.keys(VLLM)) expect(files).toContain(file);
  });

  it.each(files)("%s validates against schemas/model-family.schema.json", (file) => {
    const valid = validateModelFamily(read(file));
    expect(validateModelFamily.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(files)("%s: model ids are unique and models are listed by size, then by RLHF steps", (file) => {
    const { models } = read(file);
    const ids = models.map((model) => model.id);
    expect(new Set(ids).size).toBe(ids.length);
    // A grid family (sizes x RLHF step counts) repeats a size once per step count, in increasing steps.
    models.slice(1).forEach((model, i) => {
      const previous = defined(models[i], `the model before ${model.id}`);
      const order = model.parameters - previous.parameters || (model.rlhfSteps ?? -1) - (previous.rlhfSteps ?? -1);
      expect(order, `${model.id} after ${previous.id}`).toBeGreaterThan(0);
    });
  });

  it("family names are distinct across files", () => {
    const names = files.map((file) => read(file).name);
    expect(new Set(names).size).toBe(names.length);
  });

  describe.each(Object.entries(VLLM))("%s, for vLLM", (file, expected) => {
    const family = read(file);

    it("has the family's name and speaks openai-completions", () => {
      expect(family.name).toBe(expected.name);
      expect(family.adapter).toBe("openai-completions");
    });

    // max_tokens 1 works on every server (recent vLLM takes 0 only with echo): ask for one token and drop it.
    it("asks for one generated token", () => {
      expect(family.scoring?.maxTokens).toBe(1);
    });

    // A placeholder the README says to replace, never a real host.
    it("points at the placeholder host, with the API key in the VLLM_API_KEY secret", () => {
      expect(family.baseUrl).toBe("https://vllm.example.org/v1");
      expect(family.apiKeySecret).toBe("VLLM_API_KEY");
    });

    it("is public", () => {
      expect(family.visibility).toBe("public");
    });

    it("sends 32 prompts a request, 4 requests at once", () => {
      expect(family.limits).toMatchObject({ promptsPerRequest: 32, concurrency: 4 });
    });

    it("has every size its source publishes", () => {
      expect(family.models).toHaveLength(expected.models);
    });

    // vLLM serves a model under its Hugging Face id unless told otherwise.
    it("names each model by its Hugging Face id", () => {
      for (const model of family.models) expect(model.id).toMatch(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/);
    });

    it("gives each model the training tokens its source publishes", () => {
      for (const model of family.models) expect(model.trainingTokens).toBe(expected.trainingTokens);
    });

    it("cites its source", () => {
      expect(family.source).toMatch(/arXiv:\d{4}\.\d{5}/);
    });
  });

  describe("the README's deploy section", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const deploy = readme.slice(readme.indexOf("## Deploying to Cloudflare"));

    it("says to replace the placeholder host", () => {
      expect(deploy).toContain("https://vllm.example.org/v1");
    });

    it("registers each vLLM family by name", () => {
      for (const { name } of Object.values(VLLM)) expect(deploy).toContain(`\`${name}\``);
    });

    it("says to check them, with the CLI or the API", () => {
      expect(deploy).toContain("isv family check");
      expect(deploy).toContain("/v1/review/families/pythia/check");
    });
  });

  describe("the prize's OPT (external results) and OPT on vLLM", () => {
    const prize = read("opt.json");
    const vllm = read("opt-vllm.json");

    it("stay two families with distinct names", () => {
      expect(prize.adapter).toBe("external");
      expect(vllm.name).not.toBe(prize.name);
    });

    // The same nominal sizes, so analyses on either family put a model at the same scale.
    it("give a model the same scale in either", () => {
      expect(vllm.models.map((model) => model.parameters)).toEqual(
        prize.models.map((model) => model.parameters).filter((p) => p < 175e9),
      );
    });
  });
});
