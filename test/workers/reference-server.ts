/**
 * globalSetup for the workers tests: the reference family's server, over real HTTP on loopback, so tests inside
 * workerd reach a real model the way a deployment reaches a provider. (Its own Worker is tested under
 * wrangler dev in test/node; here it runs in Node to start in a fraction of a second.)
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { trainReferenceFamily } from "../../src/reference/family";
import { createReferenceApp } from "../../src/reference/server";

declare module "vitest" {
  export interface ProvidedContext {
    referenceUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const family = trainReferenceFamily(readFileSync(join(import.meta.dirname, "..", "..", "src", "reference", "corpus.txt"), "utf8"));
  const app = createReferenceApp({ family: () => family, vars: () => ({}) });
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const answer = await app.request(request.url ?? "/", {
      method: request.method ?? "GET",
      headers: Object.entries(request.headers).flatMap(([name, value]) => (typeof value === "string" ? [[name, value] as [string, string]] : [])),
      ...(body.length > 0 ? { body } : {}),
    });
    response.writeHead(answer.status, Object.fromEntries(answer.headers));
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the reference server has no address");
  project.provide("referenceUrl", `http://127.0.0.1:${address.port}/v1`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
