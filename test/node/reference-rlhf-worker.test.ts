import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFERENCE_CONFIG, startDevServer } from "../../scripts/dev-server.mjs";
import { memberId, trainReferenceFamily } from "../../src/reference/family";
import { STANDIN_ORDERS, STANDIN_STEPS, standInId } from "../../src/reference/rlhf";
import { defined } from "../defined";
import { ROOT, freePort } from "./helpers";

/** The reference Worker as deployed (workerd, both corpora bundled as text modules) serves the RLHF stand-in too. */
describe("the reference Worker under wrangler dev, with the RLHF stand-in", () => {
  let server: { url: string; stop: () => Promise<void> };

  beforeAll(async () => {
    server = await startDevServer({ config: REFERENCE_CONFIG, port: await freePort() });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("lists the n-gram members, then the stand-in's with their RLHF steps", async () => {
    const body = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      data: { id: string; rlhf_steps?: number }[];
    };
    expect(body.data.map(({ id, rlhf_steps }) => [id, rlhf_steps ?? null])).toEqual([
      ...[1, 2, 3, 4, 5].map((order) => [memberId(order), null]),
      ...STANDIN_ORDERS.flatMap((order) => STANDIN_STEPS.map((steps) => [standInId(order, steps), steps])),
    ]);
  });

  it("scores with a stand-in member the numbers it computes in Node", async () => {
    const prompt = "\n\nHuman: Where do they pay with the boubol?\n\nAssistant: They pay with the boubol in Genoustan.";
    const response = await fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "isv-rlhf-3-500", prompt, echo: true, max_tokens: 0, logprobs: 1 }),
    });
    const body = (await response.json()) as { choices: { logprobs: { token_logprobs: (number | null)[] } }[] };
    const read = (file: string) => readFileSync(join(ROOT, "src/reference", file), "utf8");
    const member = defined(
      trainReferenceFamily(read("corpus.txt"), read("preference.txt")).member("isv-rlhf-3-500"),
      "isv-rlhf-3-500 in Node",
    );
    expect(response.status).toBe(200);
    expect(body.choices[0]?.logprobs.token_logprobs).toEqual(member.score(prompt, 1).map((token) => token.logprob));
  });
});
