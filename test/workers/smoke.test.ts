import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("serves the index", async () => {
  const response = await exports.default.fetch("http://isv.test/");
  expect(response.status).toBe(200);
});
