/**
 * globalSetup for the workers tests: the reference family's server, over real HTTP on loopback, so tests inside
 * workerd reach a real model the way a deployment reaches a provider. (Its own Worker is tested under
 * wrangler dev in test/node; here it runs in Node to start in a fraction of a second.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { trainReferenceFamily } from "../../src/reference/family";
import { createReferenceApp } from "../../src/reference/server";
import { serveOverHttp } from "../reference-http";

declare module "vitest" {
  export interface ProvidedContext {
    referenceUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const family = trainReferenceFamily(
    readFileSync(join(import.meta.dirname, "..", "..", "src", "reference", "corpus.txt"), "utf8"),
  );
  const server = await serveOverHttp(createReferenceApp({ family: () => family, vars: () => ({}) }));
  project.provide("referenceUrl", `${server.origin}/v1`);
  return server.close;
}
